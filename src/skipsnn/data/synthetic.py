r"""Built-in synthetic event datasets, generated on first use: ``gestures`` and ``digits``.

Both render a video of intensities and pass it through the DVS pixel model of
`skipsnn.data.dvs`, the way real event-camera datasets were recorded.

**gestures** mirrors DVS128 Gesture on a 32x32 sensor: 11 classes of moving bright
blobs (a hand plus two smaller forearm blobs towards an elbow) on a dark static
background. The subject faces the camera, so the right hand appears on the image's left.
Per sample the speed, size, position, phase, brightness, contrast threshold and noise
rate vary. Arm circles turn a whole number of revolutions from a uniformly random start
angle; with the motion periodic, each pixel's total rise in log intensity equals its
total fall, and a counter-clockwise sample is the time reversal of a clockwise one, so
both give the same time-collapsed ON and OFF counts: only the order of events tells
clockwise (on screen, y down) from counter-clockwise.

**digits** takes scikit-learn's bundled 8x8 handwritten digits (1797 images, no
download), upsamples them to 24x24 (bilinear) inside a 32x32 sensor, and moves them
through three saccades along a triangle (0,0) -> (+2.5,+2.5) -> (-2.5,+2.5) -> (0,0)
pixels, 100 ms each with a smooth velocity profile, as N-MNIST was recorded.

Fixed splits: gestures draws ``n_train`` and ``n_test`` samples per class from separate
random streams; digits puts every fifth image (index % 5 == 0, 360 images) in the test
set and the other 1437 in the training set. Everything is a function of the seed.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .dvs import PixelModel, counts_to_events, dvs_counts

SENSOR = 32  # synthetic sensors are SENSOR x SENSOR pixels
DT_US = 5000  # simulation step
GESTURE_STEPS = 120  # 600 ms per gesture
DIGIT_STEPS = 60  # three saccades of 100 ms
CHUNK = 64  # samples simulated together; fixed, so results do not depend on memory

GESTURE_CLASSES = [
    "hand_clapping",
    "right_hand_wave",
    "left_hand_wave",
    "right_arm_clockwise",
    "right_arm_counter_clockwise",
    "left_arm_clockwise",
    "left_arm_counter_clockwise",
    "arm_roll",
    "air_drums",
    "air_guitar",
    "other_gestures",
]
DIGIT_CLASSES = [str(d) for d in range(10)]


class EventSet(NamedTuple):
    """Many samples' events stored back to back: sample ``i`` is ``events[offsets[i]:offsets[i+1]]``."""

    events: np.ndarray  # EVENT_DTYPE
    offsets: np.ndarray  # int64 [N + 1]
    labels: np.ndarray  # int64 [N]

    def sample(self, i: int) -> np.ndarray:
        return self.events[self.offsets[i] : self.offsets[i + 1]]


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def _concat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_total: int) -> EventSet:
    """Join per-chunk (events, sample index, labels) into one `EventSet`."""
    events = np.concatenate([p[0] for p in parts])
    sample = np.concatenate([p[1] for p in parts])
    labels = np.concatenate([p[2] for p in parts]).astype(np.int64)
    counts = np.bincount(sample, minlength=n_total)
    offsets = np.zeros(n_total + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return EventSet(events, offsets, labels)


# ---------------------------------------------------------------------------------------
# gestures
# ---------------------------------------------------------------------------------------


def _blobs_video(centers, sigmas, amps, background) -> np.ndarray:
    """Intensity video ``[B, S, H, W]`` of Gaussian blobs ``centers [B, S, K, 2]`` (x, y).

    A round Gaussian is separable, ``exp(-(dx^2 + dy^2) / 2s^2) = gy * gx``, so the
    blobs are one batched matrix product over the blob axis.
    """
    grid = np.arange(SENSOR, dtype=np.float32) + 0.5
    inv = (-0.5 / sigmas**2).astype(np.float32)[:, None, :, None]  # [B, 1, K, 1]
    gx = np.exp((grid - centers[..., 0, None].astype(np.float32)) ** 2 * inv)  # [B, S, K, W]
    gy = np.exp((grid - centers[..., 1, None].astype(np.float32)) ** 2 * inv)  # [B, S, K, H]
    gy = gy * amps.astype(np.float32)[:, None, :, None]
    return background[:, None] + np.matmul(gy.transpose(0, 1, 3, 2), gx)


def _arm(hand: np.ndarray, pivot: np.ndarray) -> list[np.ndarray]:
    """Hand plus two forearm points at 2/3 and 1/3 of the way from the pivot (elbow)."""
    return [hand, pivot + (hand - pivot) * (2 / 3), pivot + (hand - pivot) * (1 / 3)]


def _gesture_trajectories(cls: int, n: int, u: np.ndarray, rng: np.random.Generator):
    """Blob centres ``[n, S, 6, 2]`` and a mask of which of the 6 blobs are visible."""
    s = len(u)
    uu = u[None, :, None]  # [1, S, 1] normalised time in [0, 1)
    phase = rng.uniform(0, 2 * math.pi, size=(n, 1, 1))
    jitter = rng.normal(0, 1.2, size=(n, 1, 2))

    def pt(x, y):  # a fixed point per sample, broadcast over time: [n, 1, 2]
        return np.array([x, y], dtype=np.float64)[None, None, :] + jitter

    def xy(x, y):
        return np.stack(np.broadcast_arrays(x, y), axis=-1).reshape(n, s, 2)

    def mirror(p):  # left <-> right of the image
        q = p.copy()
        q[..., 0] = SENSOR - q[..., 0]
        return q

    def wave(side):
        elbow = pt(9.0, 23.0)
        length = rng.uniform(8, 11, size=(n, 1, 1))
        amp = rng.uniform(0.4, 0.7, size=(n, 1, 1))
        freq = rng.uniform(1.5, 3.0, size=(n, 1, 1))
        theta = amp * np.sin(2 * math.pi * freq * uu + phase)
        hand = elbow + xy(length * np.sin(theta), -length * np.cos(theta))
        arm = _arm(hand, np.broadcast_to(elbow, hand.shape))
        return [mirror(a) for a in arm] if side else arm

    def circle(side, direction):
        centre = pt(10.0, 13.0)
        radius = rng.uniform(4.5, 7.0, size=(n, 1, 1))
        turns = rng.integers(1, 3, size=(n, 1, 1))  # whole revolutions: periodic motion
        theta = phase + direction * 2 * math.pi * turns * uu
        hand = centre + xy(radius * np.cos(theta), radius * np.sin(theta))
        elbow = np.broadcast_to(centre + np.array([0.0, 9.0]), hand.shape)
        arm = _arm(hand, elbow)
        return [mirror(a) for a in arm] if side else arm

    hidden = np.zeros((n, s, 2))
    if cls == 0:  # clapping: hands meet and part at the centre
        centre = pt(16.0, 18.0)
        freq = rng.uniform(2.0, 4.0, size=(n, 1, 1))
        half = 1.5 + rng.uniform(4, 6, size=(n, 1, 1)) * 0.5 * (
            1 + np.cos(2 * math.pi * freq * uu + phase)
        )
        right = centre + xy(-half, 0.0)
        left = centre + xy(half, 0.0)
        blobs = _arm(right, centre + np.array([-9.0, 8.0])) + _arm(
            left, centre + np.array([9.0, 8.0])
        )
    elif cls in (1, 2):
        blobs = wave(cls == 2) + [hidden] * 3
    elif cls in (3, 4, 5, 6):
        side = cls in (5, 6)
        blobs = circle(side, +1 if cls in (3, 5) else -1) + [hidden] * 3
    elif cls == 7:  # arm roll: both hands circle each other in front of the chest
        centre = pt(16.0, 19.0)
        radius = rng.uniform(2.5, 4.0, size=(n, 1, 1))
        turns = rng.integers(2, 5, size=(n, 1, 1))
        theta = phase + 2 * math.pi * turns * uu
        right = centre + xy(radius * np.cos(theta), radius * np.sin(theta))
        left = centre + xy(-radius * np.cos(theta), -radius * np.sin(theta))
        blobs = _arm(right, centre + np.array([-9.0, 7.0])) + _arm(
            left, centre + np.array([9.0, 7.0])
        )
    elif cls == 8:  # air drums: hands beat up and down in turn
        freq = rng.uniform(2.0, 3.5, size=(n, 1, 1))
        amp = rng.uniform(2.5, 4.0, size=(n, 1, 1))
        beat = amp * np.sin(2 * math.pi * freq * uu + phase)
        right = pt(11.0, 21.0) + xy(0.0, beat)
        left = pt(21.0, 21.0) + xy(0.0, -beat)
        blobs = _arm(right, pt(6.0, 28.0)) + _arm(left, pt(26.0, 28.0))
    elif cls == 9:  # air guitar: fast strumming low, slow fretting high on the other side
        freq = rng.uniform(3.0, 5.0, size=(n, 1, 1))
        amp = rng.uniform(2.0, 3.5, size=(n, 1, 1))
        strum = pt(13.0, 22.0) + xy(0.0, amp * np.sin(2 * math.pi * freq * uu + phase))
        fret_move = 1.5 * np.sin(2 * math.pi * 0.7 * uu + 2 * phase)
        fret = pt(24.0, 13.0) + xy(fret_move, 0.5 * fret_move)
        blobs = _arm(strum, pt(8.0, 27.0)) + _arm(fret, pt(26.0, 24.0))
    else:  # other: one or two hands on random smooth paths
        paths = []
        for _ in range(2):
            f = rng.uniform(0.5, 2.5, size=(n, 1, 2, 2))
            a = rng.uniform(1.5, 6.0, size=(n, 1, 2, 2))
            ph = rng.uniform(0, 2 * math.pi, size=(n, 1, 2, 2))
            base = rng.uniform(9, 23, size=(n, 1, 2))
            wob = (a * np.sin(2 * math.pi * f * u[None, :, None, None] + ph)).sum(axis=-1)
            paths.append(base + wob)
        elbow = pt(16.0, 28.0)
        blobs = _arm(paths[0], np.broadcast_to(elbow, paths[0].shape)) + _arm(
            paths[1], np.broadcast_to(elbow, paths[1].shape)
        )
        one_hand = rng.random(n) < 0.5
        for k in range(3, 6):
            blobs[k] = np.where(one_hand[:, None, None], hidden, blobs[k])
    centers = np.stack([np.broadcast_to(b, (n, s, 2)) for b in blobs], axis=2)
    visible = np.ones((n, 6), dtype=bool)
    if cls in (1, 2, 3, 4, 5, 6):
        visible[:, 3:] = False
    if cls == 10:
        visible[:, 3:] = ~one_hand[:, None]
    return centers, visible


def generate_gestures(
    n_per_class: int,
    seed: int,
    split_stream: int,
    model: PixelModel = PixelModel(),
    progress=None,
    class_ids: tuple[int, ...] | None = None,
) -> EventSet:
    """``n_per_class`` samples of each gesture class (all 11, or ``class_ids``), interleaved.

    Sample ``i`` has class ``class_ids[i % len(class_ids)]``.
    """
    class_ids = np.arange(len(GESTURE_CLASSES)) if class_ids is None else np.asarray(class_ids)
    n_total = n_per_class * len(class_ids)
    labels_all = class_ids[np.arange(n_total) % len(class_ids)]
    u = np.arange(GESTURE_STEPS) / GESTURE_STEPS
    parts = []
    for ci, start in enumerate(range(0, n_total, CHUNK)):
        rng = _rng(seed, 1, split_stream, ci)
        labels = labels_all[start : start + CHUNK]
        b = len(labels)
        centers = np.zeros((b, GESTURE_STEPS, 6, 2))
        visible = np.zeros((b, 6), dtype=bool)
        for cls in np.unique(labels):
            sel = labels == cls
            centers[sel], visible[sel] = _gesture_trajectories(int(cls), int(sel.sum()), u, rng)
        hand_sigma = rng.uniform(1.3, 2.0, size=(b, 1))
        sigmas = np.concatenate([hand_sigma, 0.8 * hand_sigma, 0.7 * hand_sigma] * 2, axis=1)
        brightness = rng.uniform(0.6, 1.0, size=(b, 1))
        amps = np.concatenate([brightness, 0.6 * brightness, 0.5 * brightness] * 2, axis=1)
        amps = amps * visible
        background = (0.15 + 0.1 * rng.random((b, 1, 1))).astype(np.float32) * np.ones(
            (1, SENSOR, SENSOR), np.float32
        )
        background = background + 0.03 * rng.random((b, SENSOR, SENSOR)).astype(np.float32)
        video = _blobs_video(centers, sigmas, amps, background)
        chunk_model = model._replace(contrast=float(model.contrast * rng.uniform(0.9, 1.1)))
        on, off = dvs_counts(video, DT_US, chunk_model, rng)
        ev, sample = counts_to_events(on, off, DT_US, rng)
        parts.append((ev, sample + start, labels))
        if progress is not None:
            progress.update(b)
    return _concat(parts, n_total)


# ---------------------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------------------


def _saccade_offsets(n: int, rng: np.random.Generator) -> np.ndarray:
    """Image offsets ``[n, S, 2]`` (x, y) along three saccades with a smooth velocity."""
    vertices = np.array([[0.0, 0.0], [2.5, 2.5], [-2.5, 2.5], [0.0, 0.0]])
    per = DIGIT_STEPS // 3
    k = np.arange(DIGIT_STEPS)
    leg, frac = k // per, (k % per) / per
    ease = 0.5 - 0.5 * np.cos(math.pi * frac)  # zero velocity at the turning points
    path = vertices[leg] + (vertices[leg + 1] - vertices[leg]) * ease[:, None]
    scale = rng.uniform(0.9, 1.1, size=(n, 1, 1))
    return path[None] * scale


def _shifted_frames(images: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``images [n, H, W]`` moved by ``offsets [n, S, 2]``: ``[n, S, H, W]``."""
    n, h, w = images.shape
    pad = np.zeros((n, h + 2, w + 2), dtype=np.float32)
    pad[:, 1:-1, 1:-1] = images
    grid = np.arange(h, dtype=np.float64)
    sx = grid[None, None, None, :] - offsets[..., 0, None, None] + 1  # source coords in pad
    sy = grid[None, None, :, None] - offsets[..., 1, None, None] + 1
    sx = np.clip(sx, 0, w + 1 - 1e-6)
    sy = np.clip(sy, 0, h + 1 - 1e-6)
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w + 1), np.minimum(y0 + 1, h + 1)
    fx, fy = (sx - x0).astype(np.float32), (sy - y0).astype(np.float32)
    b = np.arange(n)[:, None, None, None]
    top = pad[b, y0, x0] * (1 - fx) + pad[b, y0, x1] * fx
    bottom = pad[b, y1, x0] * (1 - fx) + pad[b, y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits upsampled to 24x24 and centred in the sensor: ``[1797, 32, 32]``."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    d = load_digits()
    small = d.images.astype(np.float32) / 16.0
    big = np.clip(zoom(small, (1, 3, 3), order=1, grid_mode=True, mode="nearest"), 0, 1)
    canvas = np.zeros((len(small), SENSOR, SENSOR), dtype=np.float32)
    o = (SENSOR - 24) // 2
    canvas[:, o : o + 24, o : o + 24] = big
    return canvas, d.target.astype(np.int64)


def generate_digits(
    split: str, seed: int, model: PixelModel = PixelModel(), progress=None, limit: int | None = None
) -> EventSet:
    """The digits train (1437) or test (360) set as events (only the first ``limit``)."""
    images, labels = digit_images()
    is_test = np.arange(len(labels)) % 5 == 0
    keep = is_test if split == "test" else ~is_test
    images, labels = images[keep][:limit], labels[keep][:limit]
    parts = []
    for ci, start in enumerate(range(0, len(labels), CHUNK)):
        rng = _rng(seed, 2, int(split == "test"), ci)
        img = images[start : start + CHUNK]
        b = len(img)
        offsets = _saccade_offsets(b, rng)
        level = rng.uniform(0.7, 1.0, size=(b, 1, 1, 1)).astype(np.float32)
        video = 0.1 + level * _shifted_frames(img, offsets)
        on, off = dvs_counts(video, DT_US, model, rng)
        ev, sample = counts_to_events(on, off, DT_US, rng)
        parts.append((ev, sample + start, labels[start : start + CHUNK]))
        if progress is not None:
            progress.update(b)
    return _concat(parts, len(labels))
