import dataclasses
import math
import re

import pytest
import torch

from skipsnn.errors import ConfigError
from skipsnn.neuron import channel_params
from skipsnn.train.competition import competitive_step, run_competitive, winner_take_all
from skipsnn.train.stdp_rule import (
    Pairings,
    STDPParams,
    apply_stdp,
    conv_pairings,
    sequence_pairings,
    stdp_delta,
    traces,
    validate_stdp,
)


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny tensors: thread hand-offs cost more than they save on a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


P = STDPParams(a_plus=0.1, a_minus=0.08, tau_pre=3.0, tau_post=5.0, mu=1.0, x_tar=0.0)


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


def test_presynaptic_target_depresses_inputs_silent_at_the_post_spike():
    p = P._replace(x_tar=0.4)
    w = torch.full((1, 1, 1, 1), 0.3)
    silent = _one_synapse_pair(t_pre=5, t_post=1, steps=6)  # pre only after the post spike
    quiet = Pairings(torch.zeros(1, 1), torch.zeros(1, 1), silent.post_count)
    assert stdp_delta(w, quiet, p).item() == pytest.approx(-0.1 * 0.4 * 0.3, rel=1e-6)
    causal = _one_synapse_pair(t_pre=1, t_post=2)
    want = 0.1 * 0.7 * math.exp(-1 / 3.0) - 0.1 * 0.4 * 0.3
    assert stdp_delta(w, causal, p).item() == pytest.approx(want, rel=1e-6)
    # A channel that never spiked does not move.
    none = Pairings(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1))
    assert stdp_delta(w, none, p).item() == 0.0


def _toy_competition(competition: str, seed: int = 0):
    """Two channels, one 3x3 position, inputs alternate between a vertical and a
    horizontal bar; returns each channel's mean weight on the two bars."""
    g = torch.Generator().manual_seed(seed)
    bars = torch.zeros(2, 3, 3)
    bars[0, :, 1] = 1
    bars[1, 1, :] = 1
    bars[:, 1, 1] = 0  # no shared pixel
    p = channel_params([(0.0, 4.0, 4.0)], 2)
    sp = STDPParams(x_tar=0.3, theta_plus=0.5, tau_theta=50.0, competition=competition)
    w = 0.4 + 0.2 * torch.rand(2, 1, 3, 3, generator=g)
    theta = torch.zeros(2)
    for _ in range(60):
        which = torch.randint(0, 2, (8,), generator=g)
        pre = (torch.rand(10, 8, 1, 3, 3, generator=g) < 0.5).float() * bars[which][None, :, None]
        current = torch.nn.functional.conv2d(pre.flatten(0, 1), w).reshape(10, 8, 2, 1, 1)
        post, theta = run_competitive(current, p, theta, 1.0, sp, adapt=True)
        w = apply_stdp(w, sequence_pairings(pre, post, 3, 1, 0, sp), sp)
    return w.reshape(2, 9) @ bars.reshape(2, 9).T / 4  # [channel, bar]


def test_competition_yields_distinct_kernels_on_a_toy_input():
    sel = _toy_competition("wta")
    prefers = sel.argmax(dim=1)
    assert prefers.tolist() in ([0, 1], [1, 0])  # each channel took a different bar
    assert torch.all((sel.max(1).values - sel.min(1).values) > 0.1)
    # Without competition both channels learn the same kernel: the check above can fail.
    same = _toy_competition("none")
    assert torch.allclose(same[0], same[1], atol=0.03)


# ---------------------------------------------------------------------------------------
# End to end on a tiny dataset
# ---------------------------------------------------------------------------------------


class _Frames:
    """The shape of `skipsnn.data.FramedDataset` (x uint8 [N, T, 2, H, W], y, classes)."""

    def __init__(self, x, y, classes):
        self.x, self.y, self.classes = x, y, classes


def _moving_bars(n_per_class: int, seed: int, size: int = 8, steps: int = 8) -> _Frames:
    """Three classes: a bar moving right, left, or down; ON events at the leading edge,
    OFF at the trailing edge, plus noise events."""
    g = torch.Generator().manual_seed(seed)
    n = 3 * n_per_class
    y = torch.arange(n) % 3
    x = torch.zeros(n, steps, 2, size, size, dtype=torch.uint8)
    for k in range(n):
        offset = int(torch.randint(0, 2, (1,), generator=g))
        for t in range(steps):
            pos = min(size - 1, t + offset)
            lead, trail = (pos, size - 1 - pos) if y[k] != 1 else (size - 1 - pos, pos)
            if y[k] == 2:
                x[k, t, 0, pos, :] = 1
                x[k, t, 1, max(pos - 1, 0), :] = 1
            else:
                x[k, t, 0, :, lead] = 1
                x[k, t, 1, :, trail] = 1
    noise = (torch.rand(x.shape, generator=g) < 0.05).to(torch.uint8)
    return _Frames(x | noise, y, ["right", "left", "down"])


def _tiny_config(**train):
    from skipsnn.config import Config

    return Config.from_dict(
        {
            "network": {
                "layers": [
                    {"channels": 6, "kernel": 3, "stride": 1},
                    {"channels": 6, "kernel": 3, "stride": 2},
                ],
                "dynamics": [
                    {"a": 0.0, "tau_m": 2.0, "r_m": 2.0},
                    {"a": 0.0, "tau_m": 6.0, "r_m": 6.0},
                ],
                "skip": {"n_skip": 1, "l_start": 0, "l_end": 2},
            },
            "train": {
                "method": "stdp",
                "batch_size": 8,
                "val_fraction": 0.2,
                "num_threads": 1,
                **train,
            },
            "stdp": {"epochs": 1, "x_tar": 0.3, "windows": 2},
        }
    )


