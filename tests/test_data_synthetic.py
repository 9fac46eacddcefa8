"""Synthetic event datasets: determinism, event validity, and the CW/CCW property."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from skipsnn.data import catalog, synthetic_events
from skipsnn.data.binning import frame_many
from skipsnn.data.dvs import PixelModel, counts_to_events, dvs_counts
from skipsnn.data.synthetic import (
    DT_US,
    GESTURE_CLASSES,
    GESTURE_STEPS,
    SENSOR,
    generate_digits,
    generate_gestures,
)

WINDOW = GESTURE_STEPS * DT_US
RIGHT_CW, RIGHT_CCW, LEFT_CW = (
    GESTURE_CLASSES.index(n)
    for n in ("right_arm_clockwise", "right_arm_counter_clockwise", "left_arm_clockwise")
)


def _equal(a, b) -> bool:
    return (
        np.array_equal(a.events, b.events)
        and np.array_equal(a.offsets, b.offsets)
        and np.array_equal(a.labels, b.labels)
    )


def _check_valid(es, n_classes):
    ev = es.events
    assert es.offsets[0] == 0 and es.offsets[-1] == len(ev)
    assert ev["x"].min() >= 0 and ev["x"].max() < SENSOR
    assert ev["y"].min() >= 0 and ev["y"].max() < SENSOR
    assert set(np.unique(ev["p"]).tolist()) == {0, 1}
    for i in range(len(es.labels)):
        t = es.sample(i)["t"]
        assert len(t) > 100 and np.all(np.diff(t) >= 0)
    assert set(es.labels.tolist()) <= set(range(n_classes))


def test_gestures_deterministic_from_seed_and_valid():
    a = generate_gestures(2, seed=3, split_stream=0)
    b = generate_gestures(2, seed=3, split_stream=0)
    c = generate_gestures(2, seed=4, split_stream=0)
    assert _equal(a, b)
    assert not np.array_equal(a.events["t"][:1000], c.events["t"][:1000])
    assert a.labels.tolist() == list(range(11)) * 2
    _check_valid(a, 11)


def test_train_and_test_streams_differ():
    a = generate_gestures(1, seed=0, split_stream=0)
    b = generate_gestures(1, seed=0, split_stream=1)
    assert not _equal(a, b)


def test_digits_deterministic_from_seed_and_fixed_split():
    a = generate_digits("test", seed=1, limit=6)
    b = generate_digits("test", seed=1, limit=6)
    assert _equal(a, b)
    _check_valid(a, 10)
    # every fifth of sklearn's digits is a test image: the first test labels are known
    from sklearn.datasets import load_digits

    assert a.labels.tolist() == load_digits().target[::5][:6].tolist()
    assert (
        generate_digits("train", seed=1, limit=3).labels.tolist()
        == load_digits().target[1:4].tolist()
    )


def test_dvs_model_static_scene_gives_only_noise_and_edges_give_polarity():
    rng = np.random.default_rng(0)
    video = np.full((1, 20, 4, 4), 0.5, dtype=np.float32)
    on, off = dvs_counts(video, DT_US, PixelModel(noise_hz=(0.0, 0.0)), rng)
    assert on.sum() == 0 and off.sum() == 0
    video[:, 10:] = 1.0  # a step up in brightness: ON events only, at the step
    on, off = dvs_counts(video, DT_US, PixelModel(noise_hz=(0.0, 0.0), mismatch=0.0), rng)
    expected = int(np.floor(np.log(1.05 / 0.55) / 0.15))
    assert off.sum() == 0 and np.all(on[:, 10] == expected) and on.sum() == 16 * expected
    ev, sample = counts_to_events(on, off, DT_US, rng)
    assert np.all((ev["t"] >= 10 * DT_US) & (ev["t"] < 11 * DT_US)) and np.all(ev["p"] == 1)


def test_refractory_period_caps_events_per_step():
    video = np.ones((1, 2, 1, 1), dtype=np.float32)
    video[:, 1] = 1000.0  # a huge jump would ask for ~46 events
    model = PixelModel(noise_hz=(0.0, 0.0), mismatch=0.0, refractory_us=2500)
    on, _ = dvs_counts(video, DT_US, model, np.random.default_rng(0))
    assert on[0, 1, 0, 0] == DT_US // 2500


def _rotation(frames: np.ndarray) -> np.ndarray:
    """Signed turning of the event centroid over time (> 0: clockwise on screen, y down)."""
    m = frames.sum(axis=2).astype(np.float64)  # [N, T, H, W]
    g = np.arange(m.shape[-1]) + 0.5
    total = m.sum(axis=(2, 3))
    cx = (m.sum(axis=2) * g).sum(-1) / total
    cy = (m.sum(axis=3) * g).sum(-1) / total
    cx -= cx.mean(axis=1, keepdims=True)
    cy -= cy.mean(axis=1, keepdims=True)
    return (cx[:, :-1] * cy[:, 1:] - cy[:, :-1] * cx[:, 1:]).sum(axis=1)


def _summed_accuracy(es) -> float:
    frames = frame_many(es.events, es.offsets, (SENSOR, SENSOR), 1, (16, 16), WINDOW)
    x = np.log1p(frames.reshape(len(es.labels), -1).astype(np.float64))
    return float(
        cross_val_score(LogisticRegression(C=0.1, max_iter=3000), x, es.labels, cv=5).mean()
    )


def test_clockwise_and_counter_clockwise_differ_only_in_time():
    es = generate_gestures(30, seed=0, split_stream=0, class_ids=(RIGHT_CW, RIGHT_CCW))
    y = es.labels
    # Time-collapsed ON/OFF count maps: a classifier is at chance ...
    assert _summed_accuracy(es) < 0.7
    # ... and the class-mean count maps differ no more than two halves of one class do.
    summed = frame_many(es.events, es.offsets, (SENSOR, SENSOR), 1, (16, 16), WINDOW).astype(float)
    cw, ccw = summed[y == RIGHT_CW], summed[y == RIGHT_CCW]
    between = np.abs(cw[::2].mean(0) - ccw[::2].mean(0)).sum()  # 15 against 15 samples
    within = np.abs(cw[::2].mean(0) - cw[1::2].mean(0)).sum()
    assert between < 1.5 * within
    # Time-resolved frames tell them apart: the direction the events turn in.
    resolved = frame_many(es.events, es.offsets, (SENSOR, SENSOR), 12, (SENSOR, SENSOR), WINDOW)
    predicted = np.where(_rotation(resolved) > 0, RIGHT_CW, RIGHT_CCW)
    assert (predicted == y).mean() > 0.95


def test_summed_counts_do_separate_other_classes():
    # the classifier of the test above is able to see spatial differences (right vs left arm)
    es = generate_gestures(20, seed=0, split_stream=0, class_ids=(RIGHT_CW, LEFT_CW))
    assert _summed_accuracy(es) > 0.95


def test_synthetic_events_cached_under_env_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path))
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "test", 1)
    a = synthetic_events("gestures", "test", seed=0, progress=False)
    files = list((tmp_path / "events").glob("gestures-test-*.npz"))
    assert len(files) == 1 and not list((tmp_path / "events").glob(".*tmp"))
    mtime = files[0].stat().st_mtime_ns
    b = synthetic_events("gestures", "test", seed=0, progress=False)
    assert files[0].stat().st_mtime_ns == mtime and _equal(a, b)
    assert _equal(a, generate_gestures(1, seed=0, split_stream=1))


def test_synthetic_events_rejects_unknown_names():
    from skipsnn.errors import DataError

    with pytest.raises(DataError, match="not a synthetic dataset"):
        synthetic_events("dvsgesture")
    with pytest.raises(DataError, match="split must be"):
        synthetic_events("gestures", "validation")
