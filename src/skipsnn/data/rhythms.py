r"""``rhythms``: a built-in temporal benchmark whose classes differ in timing alone.

Every sample shows the same spatial content on a 16x16 sensor: a bright blob that
flashes twice at one random place, and one distractor flash of the same kind at another
place, on a dark background with pixel noise, all turned into events by the DVS pixel
model of `skipsnn.data.dvs`. The class is the **interval** ``d`` between the two flashes
at the same place, one of `INTERVAL_BINS` time bins (of the default 32-bin framing):
from a few steps to half the sample, on a geometric scale, so the network must hold a
memory over several time scales.

Time is circular. A sample lasts ``S`` simulation steps; the first flash starts at an
onset drawn uniformly from the ``S`` steps (on the bin grid) and the second ``d`` bins
later, modulo ``S``; the distractor starts at its own uniform onset. Every flash is
therefore, on its own, uniformly placed in time whatever the class: the expected event
count of every pixel in every time window is the same in every class, and so are the
time-collapsed counts (each sample holds three identical kinds of flash). Only the
*relation* between the two flashes' times tells the classes apart: the two gaps on the
circle are ``d`` and ``S - d`` (a pair near the end continues at the start). Size,
brightness, place, contrast threshold and noise rate vary per sample, independently
of the class.

A flash is on for one bin (``STEPS_PER_BIN`` simulation steps): its ON events fall in
the bin where it appears and its OFF events in the next. The video is rendered with a
few blank warm-up steps (the pixel model takes its first frame as reference) and two
extra steps at the end whose counts are folded back onto the start, so a flash in the
last bin keeps its OFF events (circular time, exactly).

Fixed splits: ``n_train`` and ``n_test`` samples per class from separate random
streams. Everything is a function of the seed.
"""

from __future__ import annotations

import numpy as np

from .dvs import PixelModel, counts_to_events, dvs_counts
from .synthetic import CHUNK, DT_US, EventSet, _concat, _rng

RHYTHM_SENSOR = 16  # pixels per side
RHYTHM_BINS = 32  # default time bins of the framing
STEPS_PER_BIN = 2
RHYTHM_STEPS = RHYTHM_BINS * STEPS_PER_BIN  # 64 steps of 5 ms: 320 ms per sample
INTERVAL_BINS = (2, 3, 5, 8, 12, 16)  # the class is the interval between the two flashes
RHYTHM_CLASSES = [f"interval_{d}" for d in INTERVAL_BINS]
WARMUP = 4  # blank steps before the sample (the pixel model's reference frame)
# Pixel noise is stronger than in the other sets: about 150-600 noise events per sample.
RHYTHM_MODEL = PixelModel(noise_hz=(2.0, 8.0))
MIN_SEPARATION = 6.0  # pixels between the pair's place and the distractor's


def _places(b: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``[b, 2]`` of the pair and of the distractor, at least `MIN_SEPARATION` apart."""
    lo, hi = 3.0, RHYTHM_SENSOR - 3.0
    pair = rng.uniform(lo, hi, size=(b, 2))
    other = rng.uniform(lo, hi, size=(b, 2))
    for _ in range(100):  # redraw the distractors that are too close (a few rounds at most)
        close = np.hypot(*(other - pair).T) < MIN_SEPARATION
        if not close.any():
            break
        other[close] = rng.uniform(lo, hi, size=(int(close.sum()), 2))
    return pair, other


def _blob(centres: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Unit-height Gaussian blobs ``[b, H, W]`` at ``centres [b, 2]`` (x, y)."""
    grid = np.arange(RHYTHM_SENSOR, dtype=np.float64) + 0.5
    gx = np.exp(-((grid[None, :] - centres[:, :1]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((grid[None, :] - centres[:, 1:]) ** 2) / (2 * sigma**2))
    return (gy[:, :, None] * gx[:, None, :]).astype(np.float32)


def _flash_mask(onset_bin: np.ndarray) -> np.ndarray:
    """``[b, S + 2]`` float: 1 on the steps a flash starting in ``onset_bin`` is on.

    Circular: the steps past ``S`` are rendered at the end (``S`` and ``S + 1``) and
    their counts folded back onto the start by `_fold`.
    """
    steps = np.arange(RHYTHM_STEPS + 2)
    start = (onset_bin * STEPS_PER_BIN)[:, None]
    return ((steps >= start) & (steps < start + STEPS_PER_BIN)).astype(np.float32)


def _fold(counts: np.ndarray) -> np.ndarray:
    """Counts ``[b, WARMUP + S + 2, H, W]`` -> ``[b, S, H, W]``: warm-up dropped, the two
    steps past the end added to the first two (circular time)."""
    body = counts[:, WARMUP : WARMUP + RHYTHM_STEPS].astype(np.int32)
    body[:, :2] += counts[:, WARMUP + RHYTHM_STEPS :]
    return np.minimum(body, 255).astype(np.uint8)


def generate_rhythms(
    n_per_class: int,
    seed: int,
    split_stream: int,
    model: PixelModel = RHYTHM_MODEL,
    progress=None,
) -> EventSet:
    """``n_per_class`` samples of each interval class, interleaved (sample ``i`` has class
    ``i % 6``)."""
    k = len(INTERVAL_BINS)
    n_total = n_per_class * k
    labels_all = np.arange(n_total) % k
    intervals = np.asarray(INTERVAL_BINS)
    parts = []
    for ci, start in enumerate(range(0, n_total, CHUNK)):
        rng = _rng(seed, 3, split_stream, ci)
        labels = labels_all[start : start + CHUNK]
        b = len(labels)
        pair, other = _places(b, rng)
        sigma = rng.uniform(1.0, 1.6, size=(b, 1))
        level = rng.uniform(0.5, 1.0, size=(b, 1, 1)).astype(np.float32)
        first = rng.integers(0, RHYTHM_BINS, size=b)
        second = (first + intervals[labels]) % RHYTHM_BINS
        distractor = rng.integers(0, RHYTHM_BINS, size=b)
        on_pair = _flash_mask(first) + _flash_mask(second)  # [b, S + 2]
        on_other = _flash_mask(distractor)
        blank = np.zeros((b, WARMUP), np.float32)
        on_pair = np.concatenate([blank, on_pair], axis=1)
        on_other = np.concatenate([blank, on_other], axis=1)
        video = (
            on_pair[:, :, None, None] * _blob(pair, sigma)[:, None]
            + on_other[:, :, None, None] * _blob(other, sigma)[:, None]
        ) * level[:, None]
        background = 0.15 + 0.1 * rng.random((b, 1, 1, 1)).astype(np.float32)
        background = background + 0.03 * rng.random((b, 1, RHYTHM_SENSOR, RHYTHM_SENSOR))
        video = video + background.astype(np.float32)
        chunk_model = model._replace(contrast=float(model.contrast * rng.uniform(0.9, 1.1)))
        on, off = dvs_counts(video, DT_US, chunk_model, rng)
        ev, sample = counts_to_events(_fold(on), _fold(off), DT_US, rng)
        parts.append((ev, sample + start, labels))
        if progress is not None:
            progress.update(b)
    return _concat(parts, n_total)
