"""Framing, the frames cache (key and round trip), and stratified seeded splits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from skipsnn.data import (
    DATASETS,
    FramedDataset,
    catalog,
    frame_events,
    load_frames,
    make_events,
    stratified_fraction,
    train_val_split,
)
from skipsnn.data.binning import frame_many
from skipsnn.errors import DataError


def test_frame_events_bins_polarity_and_sum_pooling():
    ev = make_events(
        x=[0, 1, 3, 3, 2], y=[0, 1, 3, 3, 0], t=[0, 249, 250, 999, 1000], p=[1, 1, 0, 1, 0]
    )
    f = frame_events(ev, (4, 4), n_bins=4, size=(2, 2), t0=0, window_us=1000)
    assert f.shape == (4, 2, 2, 2) and f.dtype == np.uint8
    assert f[0, 1, 0, 0] == 2  # (0,0) and (1,1) pool into one pixel, both ON, both in bin 0
    assert f[1, 0, 1, 1] == 1  # t=250 is the first microsecond of bin 1, OFF
    assert f[3, 1, 1, 1] == 1  # t=999: last bin
    assert f.sum() == 4  # t=1000 is outside the window
    full = frame_events(ev, (4, 4), n_bins=1)  # window: the sample's own span, full size
    assert full.shape == (1, 2, 4, 4) and full.sum() == 5


def test_frame_events_clips_at_255():
    ev = make_events(x=np.zeros(300), y=np.zeros(300), t=np.arange(300), p=np.ones(300))
    assert frame_events(ev, (2, 2), 1)[0, 1, 0, 0] == 255


def test_frame_many_matches_frame_events():
    rng = np.random.default_rng(0)
    samples = []
    for n in (50, 0, 80):
        t = np.sort(rng.integers(0, 10_000, n))
        samples.append(
            make_events(rng.integers(0, 8, n), rng.integers(0, 8, n), t, rng.integers(0, 2, n))
        )
    events = np.concatenate(samples)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in samples])])
    many = frame_many(events, offsets, (8, 8), 5, (4, 4), 10_000, chunk=2)
    for i, s in enumerate(samples):
        assert np.array_equal(many[i], frame_events(s, (8, 8), 5, (4, 4), t0=0, window_us=10_000))


@pytest.fixture
def tiny_gestures(monkeypatch, tmp_path):
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "train", 2)
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "test", 1)
    return tmp_path


def test_load_frames_shapes_and_cache_round_trip(tiny_gestures, monkeypatch):
    ds = load_frames(
        "gestures", "train", n_bins=6, size=16, cache_dir=tiny_gestures, progress=False
    )
    assert isinstance(ds, FramedDataset)
    assert ds.x.shape == (22, 6, 2, 16, 16) and ds.x.dtype == torch.uint8
    assert ds.x[3].shape == (6, 2, 16, 16) and ds.x[[0, 5]].dtype == torch.uint8
    assert ds.y.dtype == torch.int64 and ds.y.tolist() == list(range(11)) * 2
    assert ds.classes == list(DATASETS["gestures"].classes)
    assert ds.meta["sensor_size"] == [32, 32] and ds.meta["bin_width_us"] == 100_000
    folders = [p for p in (tiny_gestures / "frames").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1 and sorted(f.name for f in folders[0].iterdir()) == [
        "index.json",
        "x.u8",
    ]

    # Same options: read back from the cache without building anything.
    def fail(*a, **k):
        raise AssertionError("rebuilt instead of reading the cache")

    monkeypatch.setitem(catalog.DATASETS, "gestures", replace(DATASETS["gestures"], frames=fail))
    again = load_frames(
        "gestures", "train", n_bins=6, size=16, cache_dir=tiny_gestures, progress=False
    )
    assert torch.equal(again.x[:], ds.x[:]) and torch.equal(again.y, ds.y)
    assert again.meta == ds.meta
    with pytest.raises(AssertionError, match="rebuilt"):  # other options, other key
        load_frames("gestures", "train", n_bins=7, size=16, cache_dir=tiny_gestures, progress=False)


def test_cache_key_depends_on_every_option(tiny_gestures):
    base = dict(n_bins=4, size=8, cache_dir=tiny_gestures, progress=False)
    a = load_frames("gestures", "test", **base)
    names = {a.meta["cache_file"]}
    for change in ({"n_bins": 5}, {"size": 16}, {"seed": 1}, {"window_us": 300_000}):
        names.add(load_frames("gestures", "test", **{**base, **change}).meta["cache_file"])
    names.add(load_frames("gestures", "train", **base).meta["cache_file"])
    assert len(names) == 6
    assert load_frames("gestures", "test", **base).meta["cache_file"] == a.meta["cache_file"]
    # A shorter window keeps fewer events; a different seed gives other samples.
    short = load_frames("gestures", "test", **{**base, "window_us": 300_000})
    assert short.x[:].sum() < a.x[:].sum()
    assert not torch.equal(load_frames("gestures", "test", **{**base, "seed": 1}).x[:], a.x[:])


def test_damaged_cache_file_is_rebuilt(tiny_gestures):
    a = load_frames("gestures", "test", n_bins=3, size=8, cache_dir=tiny_gestures, progress=False)
    want = a.x[:]
    path = a.meta["cache_file"]
    with open(f"{path}/index.json", "wb") as f:
        f.write(b"garbage")
    b = load_frames("gestures", "test", n_bins=3, size=8, cache_dir=tiny_gestures, progress=False)
    assert torch.equal(want, b.x[:])


def test_load_frames_bad_input(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'mnist'"):
        load_frames("mnist", cache_dir=tmp_path)
    with pytest.raises(DataError, match="split must be"):
        load_frames("gestures", "val", cache_dir=tmp_path)
    with pytest.raises(DataError, match="needs root=.*research.ibm.com"):
        load_frames("dvsgesture", cache_dir=tmp_path)
    with pytest.raises(DataError, match="n_bins and size must be positive"):
        load_frames("gestures", n_bins=-1, cache_dir=tmp_path)


def test_subset_keeps_classes():
    ds = FramedDataset(
        torch.zeros(6, 2, 2, 4, 4, dtype=torch.uint8), torch.arange(6) % 3, ["a", "b", "c"]
    )
    sub = ds.subset(np.array([1, 4]))
    assert sub.y.tolist() == [1, 1] and len(sub) == 2 and sub.classes == ["a", "b", "c"]
    frames, label = ds[2]
    assert frames.shape == (2, 2, 4, 4) and int(label) == 2


# ---- splits -----------------------------------------------------------------------------------


def test_stratified_fraction_is_stratified_and_seeded():
    y = np.repeat(np.arange(5), [100, 50, 20, 3, 1])
    idx = stratified_fraction(y, 0.1, seed=0)
    assert np.all(np.diff(idx) > 0)
    assert np.bincount(y[idx], minlength=5).tolist() == [10, 5, 2, 1, 1]  # at least one per class
    assert np.array_equal(idx, stratified_fraction(y, 0.1, seed=0))
    assert not np.array_equal(idx, stratified_fraction(y, 0.1, seed=1))
    assert np.array_equal(stratified_fraction(y, 1.0, seed=3), np.arange(len(y)))
    assert np.array_equal(stratified_fraction(torch.as_tensor(y), 0.1, 0), idx)
    with pytest.raises(DataError, match="label fraction"):
        stratified_fraction(y, 0.0, 0)


def test_train_val_split_is_a_stratified_partition():
    y = np.repeat(np.arange(3), [50, 20, 1])
    tr, va = train_val_split(y, 0.2, seed=0)
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(len(y)))
    assert not set(tr) & set(va)
    assert np.bincount(y[va], minlength=3).tolist() == [10, 4, 0]  # a lone sample stays in training
    tr2, va2 = train_val_split(y, 0.2, seed=0)
    assert np.array_equal(va, va2) and not np.array_equal(va, train_val_split(y, 0.2, seed=5)[1])
    with pytest.raises(DataError, match="validation fraction"):
        train_val_split(y, 1.0, 0)