@pytest.fixture(scope="module")
def bars():
    return _moving_bars(12, seed=0), _moving_bars(6, seed=1)


def test_tiny_end_to_end_run_beats_chance_and_writes_outputs(tmp_path, bars):
    from skipsnn.train import run_training
    from skipsnn.train import run_training as train_stdp

    cfg = _tiny_config(seed=0, label_fraction=0.5)
    # Through the common entry point, which hands method: stdp to train_stdp.
    m = run_training(cfg, tmp_path / "run", progress=False, data=bars)
    assert m["method"] == "stdp"
    assert m["test_accuracy"] > 0.6  # chance is 1/3
    assert m["n_val"] == 6 and m["n_unlabelled_stdp"] == 30 and m["n_train"] == 15
    for name in (
        "config.yaml",
        "metrics.json",
        "metrics.jsonl",
        "checkpoint.pt",
        "kernels.png",
        "confusion.png",
        "raster.png",
    ):
        assert (tmp_path / "run" / name).exists(), name
    for key in (
        "test_accuracy",
        "val_accuracy",
        "params",
        "label_fraction",
        "epochs",
        "train_seconds",
    ):
        assert key in m
    # The same seed gives the same run.
    again = train_stdp(cfg, None, progress=False, data=bars)
    assert again["test_accuracy"] == m["test_accuracy"]
    assert again["val_loss"] == m["val_loss"]


def test_resume_after_a_layer_equals_an_uninterrupted_run(tmp_path, bars):
    from skipsnn.train import run_training as train_stdp

    cfg = _tiny_config(seed=3)
    whole = train_stdp(cfg, tmp_path / "whole", progress=False, data=bars)
    part = train_stdp(cfg, tmp_path / "cut", progress=False, data=bars, stop_after=1)
    assert part["finished"] is False and not (tmp_path / "cut" / "metrics.json").exists()
    with pytest.raises(ConfigError, match="--resume"):
        train_stdp(cfg, tmp_path / "cut", progress=False, data=bars)
    resumed = train_stdp(cfg, tmp_path / "cut", resume=True, progress=False, data=bars)
    for key in ("test_accuracy", "val_accuracy", "val_loss", "firing_rate", "params"):
        assert resumed[key] == whole[key], key


@pytest.mark.parametrize("done", [-1, 99, "1", 1.5, True, None])
def test_a_checkpoint_with_bad_layers_done_is_not_resumed(tmp_path, bars, done):
    from skipsnn.train import run_training as train_stdp

    cfg = _tiny_config(seed=3)
    train_stdp(cfg, tmp_path / "cut", progress=False, data=bars, stop_after=1)
    path = tmp_path / "cut" / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state["layers_done"] = done
    torch.save(state, path)
    with pytest.raises(ConfigError, match=f"stores layers_done {re.escape(repr(done))}, not a"):
        train_stdp(cfg, tmp_path / "cut", resume=True, progress=False, data=bars)
    assert not (tmp_path / "cut" / "metrics.json").exists()


def test_bad_stdp_section_fails_before_writing(tmp_path, bars):
    from skipsnn.train import run_training as train_stdp

    # Refused when the config is built (whatever the method), and by the trainer for a
    # config built around validation.
    cfg = _tiny_config()
    with pytest.raises(ConfigError, match="no_such_option"):
        cfg.replace(stdp={"a_plus": 0.1, "no_such_option": 1})
    cfg = dataclasses.replace(cfg, stdp={"a_plus": 0.1, "no_such_option": 1})
    with pytest.raises(ConfigError, match="no_such_option"):
        train_stdp(cfg, tmp_path / "bad", progress=False, data=bars)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    "section, words",
    [
        ({"epochs": 0}, "stdp.epochs"),
        ({"w_init": 0.5}, "w_init"),
        ({"feature_layers": [3]}, "feature_layers"),
        ({"grid": 1.5}, "stdp.grid"),
        ({"readout_c": -1}, "readout_c"),
        ({"a_plus": "much"}, "numbers"),
    ],
)
def test_stdp_section_errors_are_one_sentence(section, words):
    from skipsnn.train.stdp_options import stdp_options

    with pytest.raises(ConfigError, match=words):
        stdp_options(section, n_layers=2)


def test_label_fractions_share_the_unsupervised_phase(tmp_path, bars, monkeypatch):
    from skipsnn.train import run_training, stdp

    stdp.clear_phase_cache()
    calls = []
    real = stdp.train_layer_batch
    monkeypatch.setattr(stdp, "train_layer_batch", lambda *a, **k: calls.append(1) or real(*a, **k))
    run_training(_tiny_config(seed=0, label_fraction=0.5), None, progress=False, data=bars)
    n = len(calls)
    reused = run_training(
        _tiny_config(seed=0, label_fraction=1.0), tmp_path / "r", progress=False, data=bars
    )
    assert len(calls) == n and reused["stdp_phase_reused"]
    assert (tmp_path / "r" / "checkpoint.pt").exists()
    stdp.clear_phase_cache()
    fresh = run_training(_tiny_config(seed=0, label_fraction=1.0), None, progress=False, data=bars)
    assert len(calls) == 2 * n and not fresh["stdp_phase_reused"]
    for key in ("test_accuracy", "val_accuracy", "val_loss", "train_accuracy", "firing_rate"):
        assert reused[key] == fresh[key], key
