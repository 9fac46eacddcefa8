"""Theorem 1's solver: verified networks, non-tonic and excitatory, with a skip off the integers.

Every returned network is re-simulated here from its JSON by a separate event-driven
simulator written in this file (it does not use `skipsnn.neuron`), and its period is
measured over whole cycles of the construction.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from skipsnn.errors import ParameterError
from skipsnn.neuron import NeuronParams, is_tonic
from skipsnn.theory import approximate_period
from skipsnn.theory.approximate import PeriodNetwork
from skipsnn.theory.constructions import (
    Plan,
    build,
    cover_layers,
    cover_stages,
    divider_layers,
    halving_stages,
    uncovered,
)

GRID_T_IN = (7.0, 10.0, 13.0)
GRID_RATIOS = np.geomspace(1.04, 4.6, 16)


def simulate_json(net: dict, t_in: float, n_inputs: int) -> list[np.ndarray]:
    """Event-driven simulation of a network given as `PeriodNetwork.to_dict()` output."""
    trains = [t_in * np.arange(1, n_inputs + 1)]
    for layer in net["layers"]:
        p = layer["neuron"]
        assert p["a"] < p["v_th"]  # the model below has no tonic firing
        events: dict[float, float] = {}
        for inp in layer["inputs"]:
            dv = p["r_m"] * inp["g"] / p["tau_m"]
            for t in trains[inp["from"]]:
                events[t] = events.get(t, 0.0) + dv  # simultaneous inputs are summed
        v, last, out = p["v_reset"], 0.0, []
        for t in sorted(events):
            v = p["a"] + (v - p["a"]) * math.exp(-(t - last) / p["tau_m"]) + events[t]
            last = t
            if v >= p["v_th"]:
                out.append(t)
                v = p["v_reset"]
        trains.append(np.asarray(out))
    return trains


def independent_period(result, cycles: int = 8) -> float:
    """Mean period over the last ``cycles - 2`` whole cycles of the construction."""
    slots = result.plan.cycle_slots
    t_in = result.t_in
    out = simulate_json(result.network.to_dict(), t_in, cycles * slots + 1)[-1]
    lo, hi = 2 * slots * t_in, cycles * slots * t_in  # window (lo, hi]: whole cycles
    count = np.count_nonzero((out > lo + 1e-9 * t_in) & (out <= hi + 1e-9 * t_in))
    assert count > 0
    return (hi - lo) / count


def integer_within(t_in, t_out, eps):
    return abs(round(t_out / t_in) * t_in - t_out) <= eps and round(t_out / t_in) >= 1


def check(r, base=None):
    assert r.found, (r.t_in, r.t_out, r.to_dict()["closest"])
    assert abs(r.measured_period - r.t_out) <= r.eps
    layers = r.network.layers
    assert not any(is_tonic(ly.neuron) for ly in layers)
    assert all(g > 0 for ly in layers for _, g in ly.inputs)  # excitatory only
    assert r.setting().startswith("non-tonic, excitatory")
    if not integer_within(r.t_in, r.t_out, r.eps):
        assert r.network.skips, r.plan
    assert abs(independent_period(r) - r.t_out) <= r.eps, r.plan
    if base is not None:  # v_th, v_reset, a, R_m come from the base neuron
        for ly in layers:
            assert (ly.neuron.v_th, ly.neuron.v_reset, ly.neuron.a) == (
                base.v_th,
                base.v_reset,
                base.a,
            )


@pytest.mark.parametrize("t_in", GRID_T_IN)
def test_done_when_grid(t_in):
    """t_in in {7, 10, 13}, 16 ratios in [1.04, 4.6], eps = 1% of t_out."""
    for ratio in GRID_RATIOS:
        t_out = ratio * t_in
        check(approximate_period(t_in, t_out, 0.01 * t_out))


def random_base(rng) -> NeuronParams:
    v_th = rng.uniform(0.5, 2.0)
    v_reset = v_th - rng.uniform(0.3, 2.0)
    a = v_th - rng.uniform(0.05, 2.5)
    return NeuronParams(a, 10 ** rng.uniform(0.0, 2.0), 10 ** rng.uniform(-1, 1), v_th, v_reset)


@pytest.mark.parametrize("seed", range(4))
def test_random_ratios_and_random_base_neurons(seed):
    rng = np.random.default_rng(seed)
    for _ in range(6):
        base = random_base(rng)
        t_in = 10 ** rng.uniform(-0.5, 1.5)
        t_out = rng.uniform(1.02, 6.0) * t_in
        check(approximate_period(t_in, t_out, 0.01 * t_out, base), base)


@pytest.mark.parametrize("seed", range(3))
def test_cover_construction_fires_p_minus_m_per_block(seed):
    """Random n, P and stage sets on random base neurons: P - m spikes in every block."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(5):
        n, big_p = int(rng.integers(1, 4)), int(rng.integers(4, 64))
        odd = list(range(3, big_p, 2))
        k = int(rng.integers(0, 4))
        stages = tuple(
            sorted(int(x) for x in rng.choice(odd, size=min(len(odd), k), replace=False))
        )
        m = uncovered(big_p, stages)
        plan = Plan("cover", Fraction(n * big_p, big_p - m), 0, (n, big_p, *stages))
        t_in = float(rng.uniform(1, 20))
        net = PeriodNetwork(tuple(build(plan, random_base(rng), t_in)))
        assert not any(is_tonic(ly.neuron) for ly in net.layers)
        out = simulate_json(net.to_dict(), t_in, 6 * n * big_p + 1)[-1]
        block = n * big_p * t_in
        for k in range(1, 6):  # block k: (k block, (k + 1) block]
            inside = (out > k * block + 1e-9 * t_in) & (out <= (k + 1) * block + 1e-9 * t_in)
            assert np.count_nonzero(inside) == big_p - m, (n, big_p, stages, k)
        if stages:
            assert net.skips


