"""`dataset.train_per_class`: more (or fewer) training samples of a generated set, the
same test set, and a comparison whose variants change the data get their own splits."""

import json

import numpy as np
import pytest

from skipsnn.config import Config, default_config
from skipsnn.data import load_frames
from skipsnn.data.catalog import synthetic_events
from skipsnn.data.synthetic import CHUNK
from skipsnn.errors import ConfigError, DataError
from skipsnn.experiments import compare as compare_mod
from skipsnn.experiments.compare import VARIANT_SETS, Variant, compare, variant_cfg
from skipsnn.train import setup


def test_the_option_round_trips_and_is_checked():
    cfg = default_config("rhythms").replace(dataset={"train_per_class": 250})
    assert Config.from_dict(cfg.to_dict()).dataset.train_per_class == 250
    assert default_config("rhythms").dataset.train_per_class is None
    with pytest.raises(ConfigError, match="train_per_class must be >= 1"):
        default_config("rhythms").replace(dataset={"train_per_class": 0}).validate()
    with pytest.raises(ConfigError, match="between 1 and 100000"):
        default_config("rhythms").replace(dataset={"train_per_class": 10**6}).validate()
    for name in ("digits", "dvsgesture", "tonic:NMNIST"):
        with pytest.raises(ConfigError, match="label_fraction"):
            default_config("gestures").replace(
                dataset={"name": name, "train_per_class": 10}
            ).validate()


def test_a_larger_training_set_repeats_the_smaller_one_and_is_balanced(tmp_path):
    small = synthetic_events("rhythms", "train", 0, tmp_path, False, train_per_class=20)
    large = synthetic_events("rhythms", "train", 0, tmp_path, False, train_per_class=40)
    assert len(small.labels) == 120 and len(large.labels) == 240
    assert np.bincount(large.labels).tolist() == [40] * 6
    k = CHUNK  # the small set's full chunks are the large set's first samples
    assert np.array_equal(small.labels[:k], large.labels[:k])
    assert np.array_equal(small.events[: small.offsets[k]], large.events[: large.offsets[k]])
    with pytest.raises(DataError, match="not 'digits'"):
        synthetic_events("digits", "train", 0, tmp_path, False, train_per_class=5)


def test_frames_follow_the_training_size_and_the_test_split_does_not(tmp_path):
    kw = dict(cache_dir=str(tmp_path), progress=False)
    train = load_frames("rhythms", "train", train_per_class=15, **kw)
    assert train.x.shape[0] == 90 and np.bincount(np.asarray(train.y)).tolist() == [15] * 6
    test_default = load_frames("rhythms", "test", **kw)
    test_sized = load_frames("rhythms", "test", train_per_class=15, **kw)
    assert np.array_equal(np.asarray(test_default.x[:]), np.asarray(test_sized.x[:]))
    with pytest.raises(DataError, match="train_per_class applies"):
        load_frames("digits", "train", train_per_class=5, **kw)


def test_the_training_split_alone_gets_the_size(monkeypatch):
    seen = []

    def fake_load_frames(name, split, **kw):
        seen.append((split, kw.get("train_per_class")))
        return split

    monkeypatch.setattr("skipsnn.data.load_frames", fake_load_frames)
    cfg = default_config("rhythms").replace(dataset={"train_per_class": 300})
    setup.load_data(cfg, None, False)
    assert seen == [("train", 300), ("test", None)]


def test_compare_loads_the_data_a_variant_asks_for(tmp_path, monkeypatch):
    sizes = {None: 600, 50: 300}
    loads = []

    class _Split:
        def __init__(self, n):
            self.x = np.zeros((n, 4, 2, 16, 16), np.uint8)
            self.y = np.arange(n) % 6
            self.classes = list(range(6))

    def fake_load(cfg, progress):
        loads.append(cfg.dataset.train_per_class)
        return _Split(sizes[cfg.dataset.train_per_class]), _Split(240)

    trained = []

    def fake_train(cfg, out_dir, data, progress):
        trained.append((cfg.dataset.train_per_class, data[0].x.shape[0]))
        out_dir.mkdir(parents=True)
        m = {"test_accuracy": 0.4, "params": 7}
        (out_dir / "metrics.json").write_text(json.dumps(m))
        return m

    monkeypatch.setattr(compare_mod, "_load_data", fake_load)
    monkeypatch.setitem(
        VARIANT_SETS,
        "sizes",
        (
            Variant("default", "mmnd", {}, {}),
            Variant("50 per class", "mmnd", {"dataset": {"train_per_class": 50}}, {}),
        ),
    )
    compare(default_config("rhythms"), tmp_path, "sizes", seeds=2, train_fn=fake_train,
            progress=False)  # fmt: skip
    assert loads == [None, 50]  # once per data, not per seed
    assert trained == [(None, 600), (None, 600), (50, 300), (50, 300)]
    assert (tmp_path / "accuracy_vs_train_size.png").stat().st_size > 1000  # the curve


def test_the_curve_is_drawn_only_for_sets_that_change_the_data(tmp_path):
    from skipsnn.experiments.compare import compare

    def fake_train(cfg, out_dir, data, progress):
        return {"test_accuracy": 0.4, "params": 7}

    class _Split:
        x = np.zeros((12, 4, 2, 16, 16), np.uint8)
        y = np.arange(12) % 6
        classes = list(range(6))

    compare(default_config("rhythms"), tmp_path, "capacity", seeds=1, train_fn=fake_train,
            data=(_Split(), _Split()), progress=False)  # fmt: skip
    assert (tmp_path / "compare.md").exists()
    assert not (tmp_path / "accuracy_vs_train_size.png").exists()


def test_the_data_variant_set_builds_its_sizes():
    base = default_config("rhythms")
    got = [variant_cfg(base, v, 1.0, 0).dataset.train_per_class for v in VARIANT_SETS["data"]]
    assert got == [None, 50, 200, 400, 800, 50, None, 200, 400, 800]
    kinds = [v.kind for v in VARIANT_SETS["data"]]
    assert kinds == ["mmnd"] * 5 + ["gru"] * 5


def test_the_larger_data_set_changes_one_thing_at_a_time():
    base = default_config("rhythms")
    cfgs = [variant_cfg(base, v, 1.0, 0) for v in VARIANT_SETS["data-large"]]
    got = [
        (c.dataset.train_per_class, c.train.epochs, [x.channels for x in c.network.layers])
        for c in cfgs
    ]
    assert got == [(400, 40, [16, 32]), (400, 80, [16, 32]), (400, 40, [32, 64])]
