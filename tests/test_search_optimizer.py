"""The generic optimizer: spaces, gated EI, journal resume, failures (no Ray here)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from skipsnn.errors import ConfigError
from skipsnn.search.acquisition import fit_gp, gated_ei, propose, standardize
from skipsnn.search.journal import Journal
from skipsnn.search.optimizer import minimize
from skipsnn.search.space import Param, Space

FAST = dict(raw_samples=64, num_restarts=2, maxiter=20)


def quadratic(p):
    return (p["x"] - 0.3) ** 2 + (math.log(p["y"]) - 1.0) ** 2 + 0.1 * abs(p["k"] - 2)


def mixed_space(feasible=None):
    return Space(
        (Param("x", -1.0, 1.0), Param("y", 0.5, 20.0, log=True), Param("k", 0, 4, kind="int")),
        feasible=feasible,
    )


def test_space_round_trip_log_scale_and_integers():
    space = mixed_space()
    pts = [{"x": -0.25, "y": 3.0, "k": 3}, {"x": 1.0, "y": 0.5, "k": 0}]
    u = space.encode(pts)
    assert u.min() >= 0 and u.max() <= 1
    assert u[1, 1] == 0.0  # log scale: the low bound maps to 0
    back = space.decode(u)
    for a, b in zip(pts, back, strict=True):
        assert b["k"] == a["k"] and isinstance(b["k"], int)
        assert b["x"] == pytest.approx(a["x"]) and b["y"] == pytest.approx(a["y"])
    # mid-point of a log axis is the geometric mean
    assert space.decode(torch.tensor([[0.5, 0.5, 0.5]]))[0]["y"] == pytest.approx(
        math.sqrt(0.5 * 20)
    )


def test_bad_space_definitions_raise_one_sentence():
    with pytest.raises(ConfigError, match="log scale"):
        Param("t", 0.0, 1.0, log=True)
    with pytest.raises(ConfigError, match="low <= high"):
        Param("t", 2.0, 1.0)
    with pytest.raises(ConfigError, match="unique"):
        Space((Param("a", 0, 1), Param("a", 0, 1)))


def test_gated_ei_is_zero_exactly_on_infeasible_points():
    rng = np.random.default_rng(0)
    space = mixed_space()
    pts = space.sample(rng, 8)
    y = standardize(torch.tensor([quadratic(p) for p in pts], dtype=torch.double))
    model = fit_gp(space.encode(pts), y)
    cand = space.encode(space.sample(rng, 50))
    feasible = cand[:, 0] > 0.5  # an arbitrary half of the points
    ei = gated_ei(model, cand, feasible)
    assert torch.all(ei[~feasible] == 0)
    assert torch.all(ei[feasible] > 0)  # EI of a GP is positive everywhere else


def test_discrete_proposals_are_feasible_and_new():
    space = Space(
        (Param("i", 0, 5, kind="int"), Param("j", 0, 5, kind="int")),
        feasible=lambda p: (p["i"] + p["j"]) % 2 == 0,
    )
    observed = [{"i": 0, "j": 0}, {"i": 2, "j": 2}, {"i": 4, "j": 0}]
    values = [1.0, 0.5, 2.0]
    pending = [{"i": 1, "j": 1}]
    batch = propose(space, observed, values, pending, 4, seed=0)
    seen = {(p["i"], p["j"]) for p in observed + pending}
    assert len(batch) == 4 and len({(p["i"], p["j"]) for p in batch}) == 4
    for p in batch:
        assert space.is_feasible(p) and (p["i"], p["j"]) not in seen


def test_continuous_proposals_respect_delta():
    space = mixed_space(feasible=lambda p: p["x"] + 0.1 * p["k"] <= 0.0)
    rng = np.random.default_rng(1)
    pts = space.sample_feasible(rng, 6)
    batch = propose(space, pts, [quadratic(p) for p in pts], [], 3, seed=2, **FAST)
    assert len(batch) == 3
    assert all(space.is_feasible(p) for p in batch)


def test_minimize_finds_a_good_point_and_beats_its_initial_design():
    space = mixed_space()
    r = minimize(quadratic, space, budget=10, seed=0, n_initial=5, **FAST)
    assert r.n_finished == 10
    initial_best = min(t.value for t in r.trials[:5])
    assert r.best_value < 0.6 < initial_best
    # best_so_far is monotone and ends at the best value
    hist = r.best_so_far()
    assert all(a >= b for a, b in zip(hist, hist[1:], strict=False)) and hist[-1] == r.best_value


def test_random_strategy_is_seeded():
    space = mixed_space()
    a = minimize(quadratic, space, budget=5, strategy="random", seed=3)
    b = minimize(quadratic, space, budget=5, strategy="random", seed=3)
    c = minimize(quadratic, space, budget=5, strategy="random", seed=4)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path):
    calls = []

    def flaky(p):
        calls.append(p)
        if len(calls) % 3 == 1:
            raise RuntimeError("diverged")
        if len(calls) % 3 == 2:
            return float("nan")
        return quadratic(p)

    log = tmp_path / "journal.jsonl"
    r = minimize(flaky, mixed_space(), budget=9, seed=0, n_initial=7, journal=log, **FAST)
    assert len(calls) == 9 and r.n_failed == 6 and r.n_finished == 3
    errors = [t.error for t in r.trials if t.status == "failed"]
    assert any("RuntimeError: diverged" in e for e in errors)
    assert any("nan" in e for e in errors)
    records = Journal(log).read()
    failed = [rec for rec in records if rec["event"] == "failed"]
    assert len(failed) == 6 and all(rec["error"] for rec in failed)
    assert r.best_value == min(t.value for t in r.trials if t.status == "finished")


def test_bad_arguments_raise_config_error():
    with pytest.raises(ConfigError, match="budget"):
        minimize(quadratic, mixed_space(), budget=0)
    with pytest.raises(ConfigError, match="strategy"):
        minimize(quadratic, mixed_space(), budget=2, strategy="grid")
    with pytest.raises(ConfigError, match="workers"):
        minimize(quadratic, mixed_space(), budget=2, workers=0)
    with pytest.raises(ConfigError, match="no point"):
        minimize(quadratic, mixed_space(feasible=lambda p: False), budget=2)


KILL_SCRIPT = """
import sys, time
from skipsnn.search.optimizer import minimize
from skipsnn.search.space import Param, Space

