import math

import pytest
import torch

from skipsnn.errors import ConfigError
from skipsnn.neuron import channel_params
from skipsnn.train.stdp import (
    Pairings,
    STDPParams,
    apply_stdp,
    competitive_step,
    conv_pairings,
    run_competitive,
    sequence_pairings,
    stdp_delta,
    traces,
    validate_stdp,
    winner_take_all,
)

P = STDPParams(a_plus=0.1, a_minus=0.08, tau_pre=3.0, tau_post=5.0, mu=1.0)


def _one_synapse_pair(t_pre: int, t_post: int, steps: int = 6):
    """A 1x1 conv with one input and one output channel, single pre and post spike."""
    pre = torch.zeros(steps, 1, 1, 1, 1)
    post = torch.zeros(steps, 1, 1, 1, 1)
    pre[t_pre] = 1.0
    post[t_post] = 1.0
    return sequence_pairings(pre, post, kernel=1, stride=1, padding=0, p=P)


def test_pre_before_post_potentiates_by_hand_value():
    w = torch.full((1, 1, 1, 1), 0.3)
    pr = _one_synapse_pair(t_pre=1, t_post=3)
    dw = stdp_delta(w, pr, P).item()
    expected = 0.1 * (1.0 - 0.3) * math.exp(-2 / 3.0)
    assert dw > 0
    assert dw == pytest.approx(expected, rel=1e-6)


def test_post_before_pre_depresses_by_hand_value():
    w = torch.full((1, 1, 1, 1), 0.3)
    pr = _one_synapse_pair(t_pre=4, t_post=1)
    dw = stdp_delta(w, pr, P).item()
    expected = -0.08 * (0.3 - 0.0) * math.exp(-3 / 5.0)
    assert dw < 0
    assert dw == pytest.approx(expected, rel=1e-6)


def test_simultaneous_pair_counts_once_as_causal():
    w = torch.full((1, 1, 1, 1), 0.5)
    pr = _one_synapse_pair(t_pre=2, t_post=2)
    assert stdp_delta(w, pr, P).item() == pytest.approx(0.1 * 0.5, rel=1e-6)


def test_additive_rule_has_no_weight_dependence():
    p0 = P._replace(mu=0.0)
    pr = _one_synapse_pair(t_pre=1, t_post=2)
    d1 = stdp_delta(torch.full((1, 1, 1, 1), 0.1), pr, p0).item()
    d2 = stdp_delta(torch.full((1, 1, 1, 1), 0.9), pr, p0).item()
    assert d1 == pytest.approx(d2) == pytest.approx(0.1 * math.exp(-1 / 3.0))


def test_traces_decay_and_accumulate():
    s = torch.tensor([1.0, 0.0, 1.0, 0.0])
    tr = traces(s, tau=2.0)
    q = math.exp(-0.5)
    assert torch.allclose(tr, torch.tensor([1.0, q, q * q + 1, (q * q + 1) * q]))


def test_conv_pairings_match_explicit_loop():
    g = torch.Generator().manual_seed(0)
    pre = (torch.rand(2, 3, 7, 7, generator=g) < 0.3).float()
    post = (torch.rand(2, 4, 4, 4, generator=g) < 0.3).float()
    k, stride, pad = 3, 2, 1
    got = conv_pairings(pre, post, k, stride, pad)
    prep = torch.nn.functional.pad(pre, (pad, pad, pad, pad))
    want = torch.zeros(4, 3, k, k)
    for b in range(2):
        for o in range(4):
            for y in range(4):
                for x in range(4):
                    patch = prep[b, :, y * stride : y * stride + k, x * stride : x * stride + k]
                    want[o] += post[b, o, y, x] * patch
    assert torch.allclose(got, want.reshape(4, -1))


def test_update_is_averaged_over_the_channels_spikes():
    # The same pairing seen twice (two samples) moves a weight as much as seen once.
    w = torch.full((1, 1, 1, 1), 0.3)
    one = _one_synapse_pair(1, 3)
    two = Pairings(one.potentiation * 2, one.depression * 2, one.post_count * 2)
    assert stdp_delta(w, two, P).item() == pytest.approx(stdp_delta(w, one, P).item())


@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0])
def test_weights_stay_within_bounds_under_large_updates(mu):
    p = P._replace(a_plus=5.0, a_minus=5.0, w_min=-0.2, w_max=0.7, mu=mu)
    g = torch.Generator().manual_seed(1)
    w = torch.empty(3, 2, 3, 3).uniform_(-0.2, 0.7, generator=g)
    for _ in range(20):
        pre = (torch.rand(5, 2, 2, 6, 6, generator=g) < 0.4).float()
        post = (torch.rand(5, 2, 3, 6, 6, generator=g) < 0.4).float()
        w = apply_stdp(w, sequence_pairings(pre, post, 3, 1, 1, p), p)
        assert w.min() >= p.w_min and w.max() <= p.w_max
    # Both bounds are actually reached or approached: the updates were large.
    assert w.max() > 0.6 or w.min() < -0.1


def test_winner_take_all_keeps_one_channel_per_position():
    margin = torch.tensor([[[[0.5, -1.0]], [[0.7, -0.2]], [[0.1, -0.5]]]])  # [1, 3, 1, 2]
    s = winner_take_all(margin)
    assert s[0, :, 0, 0].tolist() == [0.0, 1.0, 0.0]
    assert s[0, :, 0, 1].tolist() == [0.0, 0.0, 0.0]


def test_competitive_step_resets_losers_and_uses_adaptive_threshold():
    p = channel_params([(0.0, 10.0, 10.0)], 2)  # gain 1: v = decayed v + x
    x = torch.tensor([[[[2.0]], [[1.5]]]])
    v0 = torch.zeros(1, 2, 1, 1)
    s, v = competitive_step(x, v0, p, torch.zeros(2), 1.0, "wta")
    assert s.flatten().tolist() == [1.0, 0.0]
    assert v.flatten().tolist() == [0.0, 0.0]  # the loser is inhibited too
    # Raise channel 0's threshold: channel 1 wins.
    s, _ = competitive_step(x, v0, p, torch.tensor([1.5, 0.0]), 1.0, "wta")
    assert s.flatten().tolist() == [0.0, 1.0]
    s, _ = competitive_step(x, v0, p, torch.zeros(2), 1.0, "none")
    assert s.flatten().tolist() == [1.0, 1.0]


def test_adaptive_threshold_rises_with_firing_and_is_frozen_otherwise():
    p = channel_params([(0.0, 10.0, 10.0)], 2)
    cur = torch.zeros(6, 1, 2, 2, 2)
    cur[:, :, 0] = 2.0  # only channel 0 is driven
    sp = STDPParams(theta_plus=0.1, tau_theta=100.0)
    _, theta = run_competitive(cur, p, torch.zeros(2), 1.0, sp, adapt=True)
    assert theta[0] > 0 and theta[1] == 0
    _, same = run_competitive(cur, p, torch.zeros(2), 1.0, sp, adapt=False)
    assert torch.equal(same, torch.zeros(2))


def test_invalid_stdp_parameters_raise_one_sentence():
    with pytest.raises(ConfigError, match="w_max > w_min"):
        validate_stdp(STDPParams(w_min=1.0, w_max=0.5))
    with pytest.raises(ConfigError, match="competition"):
        validate_stdp(STDPParams(competition="softmax"))
    with pytest.raises(ConfigError, match="tau_pre"):
        validate_stdp(STDPParams(tau_pre=0.0))
