"""The mMND search problem: V enumeration, Delta over V and W, cutoff, settings."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from skipsnn.config import Config, skip_feasible
from skipsnn.errors import ConfigError
from skipsnn.search.acquisition import feasible_unevaluated, fit_gp, gated_ei, standardize
from skipsnn.search.mmnd import MMNDProblem, cutoff_period
from skipsnn.search.settings import SearchSettings

SETTINGS = dict(n_layers=[1, 3], n_dynamic=[1, 3], n_skip=[0, 2], l_start=[0, 2], l_end=[2, 3])


def problem(**extra) -> MMNDProblem:
    return MMNDProblem(Config(), SearchSettings.from_dict({**SETTINGS, **extra}))


def brute_force_feasible(cfg: Config, s: SearchSettings, max_params=None, input_shape=None):
    """Independent restatement of Delta over V, point by point."""
    from skipsnn.network import count_params

    out = set()
    for m, d, k, a, e in itertools.product(
        range(s.n_layers[0], s.n_layers[1] + 1),
        range(s.n_dynamic[0], s.n_dynamic[1] + 1),
        range(s.n_skip[0], s.n_skip[1] + 1),
        range(s.l_start[0], s.l_start[1] + 1),
        range(s.l_end[0], s.l_end[1] + 1),
    ):
        if k == 0 and (a, e) != (s.l_start[0], s.l_end[0]):
            continue  # one canonical no-skip point per (m, d)
        if k > 0 and not (a >= 0 and e <= m and e - (a + k - 1) >= 2):
            continue
        if d > min(layer.channels for layer in cfg.network.layers[:m]):
            continue
        if max_params is not None:
            if count_params(cfg.with_architecture(m, d, k, a, e), input_shape) > max_params:
                continue
        out.add((m, d, k, a, e))
    return out


def test_v_enumeration_holds_exactly_the_feasible_points():
    p = problem()
    space = p.v_space()
    got = {tuple(pt[n] for n in space.names) for pt in feasible_unevaluated(space, set())}
    want = brute_force_feasible(p.config, p.settings)
    assert got == want
    assert len(got) > 5
    assert all(skip_feasible(m, k, a, e) for m, _, k, a, e in got)
    assert (3, 2, 1, 0, 2) in got and (3, 2, 1, 1, 3) in got and (2, 2, 1, 1, 2) not in got


def test_v_enumeration_respects_a_parameter_budget():
    from skipsnn.network import count_params

    shape = (2, 16, 16)
    sizes = sorted(
        count_params(Config().with_architecture(m, 1, 0, 0, 2), shape) for m in (1, 2, 3)
    )
    budget = sizes[1]  # excludes the largest plain network at least
    p = MMNDProblem(Config(), SearchSettings.from_dict({**SETTINGS, "max_params": budget}), shape)
    got = {
        tuple(pt[n] for n in p.v_space().names) for pt in feasible_unevaluated(p.v_space(), set())
    }
    assert got == brute_force_feasible(p.config, p.settings, budget, shape)
    assert got < brute_force_feasible(p.config, p.settings)


def test_gated_ei_is_zero_on_infeasible_architectures():
    p = problem()
    space = p.v_space()
    pts = list(space.enumerate())
    feasible = torch.tensor([space.is_feasible(q) for q in pts])
    assert feasible.any() and (~feasible).any()
    obs = [q for q, ok in zip(pts, feasible, strict=True) if ok][:5]
    y = standardize(
        torch.tensor([float(q["n_layers"] + q["n_skip"]) for q in obs], dtype=torch.double)
    )
    ei = gated_ei(fit_gp(space.encode(obs), y), space.encode(pts), feasible)
    assert torch.all(ei[~feasible] == 0) and torch.all(ei[feasible] >= 0)


def test_w_delta_ordering_dt_and_cutoff():
    p = problem()
    ok = {"a_0": 0.0, "tau_m_0": 2.0, "r_m_0": 2.0, "a_1": 0.0, "tau_m_1": 8.0, "r_m_1": 8.0}
    assert p.w_feasible(ok, 2)
    assert not p.w_feasible({**ok, "tau_m_1": 2.1}, 2)  # not ordered with ratio 1.2
    assert not p.w_feasible({**ok, "tau_m_0": 0.9}, 2)  # tau_m below dt = 1
    assert p.w_space(2).is_feasible(ok)
    # cutoff: g = 0.5, dV = r g / tau; T_c = tau ln(1 / (1 - dV)) with v_th=1, a=0
    c = problem(cutoff={"g": 0.5, "period_min": 1.0, "period_max": 10.0})
    tc0 = cutoff_period(0.0, 2.0, 2.0, 0.5, 1.0, 0.0)
    assert tc0 == pytest.approx(2.0 * math.log(1 / (1 - 0.5)))
    assert cutoff_period(0.0, 8.0, 8.0, 0.5, 1.0, 0.0) == pytest.approx(8 * math.log(2))
    assert c.w_feasible(ok, 2)  # 1.39 and 5.55 lie in [1, 10]
    assert not c.w_feasible({**ok, "tau_m_1": 20.0, "r_m_1": 20.0}, 2)  # 13.9 > 10
    assert cutoff_period(0.0, 2.0, 5.0, 0.5, 1.0, 0.0) == math.inf  # one input suffices
    assert not c.w_feasible({**ok, "r_m_0": 5.0}, 2)
    assert math.isnan(cutoff_period(1.5, 2.0, 2.0, 0.5, 1.0, 0.0))  # tonic: no cutoff


def test_joint_space_and_configs():
    p = problem()
    space = p.joint_space()
    assert space.dim == 5 + 3 * 3
    pt = {"n_layers": 3, "n_dynamic": 2, "n_skip": 1, "l_start": 0, "l_end": 2}
    pt.update({"a_0": 0.1, "tau_m_0": 3.0, "r_m_0": 2.0, "a_1": 0.0, "tau_m_1": 9.0, "r_m_1": 5.0})
    pt.update({"a_2": 0.0, "tau_m_2": 1.1, "r_m_2": 1.0})  # unused third dynamic: ignored
    assert p.joint_feasible(pt)
    cfg = p.config_for(pt)
    assert cfg.n_layers == 3 and cfg.network.n_dynamic == 2 and cfg.skip_edges() == [(0, 2)]
    assert [d.tau_m for d in cfg.network.dynamics] == [3.0, 9.0]
    assert not p.joint_feasible({**pt, "tau_m_1": 3.1})
    assert len(p.default_dynamics(3)) == 3


def test_settings_reject_bad_input_with_one_sentence():
    with pytest.raises(ConfigError, match="unknown key"):
        SearchSettings.from_dict({"n_layer": [1, 2]})
    with pytest.raises(ConfigError, match="low <= high"):
        SearchSettings.from_dict({"n_layers": [3, 1]})
    with pytest.raises(ConfigError, match="cutoff"):
        SearchSettings.from_dict({"cutoff": {"g": 1.0}})
    with pytest.raises(ConfigError, match="positive"):
        SearchSettings.from_dict({"tau_m": [0.0, 5.0]})


def synthetic_loss(p):
    """A cheap stand-in for training: prefers 2 layers, one skip, tau_m near 4 and 12."""
    loss = abs(p["n_layers"] - 2) + (0 if p["n_skip"] == 1 else 0.5)
    n = int(p["n_dynamic"])
    if "tau_m_0" in p:
        targets = [4.0, 12.0, 30.0]
        loss += sum((math.log(p[f"tau_m_{i}"]) - math.log(targets[i])) ** 2 for i in range(n))
    return loss


@pytest.mark.parametrize("strategy", ["dual", "joint", "random"])
def test_strategies_respect_budgets_phases_and_delta(tmp_path, strategy):
    from skipsnn.search.journal import Journal
    from skipsnn.search.strategies import run_strategy, with_default_dynamics

    small = {
        "n_layers": [1, 2],
        "n_dynamic": [1, 2],
        "n_skip": [0, 1],
        "l_start": [0, 0],
        "l_end": [2, 2],
        "raw_samples": 32,
        "num_restarts": 2,
        "n_initial": 2,
    }
    p = MMNDProblem(Config(), SearchSettings.from_dict(small))
    log = tmp_path / "j.jsonl"

    def objective(params):  # phase V trials train with the default dynamics, as in training
        return synthetic_loss(params if "tau_m_0" in params else with_default_dynamics(p, params))

    res = run_strategy(p, objective, strategy, 3, 2, seed=1, journal=log)
    phases = [r["phase"] for r in Journal(log).read() if r["event"] == "finished"]
    want = {"dual": ["V"] * 3 + ["W"] * 2, "joint": ["joint"] * 5, "random": ["random"] * 5}
    assert phases == want[strategy]
    assert res.best_value == min(t.value for ph in res.phases for t in ph.trials)
    best = res.best_params
    assert p.v_feasible(best) and p.w_feasible(best, best["n_dynamic"])
    assert synthetic_loss(best) == pytest.approx(res.best_value)
    for ph in res.phases:
        for t in ph.trials:
            full = {**(res.phases[0].best_params if ph.phase == "W" else {}), **t.params}
            assert p.v_feasible(full)
    summary = res.summary(p)
    assert len(summary["best"]["dynamics"]) == best["n_dynamic"]
