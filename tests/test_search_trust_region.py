"""Trust-region restarts: the replayed state, the box and tabu in proposals, Delta kept."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skipsnn.search.acquisition import fit_gp, propose, standardize
from skipsnn.search.optimizer import minimize
from skipsnn.search.space import Param, Space
from skipsnn.search.trust_region import TrustRegionSettings, replay

FAST = dict(raw_samples=64, num_restarts=2, maxiter=20)
TR = TrustRegionSettings(length_init=0.8, length_min=0.15, success_tol=2, failure_tol=2)
ALL = [0, 1]
LS = torch.tensor([0.1, 0.1], dtype=torch.double)


def _x(rows):
    return torch.tensor(rows, dtype=torch.double)


def test_replay_grows_on_successes_and_shrinks_on_failures():
    x = _x([[0.5, 0.5], [0.2, 0.2], [0.21, 0.2], [0.22, 0.2], [0.9, 0.9], [0.8, 0.1]])
    y = [1.0, 0.5, 0.3, 0.1, 2.0, 2.0]  # init: 2 points; then 2 successes, 2 failures
    tr = replay(x[:4], y[:4], 2, TR, ALL, LS)
    assert tr.length == 1.6 and tr.best == 0.1 and torch.equal(tr.center, x[3])
    tr = replay(x, y, 2, TR, ALL, LS)
    assert tr.length == 0.8 and tr.restarts == 0 and tr.best == 0.1


def test_replay_restarts_a_converged_run_away_from_its_basin():
    x = _x([[0.5, 0.5], [0.2, 0.2], [0.9, 0.9]] + [[0.21 + 0.01 * i, 0.2] for i in range(6)])
    y = [1.0, 0.5, 0.7] + [0.6] * 6  # six failures: 0.8 -> 0.4 -> 0.2 -> 0.1 < 0.15
    tr = replay(x, y, 3, TR, ALL, LS)
    assert tr.restarts == 1 and len(tr.tabu) == 1 and torch.equal(tr.tabu[0], x[1])
    assert tr.length == TR.length_init
    # the new run starts from the best point outside the tabu box (+- one lengthscale):
    # [0.5, 0.5] (1.0) and [0.9, 0.9] (0.7) are outside, the six failures inside
    assert tr.best == 0.7 and torch.equal(tr.center, x[2])
    assert tr.in_tabu(_x([[0.25, 0.25], [0.35, 0.2]])).tolist() == [True, False]
    # a pure function of the observations: replaying again gives the same state
    again = replay(x, y, 3, TR, ALL, LS)
    assert again.restarts == tr.restarts and torch.equal(again.center, tr.center)


def test_a_run_that_never_improved_does_not_restart_when_asked():
    settings = TrustRegionSettings(length_min=0.15, failure_tol=1, min_run_successes=1)
    x = _x([[0.5, 0.5]] + [[0.1 * i, 0.9] for i in range(8)])
    tr = replay(x, [0.0] + [1.0] * 8, 1, settings, ALL, LS)
    assert tr.restarts == 0 and tr.length == settings.length_min


def test_proposals_stay_in_the_box_and_out_of_the_tabu():
    space = Space((Param("a", 0.0, 1.0), Param("b", 0.0, 1.0)))
    rng = np.random.default_rng(0)
    pts = [{"a": 0.5 * p["a"], "b": 0.5 * p["b"]} for p in space.sample(rng, 12)]

    def f(p):  # the minimum (1, 1) is far outside the box around the best point seen
        return (p["a"] - 1.0) ** 2 + (p["b"] - 1.0) ** 2

    settings = TrustRegionSettings(length_init=0.2, length_min=0.01)
    vals = [f(p) for p in pts]
    batch = propose(space, pts, vals, [], 2, seed=1, trust_region=settings, n_start=12, **FAST)
    x, y = space.encode(pts), torch.tensor(vals, dtype=torch.double)
    model = fit_gp(x, standardize(y), 1, None)
    tr = replay(x, vals, 12, settings, ALL, torch.ones(2))
    ls = model.covar_module.lengthscale.detach().reshape(-1)
    w = ls / ls.mean()
    lb, ub = tr.box(settings, w / w.log().mean().exp(), ALL, 2)
    assert (ub - lb).max() < 0.5 and ub.max() < 0.9
    u = space.encode(batch)
    assert ((u >= lb - 1e-9) & (u <= ub + 1e-9)).all()
    plain = propose(space, pts, vals, [], 1, seed=1, **FAST)  # without: towards (1, 1)
    assert not ((space.encode(plain) <= ub + 1e-9).all())
    # a converged run: the neighbourhood of its incumbent is excluded from every proposal
    best = min(pts, key=f)
    near = [{"a": best["a"] + 0.001 * i, "b": best["b"]} for i in range(1, 7)]
    pts2 = pts + near
    vals = [f(p) for p in pts] + [f(best) + 1e-9] * 6
    tight = TrustRegionSettings(length_min=0.15, failure_tol=2, tabu_lengthscales=1.0)
    batch = propose(space, pts2, vals, [], 2, seed=2, trust_region=tight, n_start=12, **FAST)
    x2, y2 = space.encode(pts2), torch.tensor(vals, dtype=torch.double)
    model = fit_gp(x2, standardize(y2), 2, None)  # the GP propose fits (same seed)
    tr = replay(x2, vals, 12, tight, ALL, model.covar_module.lengthscale.detach().reshape(-1))
    assert tr.restarts == 1 and tr.in_tabu(space.encode(near)).all()
    assert not tr.in_tabu(space.encode(batch)).any()


def test_minimize_with_trust_region_keeps_delta_and_integers():
    space = Space(
        (Param("x", -1.0, 1.0), Param("y", 0.5, 20.0, log=True), Param("k", 0, 4, kind="int")),
        feasible=lambda p: p["x"] + 0.1 * p["k"] <= 0.2,
    )

    def f(p):
        return (p["x"] - 0.1) ** 2 + (math.log(p["y"]) - 1.0) ** 2 + 0.1 * abs(p["k"] - 2)

    settings = TrustRegionSettings(length_min=0.3, failure_tol=1)  # restarts within the budget
    r = minimize(f, space, budget=14, seed=0, n_initial=4, trust_region=settings, **FAST)
    assert r.n_finished == 14
    assert all(space.is_feasible(t.params) and isinstance(t.params["k"], int) for t in r.trials)
    again = minimize(f, space, budget=14, seed=0, n_initial=4, trust_region=settings, **FAST)
    assert [t.params for t in again.trials] == [t.params for t in r.trials]  # seeded


def test_an_interrupted_search_with_restarts_resumes_with_the_same_proposals(tmp_path):
    space = Space((Param("x", -1.0, 1.0), Param("y", 0.5, 20.0, log=True)))

    def f(p):
        return math.sin(5 * p["x"]) + (math.log(p["y"]) - 1.0) ** 2

    settings = TrustRegionSettings(length_min=0.3, failure_tol=1)
    kw = dict(budget=12, seed=4, n_initial=4, trust_region=settings, **FAST)
    calls, killed = [], []

    def interrupted(p):
        if len(calls) == 8 and not killed:
            killed.append(True)
            raise KeyboardInterrupt  # a kill in the middle of the ninth trial
        calls.append(p)
        return f(p)

    log = tmp_path / "journal.jsonl"
    with pytest.raises(KeyboardInterrupt):
        minimize(interrupted, space, journal=log, **kw)
    resumed = minimize(interrupted, space, journal=log, resume=True, **kw)
    full = minimize(f, space, **kw)
    assert len(calls) == 12  # the trial cut short is run again, nothing else twice
    assert [t.params for t in resumed.trials] == [t.params for t in full.trials]
    x = space.encode([t.params for t in full.trials])
    tr = replay(x, [t.value for t in full.trials], 4, settings, [0, 1], torch.ones(2))
    assert tr.restarts >= 1  # the resumed part crossed a restart