def slow(p):
    time.sleep(0.2)
    return (p["x"] - 0.3) ** 2 + abs(p["k"] - 2)

space = Space((Param("x", -1.0, 1.0), Param("k", 0, 4, kind="int")))
minimize(slow, space, budget=7, seed=2, n_initial=3, journal=sys.argv[1],
         raw_samples=32, num_restarts=2, maxiter=10)
"""


def test_a_journal_trial_without_a_parameter_of_the_space_is_one_sentence(tmp_path):
    # A hand-edited journal: once a KeyError traceback from the point's key.
    log = tmp_path / "journal.jsonl"
    space = Space((Param("x", -1.0, 1.0), Param("k", 0, 4, kind="int")))
    Journal(log).append({"event": "proposed", "trial": 0, "phase": "main", "params": {"x": 0.1}})
    Journal(log).append({"event": "finished", "trial": 0, "phase": "main", "value": 1.0})
    with pytest.raises(ConfigError, match="trial 0 of phase main has no 'k'"):
        minimize(lambda p: 0.0, space, budget=2, journal=log, resume=True, **FAST)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"x": 5.0, "k": 1}, "has x = 5.0, outside the search's range [-1, 1]"),
        ({"x": 0.1, "k": 10**30}, f"has k = {10**30}, outside"),
        ({"x": 0.1, "k": 1.5}, "has k = 1.5, not a whole number"),
    ],
)
def test_a_journal_trial_outside_the_space_is_refused(tmp_path, params, says):
    # Every proposal lies in the box, so such a trial is from another search or damage.
    log = tmp_path / "journal.jsonl"
    space = Space((Param("x", -1.0, 1.0), Param("k", 0, 4, kind="int")))
    Journal(log).append({"event": "proposed", "trial": 0, "phase": "main", "params": params})
    Journal(log).append({"event": "finished", "trial": 0, "phase": "main", "value": 1.0})
    with pytest.raises(ConfigError, match=re.escape(f"trial 0 of phase main {says}")):
        minimize(lambda p: 0.0, space, budget=2, journal=log, resume=True, **FAST)


def test_a_journal_trial_on_the_bounds_of_a_log_scale_is_resumed(tmp_path):
    log = tmp_path / "journal.jsonl"
    p = Param("lr", 1e-4, 1e-1, log=True)
    params = {"lr": p.from_unit(1.0)}
    Journal(log).append({"event": "proposed", "trial": 0, "phase": "main", "params": params})
    Journal(log).append({"event": "finished", "trial": 0, "phase": "main", "value": 1.0})
    r = minimize(lambda q: q["lr"], Space((p,)), budget=2, journal=log, resume=True, **FAST)
    assert len(r.trials) == 2


@pytest.mark.slow
def test_journal_survives_sigkill_and_resume_matches_an_uninterrupted_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "journal.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(log)])
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if log.exists() and log.read_text().count('"finished"') >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the search ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    n_done = sum(r["event"] == "finished" for r in Journal(log).read())
    assert 4 <= n_done < 7
    with open(log, "ab") as f:  # and a record torn in the middle of a write
        f.write(b'{"event": "finished", "tri')

    def f(p):
        return (p["x"] - 0.3) ** 2 + abs(p["k"] - 2)

    space = Space((Param("x", -1.0, 1.0), Param("k", 0, 4, kind="int")))
    calls = []

    def counting(p):
        calls.append(p)
        return f(p)

    kw = dict(budget=7, seed=2, n_initial=3, raw_samples=32, num_restarts=2, maxiter=10)
    with pytest.raises(ConfigError, match="resume"):
        minimize(counting, space, journal=log, **kw)
    resumed = minimize(counting, space, journal=log, resume=True, **kw)
    assert len(calls) == 7 - n_done  # nothing finished is run again
    full = minimize(f, space, **kw)
    finished = [r["trial"] for r in Journal(log).read() if r["event"] == "finished"]
    assert len(finished) == len(set(finished)) == 7
    assert [t.params for t in resumed.trials] == [t.params for t in full.trials]
    assert resumed.best_value == full.best_value and resumed.best_params == full.best_params
    assert all(json.loads(line) for line in log.read_text().splitlines())  # repaired
    again = minimize(counting, space, journal=log, resume=True, **kw)  # a finished search
    assert len(calls) == 7 - n_done and again.best_value == full.best_value


def test_prior_observations_inform_the_gp_but_are_not_trials():
    space = Space((Param("i", 0, 4, kind="int"),))
    seen = []

    def f(p):
        seen.append(p["i"])
        return float((p["i"] - 3) ** 2)

    r = minimize(f, space, budget=3, n_initial=1, prior=[({"i": 0}, -1.0)], **FAST)
    assert len(r.trials) == 3 and len(seen) == 3
    assert 0 not in seen  # the known point is not evaluated again
    assert r.best_value == min((i - 3) ** 2 for i in seen)  # the prior is not a result


def test_an_ensemble_surrogate_plugs_into_the_proposal(monkeypatch):
    # benchmarks/bo_variants.py swaps in ensembles of GPs (one per hyperparameter sample),
    # which hold a copy of the data per member: proposals must read the data back once.
    import warnings

    from botorch.models.map_saas import EnsembleMapSaasSingleTaskGP

    from skipsnn.search import acquisition

    def ensemble(x, y, seed=0, noise=None, kernel="rbf"):
        torch.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = EnsembleMapSaasSingleTaskGP(
                x.double(), y.double().reshape(-1, 1), num_taus=3, outcome_transform=None
            )
        return model.eval()  # the prior's hyperparameters are enough here

    monkeypatch.setattr(acquisition, "fit_gp", ensemble)
    monkeypatch.setattr(acquisition, "believer", lambda model, x: model)
    space = mixed_space(feasible=lambda p: p["x"] + 0.1 * p["k"] <= 0.0)
    pts = space.sample_feasible(np.random.default_rng(1), 6)
    (point,) = propose(space, pts, [quadratic(p) for p in pts], [], 1, seed=2, **FAST)
    assert space.is_feasible(point)
    assert point not in pts


def test_the_matern_gamma_kernel_is_the_classic_prior_of_the_hartmann_runs():
    # docs/search.md measures `classic-prior` with benchmarks/bo_variants.py; the library's
    # kernel="matern-gamma" must be that same GP, fitted to the same hyperparameters.
    import importlib.util
    from pathlib import Path

    from gpytorch.kernels import MaternKernel, ScaleKernel

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bo_variants.py"
    spec = importlib.util.spec_from_file_location("bo_variants", path)
    bo_variants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bo_variants)
    space = mixed_space()
    pts = space.sample(np.random.default_rng(3), 12)
    x, y = space.encode(pts), standardize(torch.tensor([quadratic(p) for p in pts]))
    ours = fit_gp(x, y, seed=4, noise=1e-4, kernel="matern-gamma")
    theirs = bo_variants.classic_gp(x, y, seed=4, noise=1e-4)
    assert isinstance(ours.covar_module, ScaleKernel)
    assert isinstance(ours.covar_module.base_kernel, MaternKernel)
    assert ours.covar_module.base_kernel.nu == 2.5
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    default = fit_gp(x, y, seed=4, noise=1e-4)
    assert not isinstance(default.covar_module, ScaleKernel)  # rbf stays botorch's default


def test_fantasies_and_trust_region_boxes_keep_the_chosen_kernel():
    from gpytorch.kernels import ScaleKernel

    from skipsnn.search.acquisition import _lengthscales, believer

    space = mixed_space()
    pts = space.sample(np.random.default_rng(5), 10)
    x, y = space.encode(pts), standardize(torch.tensor([quadratic(p) for p in pts]))
    model = fit_gp(x, y, seed=0, noise=1e-4, kernel="matern-gamma")
    new = space.encode(space.sample(np.random.default_rng(6), 2))
    fantasy = believer(model, new)
    assert isinstance(fantasy.covar_module, ScaleKernel)
    probe = space.encode(space.sample(np.random.default_rng(7), 5))
    with torch.no_grad():  # same hyperparameters: the old points are predicted as before
        torch.testing.assert_close(
            fantasy.covar_module(probe, x).to_dense(), model.covar_module(probe, x).to_dense()
        )
    ls = model.covar_module.base_kernel.lengthscale.detach().reshape(-1)
    torch.testing.assert_close(_lengthscales(model, space.dim), ls.double())


def test_minimize_and_the_mmnd_search_pass_the_kernel_to_every_fit(monkeypatch):
    from skipsnn.config import Config
    from skipsnn.search import acquisition, strategies
    from skipsnn.search.mmnd import MMNDProblem
    from skipsnn.search.settings import SearchSettings

    seen = []
    fit = acquisition.fit_gp

    def recording(*args, kernel="rbf", **kwargs):
        seen.append(kernel)
        return fit(*args, kernel=kernel, **kwargs)

    monkeypatch.setattr(acquisition, "fit_gp", recording)
    space = mixed_space()
    minimize(quadratic, space, budget=6, n_initial=3, seed=0, kernel="matern-gamma", **FAST)
    assert seen and set(seen) == {"matern-gamma"}
    with pytest.raises(ConfigError, match="GP kernel"):
        minimize(quadratic, space, budget=6, kernel="matern")

    class Stop(Exception):
        pass

    calls = []

    def fake_minimize(*args, **kwargs):
        calls.append(kwargs)
        raise Stop

    monkeypatch.setattr(strategies, "minimize", fake_minimize)
    settings = SearchSettings.from_dict({"gp_kernel": "matern-gamma"})
    assert SearchSettings.from_dict(settings.to_dict()) == settings  # the config round-trips
    with pytest.raises(Stop):
        strategies.run_strategy(MMNDProblem(Config(), settings), quadratic, "dual", 2, 2)
    assert calls[0]["kernel"] == "matern-gamma"
    with pytest.raises(ConfigError, match="search.gp_kernel"):
        SearchSettings.from_dict({"gp_kernel": "matern"})
