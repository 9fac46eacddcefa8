"""The `rhythms` benchmark: timing alone tells its classes apart (a small version, fast)."""

import numpy as np
import pytest
import torch

from skipsnn.data.binning import frame_many
from skipsnn.data.catalog import get_dataset_info
from skipsnn.data.rhythms import (
    INTERVAL_BINS,
    RHYTHM_BINS,
    RHYTHM_SENSOR,
    RHYTHM_STEPS,
    generate_rhythms,
)
from skipsnn.data.synthetic import DT_US
from skipsnn.experiments.baselines import raw_features
from skipsnn.train.readout import fit_readout

K = len(INTERVAL_BINS)


def _frames(n_per_class: int, stream: int):
    es = generate_rhythms(n_per_class, seed=0, split_stream=stream)
    x = frame_many(
        es.events,
        es.offsets,
        (RHYTHM_SENSOR,) * 2,
        RHYTHM_BINS,
        (RHYTHM_SENSOR,) * 2,
        RHYTHM_STEPS * DT_US,
    )
    return torch.from_numpy(x), es.labels


@pytest.fixture(scope="module")
def small():
    """60 training and 40 test samples per class (a fifth of the built-in size's cost)."""
    return _frames(60, 0), _frames(40, 1)


def test_registry_entry_feeds_the_network():
    from skipsnn.config import default_config
    from skipsnn.network import build_network

    info = get_dataset_info("rhythms")
    assert info.n_classes == K and info.sensor_size == (16, 16) and info.synthetic
    net = build_network(default_config("rhythms"))
    assert net.n_classes == K and net.input_shape == (2, 16, 16)


def test_samples_are_seeded_and_classes_interleaved():
    a, b = generate_rhythms(2, 0, 0), generate_rhythms(2, 0, 0)
    assert np.array_equal(a.events, b.events) and list(a.labels) == list(range(K)) * 2
    assert not np.array_equal(generate_rhythms(2, 1, 0).events, a.events)


def test_the_pair_is_d_bins_apart(small):
    """ON events at the brightest place fall in two bins d apart on the circle."""
    (x, y), _ = small
    hits = 0
    for i in range(24):
        on = x[i, :, 1].float()  # ON polarity [T, H, W]
        per_place = on.sum(0)
        peak = torch.nonzero(per_place == per_place.max())[0]
        trace = on[:, peak[0], peak[1]]
        bins = torch.nonzero(trace >= 2).flatten().tolist()
        gaps = {(b - a) % RHYTHM_BINS for a in bins for b in bins if a != b}
        hits += INTERVAL_BINS[int(y[i])] in gaps
    assert hits >= 20  # the distractor can be the peak when it is brighter on that pixel


def test_event_counts_do_not_depend_on_the_class(small):
    (x, y), _ = small
    totals = x.float().sum((1, 2, 3, 4)).numpy()
    means = np.array([totals[y == c].mean() for c in range(K)])
    spread = totals.std() / np.sqrt(len(totals) / K)
    assert np.ptp(means) < 4 * spread


def test_chance_requirements(small):
    """Raw events pooled on a 2x2 grid: 4 time windows at most 2x chance, the
    time-collapsed counts (1 window) at most 1.2x chance (chance 1/6)."""
    (xtr, ytr), (xte, yte) = small
    chance = 1.0 / K
    accs = {}
    for windows in (4, 1):
        r = fit_readout(raw_features(xtr, 2, windows), ytr)
        accs[windows] = r.accuracy(raw_features(xte, 2, windows), yte)
    assert accs[4] <= 2 * chance, accs
    assert accs[1] <= 1.2 * chance, accs


def test_shipped_config_equals_the_default():
    from pathlib import Path

    from skipsnn.config import Config, default_config

    path = Path(__file__).resolve().parents[1] / "configs" / "rhythms.yaml"
    assert Config.load(path) == default_config("rhythms")


def test_readout_modes_reduce_the_potential_over_time():
    from skipsnn.config import ConfigError, default_config
    from skipsnn.network import build_network, readout_logits

    u = torch.tensor([[[1.0, -2.0]], [[3.0, 0.0]], [[2.0, -1.0]]])  # [T=3, B=1, K=2]
    assert readout_logits(u, "mean").tolist() == [[2.0, -1.0]]
    assert readout_logits(u, "sum").tolist() == [[6.0, -3.0]]
    assert readout_logits(u, "max").tolist() == [[3.0, 0.0]]
    assert readout_logits(u, "last").tolist() == [[2.0, -1.0]]
    cfg = default_config("rhythms")
    assert (cfg.network.readout.mode, cfg.network.readout.pool) == ("sum", 1)
    net = build_network(cfg)
    fw = net(torch.rand(2, RHYTHM_BINS, 2, 16, 16).round(), record=True)
    assert torch.allclose(fw.logits, fw.potential.sum(0))
    with pytest.raises(ConfigError, match="mode"):
        cfg.replace(network={"readout": {"mode": "median"}})