def test_cover_stages_leave_exactly_m_uncovered():
    rng = np.random.default_rng(7)
    for big_p in [3, 4, 5, 7, 8, 9, 25, 40, 53, 63, 64, 101, 257, 400]:
        for m, stages in cover_stages(big_p).items():
            assert uncovered(big_p, stages) == m
            assert all(s % 2 == 1 and 3 <= s < big_p for s in stages)
        for m in rng.integers(1, big_p // 2 + 1, size=5):
            st = halving_stages(big_p, int(m))
            assert uncovered(big_p, st) == m
            # the layer count grows like log2(P / (2m + 1))
            assert len(st) <= max(0, math.ceil(math.log2(big_p / (2 * m + 1)))) + 1


def test_layers_grow_like_log_of_one_over_eps():
    """Ratio 1 + 1/k needs block P ~ k and ~log2(k) stages: layers grow like log2(1 / eps)."""
    layers = []
    for p in [5, 9, 17, 33, 65, 129, 257]:
        st = halving_stages(p, 1)
        layers.append(cover_layers(1, p, st))
        assert cover_layers(1, p, st) <= divider_layers(p) + 2 * math.ceil(math.log2(p / 3)) + 2
    assert layers == sorted(layers)


def test_the_docs_layer_bound_holds():
    """docs/theory.md 5.4: P = ceil(2 n t_in / eps) reaches rho within eps in the stated layers."""
    rng = np.random.default_rng(11)
    for _ in range(150):
        rho, rel = rng.uniform(1.0, 6.0), 10 ** rng.uniform(-3.5, -1)  # rel = eps / t_in
        n = math.floor(rho)
        big_p = math.ceil(2 * n / rel)
        f = big_p * (1 - n / rho)
        ms = {min(big_p // 2, max(0, k)) for k in (math.floor(f), math.ceil(f), big_p // 2)}
        err, m = min((abs(n * big_p / (big_p - m) - rho), m) for m in ms)
        if abs(2 * n - rho) < err:  # the chain D(2n)
            err, layers = abs(2 * n - rho), divider_layers(2 * n)
        elif m == 0:
            layers = divider_layers(n)
        else:
            st = halving_stages(big_p, m)
            assert uncovered(big_p, st) == m
            layers = cover_layers(n, big_p, st)
        assert err <= rel
        assert layers <= math.log2(rho) + 3 * math.log2(1 + 2 * rho / rel) + 3


def test_integer_ratios_are_chains_without_skips():
    for ratio in (1, 2, 3, 5, 12, 30):
        r = approximate_period(2.0, 2.0 * ratio, 1e-6)
        assert r.found and not r.network.skips and r.plan.kind == "chain"


def test_below_one_is_out_of_reach_and_says_why():
    r = approximate_period(10.0, 4.0, 0.04)
    assert not r.found and "faster than its input" in r.reason
    assert r.to_dict()["reason"] == r.reason
    t = approximate_period(10.0, 4.0, 0.04, allow_tonic=True)
    assert t.found and t.plan.kind == "tonic"
    assert any(is_tonic(ly.neuron) for ly in t.network.layers)
    assert t.setting().startswith("outside the paper's setting: uses a tonic neuron")
    # Within eps of t_in a relay (ratio 1) is the answer, no reason given.
    r = approximate_period(10.0, 9.95, 0.1)
    assert r.found and r.reason is None


def test_inhibition_only_on_request():
    # 8/7: the veto (inhibitory) needs 3 layers; the excitatory cover needs more.
    plain = approximate_period(1.0, 8 / 7, 1e-9, max_layers=3)
    assert not plain.found
    assert all(g > 0 for ly in plain.network.layers for _, g in ly.inputs)
    veto = approximate_period(1.0, 8 / 7, 1e-9, max_layers=3, allow_inhibition=True)
    assert veto.found and veto.plan.kind == "veto"
    assert "inhibitory synapse" in veto.setting()
    cover = approximate_period(1.0, 8 / 7, 1e-9)  # 8/7 = 16 / (16 - 2): a cover, excitatory
    assert cover.found and cover.plan.kind == "cover"
    check(cover)


def test_solver_is_deterministic_and_prints_the_network():
    a = approximate_period(10.0, 15.0, 0.01)
    assert a == approximate_period(10.0, 15.0, 0.01)
    text = a.network.describe()
    assert "layer 1" in text and "skips: 0->2" in text and "G=" in text
    d = a.to_dict()
    assert d["found"] and d["network"]["skips"] == [[0, 2]] and d["layers"] == 2


def test_not_found_within_a_tiny_layer_budget():
    # 1000 = 8 * 5 * 5 * 5 needs four divider layers; two are allowed.
    r = approximate_period(1.0, 1000.0, 0.5, max_layers=2)
    assert not r.found and r.network is None
    d = r.to_dict()
    assert d["found"] is False and d["network"] is None and d["closest"] is None
    assert approximate_period(1.0, 1000.0, 0.5, max_layers=4).found


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(t_in=0.0, t_out=1.0, eps=0.1),
        dict(t_in=1.0, t_out=-1.0, eps=0.1),
        dict(t_in=1.0, t_out=1.0, eps=0.0),
        dict(t_in=1.0, t_out=1.0, eps=0.1, max_layers=0),
        dict(t_in=1.0, t_out=1.0, eps=0.1, base=NeuronParams(a=2.0)),
    ],
)
def test_bad_input_is_one_sentence(kwargs):
    with pytest.raises(ParameterError) as e:
        approximate_period(**kwargs)
    assert "\n" not in str(e.value)
