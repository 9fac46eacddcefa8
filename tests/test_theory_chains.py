"""Lemma 2 as an experiment: the chain search finds integer ratios and nothing else."""

import math

import numpy as np
import pytest

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
from skipsnn.theory import response_rate, search_chains, train_period

SAMPLES = 600


def assert_plain_chain(net):
    assert not net.skips
    assert all(len(ly.inputs) == 1 and ly.inputs[0][0] == j for j, ly in enumerate(net.layers))
    assert not any(is_tonic(ly.neuron) for ly in net.layers)


@pytest.mark.parametrize("seed", range(3))
def test_integer_ratios_are_found(seed):
    """The search must succeed where a chain exists: ratios 1, 2, 3, 4, 6."""
    rng = np.random.default_rng(seed)
    for ratio in (1, 2, 3, 4, 6):
        t_in = float(10 ** rng.uniform(-0.5, 1.5))
        s = search_chains(t_in, ratio * t_in, 0.01 * ratio * t_in, 6, SAMPLES, seed)
        assert s.found, (t_in, ratio, s.error)
        assert abs(s.measured_period - ratio * t_in) <= 0.01 * ratio * t_in
        assert_plain_chain(s.network)


@pytest.mark.parametrize("seed", range(3))
def test_non_integer_ratios_are_not_found(seed):
    """Random ratios away from the integers: the best chain is an integer multiple away."""
    rng = np.random.default_rng(50 + seed)
    for _ in range(4):
        t_in = float(10 ** rng.uniform(-0.5, 1.5))
        ratio = float(rng.uniform(1.05, 5.0))
        t_out, eps = ratio * t_in, 0.01 * ratio * t_in
        gap = min(abs(t_out - k * t_in) for k in range(1, 8))
        if gap <= 2 * eps:
            continue
        s = search_chains(t_in, t_out, eps, 8, SAMPLES, seed)
        assert not s.found
        assert s.error is not None and s.error >= gap - 1e-9 * t_out
        # What it found instead is an integer multiple of t_in (Lemma 2).
        k = s.measured_period / t_in
        assert k == pytest.approx(round(k), rel=1e-9)
        assert_plain_chain(s.network)
        assert s.candidates > SAMPLES


def test_search_is_seeded_and_reports_per_length():
    a = search_chains(10.0, 15.0, 0.1, 4, 200, seed=3)
    b = search_chains(10.0, 15.0, 0.1, 4, 200, seed=3)
    assert a == b
    d = a.to_dict()
    assert set(d["best_error_by_layers"]) == {"1", "2", "3", "4"}
    assert d["found"] is False and d["error"] == pytest.approx(5.0)


def test_below_one_is_never_found():
    s = search_chains(10.0, 6.0, 0.5, 4, 300)
    assert not s.found and s.error >= 4.0 - 1e-9


def test_a_found_chain_is_what_the_neurons_say():
    """Re-derive the found chain's period from its response rates, layer by layer."""
    s = search_chains(5.0, 30.0, 0.01, 4, SAMPLES, seed=1)
    assert s.found
    period = s.t_in
    for ly in s.network.layers:
        period *= response_rate(period, ly.inputs[0][1], ly.neuron)
    assert period == pytest.approx(30.0)
    net = FeedforwardNet(
        tuple(ly.neuron for ly in s.network.layers),
        tuple(
            Connection(INPUT if j == 0 else j - 1, j, ly.inputs[0][1])
            for j, ly in enumerate(s.network.layers)
        ),
    )
    out = simulate_network(net, periodic_times(5.0, 2000.0), 2000.0)[-1]
    assert train_period(out) == pytest.approx(30.0)


def test_bad_input():
    with pytest.raises(ParameterError):
        search_chains(1.0, 2.0, 0.0)
    with pytest.raises(ParameterError):
        search_chains(1.0, 2.0, 0.1, max_layers=0)
    assert math.isfinite(search_chains(1.0, 2.0, 0.1, 2, 50, base=NeuronParams(a=-1.0)).error)


def test_a_huge_eps_verifies_over_a_bounded_simulation(monkeypatch):
    # eps 1e6 at t_in 1 once asked measure_period for 12 million input spikes (minutes,
    # gigabytes; `theory approximate --no-skip` and `theory coverage` hung).
    import skipsnn.theory.chains as chains

    measure = chains.measure_period

    def bounded(net, t_in, cycle_slots):
        assert cycle_slots <= 20000
        return measure(net, t_in, cycle_slots)

    monkeypatch.setattr(chains, "measure_period", bounded)
    s = search_chains(1.0, 2.0, 1e6, 1, 1)
    assert s.found and s.measured_period == pytest.approx(2.0)
