"""The period-approximation solver (Theorem 1) and the limit of plain chains (Lemma 2)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skipsnn.errors import ParameterError
from skipsnn.neuron import (
    INPUT,
    Connection,
    FeedforwardNet,
    NeuronParams,
    is_tonic,
    periodic_times,
    simulate_network,
)
from skipsnn.theory import approximate_period, response_rate, train_period

T_INS = [1.0, 7.5, 20.0]
RATIOS = [0.25, 0.4, 0.7, 1.0, 1.25, 1.4, 1.5, 2.0, 2.5, 3.0, 3.7, 6.0, 12.0]
BASES = [
    NeuronParams(),  # a = v_reset = 0
    NeuronParams(a=-0.2, tau_m=5.0, r_m=2.0, v_th=1.0, v_reset=0.3),  # v_reset > a, short tau
    NeuronParams(a=0.9, tau_m=100.0, r_m=0.5, v_th=1.0, v_reset=-1.0),  # rest near threshold
    NeuronParams(a=-5.0, tau_m=1.0, r_m=1.0, v_th=1.0, v_reset=0.0),  # fast, deep rest
]


def independent_period(result, n_inputs=600):
    """Re-simulate the returned network on a longer run and measure its period afresh."""
    t_end = (n_inputs + 0.5) * result.t_in
    out = simulate_network(result.network.feedforward(), periodic_times(result.t_in, t_end), t_end)[
        -1
    ]
    return train_period(out, transient_fraction=0.5)


@pytest.mark.parametrize("base", BASES, ids=["default", "reset_above_rest", "slow", "fast"])
def test_every_returned_network_is_verified(base):
    for t_in in T_INS:
        for ratio in RATIOS:
            t_out, eps = ratio * t_in, 0.01 * ratio * t_in
            r = approximate_period(t_in, t_out, eps, base)
            assert r.found, (t_in, ratio)
            assert abs(r.measured_period - t_out) <= eps
            assert r.error == pytest.approx(abs(r.measured_period - t_out))
            assert abs(independent_period(r) - t_out) <= eps, (t_in, ratio, r.plan)
            layers = r.network.layers
            assert 1 <= len(layers) <= 6
            if ratio < 1:
                assert any(is_tonic(ly.neuron) for ly in layers)  # no other way below 1
            elif ratio in (1.5, 2.5):
                # Reachable without tonic neurons: through a skip-layer connection.
                assert not any(is_tonic(ly.neuron) for ly in layers)
                assert r.network.skips


def test_solver_is_deterministic_and_prints_the_network():
    a = approximate_period(10.0, 15.0, 0.01)
    b = approximate_period(10.0, 15.0, 0.01)
    assert a == b
    text = a.network.describe()
    assert "layer 1" in text and "skips: 0->2" in text and "G=" in text
    d = a.to_dict()
    assert d["found"] and d["network"]["skips"] == [[0, 2]]


@pytest.mark.parametrize("t_in", T_INS)
def test_no_skip_chain_fails_for_one_and_a_half(t_in):
    """Lemma 2: without skips (and without tonic neurons) only integer multiples exist."""
    r = approximate_period(t_in, 1.5 * t_in, 0.1 * t_in, max_layers=8, skips=False)
    assert not r.found
    assert r.network is not None and not r.network.skips
    assert not any(is_tonic(ly.neuron) for ly in r.network.layers)
    assert r.measured_period / t_in == pytest.approx(round(r.measured_period / t_in))
    assert approximate_period(t_in, 1.5 * t_in, 0.1 * t_in, max_layers=8).found


@pytest.mark.parametrize("ratio", [0.5, 0.8, 1.3, 2.6, 4.5])
def test_no_skip_fails_off_the_integers(ratio):
    eps = 0.5 * min(abs(ratio - math.floor(ratio)), abs(math.ceil(ratio) - ratio))
    assert not approximate_period(1.0, ratio, eps, skips=False).found


@pytest.mark.parametrize("ratio", [1, 2, 5, 12, 30])
def test_no_skip_succeeds_on_the_integers(ratio):
    r = approximate_period(2.0, 2.0 * ratio, 1e-6, skips=False)
    assert r.found and not r.network.skips


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 4),
    g_scale=st.lists(st.floats(0.05, 1.5), min_size=4, max_size=4),
    t_in=st.floats(0.5, 20.0),
)
def test_random_chain_period_is_product_of_response_rates(n, g_scale, t_in):
    """Lemma 2 on arbitrary chains: the output period is prod(gamma_i) t_in, an integer multiple."""
    p = NeuronParams(a=0.0, tau_m=10.0, r_m=1.0, v_th=1.0, v_reset=0.0)
    gs = [s * p.tau_m / p.r_m for s in g_scale[:n]]
    period, gammas = t_in, []
    for g in gs:
        gamma = response_rate(period, g, p)
        assume(math.isfinite(gamma))
        gammas.append(gamma)
        period *= gamma
    total = math.prod(gammas)
    assume(total <= 40)
    net = FeedforwardNet(
        (p,) * n, tuple(Connection(INPUT if j == 0 else j - 1, j, g) for j, g in enumerate(gs))
    )
    t_end = (6 * total + 0.5) * t_in
    out = simulate_network(net, periodic_times(t_in, t_end), t_end)[-1]
    np.testing.assert_allclose(out, total * t_in * np.arange(1, out.size + 1), rtol=1e-9)
    assert out.size == 6


def test_not_found_within_a_tiny_layer_budget():
    # 1000 = 8 * 5 * 5 * 5 needs four divider layers; two are allowed.
    r = approximate_period(1.0, 1000.0, 0.5, max_layers=2)
    assert not r.found and r.network is None
    d = r.to_dict()
    assert d["found"] is False and d["network"] is None and d["closest"] is None
    # No skip, 1.5: the closest chain is reported, and it is off by half a period.
    d = approximate_period(1.0, 1.5, 0.1, skips=False).to_dict()
    assert d["network"] is None and d["closest"]["error"] == pytest.approx(0.5)
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
