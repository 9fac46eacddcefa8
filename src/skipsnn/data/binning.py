r"""Events to frames ``[T, 2, H, W]``: time bins, polarity channels, spatial downsampling.

A sample's events in the window ``[t0, t0 + window)`` fall into ``T`` equal time bins;
event ``(x, y, t, p)`` adds one to ``frame[floor((t - t0) T / window), p,
floor(y H / H_s), floor(x W / W_s)]`` for a sensor of ``W_s x H_s`` pixels, so a
spatial downsampling by an integer factor is sum pooling. Channel ``p = 1`` holds ON
events, ``p = 0`` OFF events. Counts are clipped to 255 and stored as ``uint8``.
``t0`` is the sample's first event (0 for the synthetic sets, whose clock starts with
the sample) and ``window`` is the dataset's fixed window or, when it has none, the
sample's own time span. Numpy only; `skipsnn.data.framing` frames whole datasets.
"""

from __future__ import annotations

import numpy as np


def _counts(
    ev: np.ndarray,
    start: int,
    span: int,
    sample: np.ndarray | int,
    n_samples: int,
    sensor_size: tuple[int, int],
    size: tuple[int, int],
    n_bins: int,
) -> np.ndarray:
    """``uint8 [n_samples, n_bins, 2, H, W]`` counts of ``ev`` (sample ``sample[i]``)."""
    w_s, h_s = sensor_size
    w, h = size
    per = n_bins * 2 * h * w
    t = ev["t"].astype(np.int64)
    b = (t - start) * n_bins // span
    x, y = ev["x"].astype(np.int64), ev["y"].astype(np.int64)
    ok = (b >= 0) & (b < n_bins) & (x >= 0) & (x < w_s) & (y >= 0) & (y < h_s)
    p = (ev["p"] > 0).astype(np.int64)
    flat = sample * per + ((b * 2 + p) * h + y * h // h_s) * w + x * w // w_s
    counts = np.bincount(flat[ok], minlength=n_samples * per)
    return np.minimum(counts, 255).astype(np.uint8).reshape(n_samples, n_bins, 2, h, w)


def frame_events(
    events: np.ndarray,
    sensor_size: tuple[int, int],
    n_bins: int,
    size: tuple[int, int] | None = None,
    t0: int | None = None,
    window_us: int | None = None,
) -> np.ndarray:
    """One sample's events as ``uint8 [n_bins, 2, H, W]`` (see the module docstring).

    ``sensor_size`` and ``size`` are ``(width, height)``; ``size=None`` keeps the sensor
    resolution. Events outside the window or the sensor are dropped.
    """
    size = size or sensor_size
    start, span = 0, 1
    if len(events):
        t = events["t"].astype(np.int64)
        start = int(t.min()) if t0 is None else int(t0)
        span = int(window_us) if window_us else max(int(t.max()) - start + 1, 1)
    return _counts(events, start, span, 0, 1, sensor_size, size, n_bins)[0]


def frame_many(
    events: np.ndarray,
    offsets: np.ndarray,
    sensor_size: tuple[int, int],
    n_bins: int,
    size: tuple[int, int],
    window_us: int,
    chunk: int = 256,
) -> np.ndarray:
    """Frames of many samples stored back to back (clock starting at 0 in each sample)."""
    n = len(offsets) - 1
    w, h = size
    out = np.empty((n, n_bins, 2, h, w), dtype=np.uint8)
    for s0 in range(0, n, chunk):
        s1 = min(n, s0 + chunk)
        ev = events[offsets[s0] : offsets[s1]]
        sample = np.repeat(np.arange(s1 - s0), np.diff(offsets[s0 : s1 + 1]))
        out[s0:s1] = _counts(ev, 0, window_us, sample, s1 - s0, sensor_size, size, n_bins)
    return out


# ---------------------------------------------------------------------------------------
# frame geometry: sensors that are not square
# ---------------------------------------------------------------------------------------

GEOMETRIES = ("aspect", "pad", "stretch")


def frame_geometry(
    sensor_size: tuple[int, int], size: int, geometry: str
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``(frame (w, h), shift (dx, dy), framed sensor (w, h))`` for a ``size`` option.

    - ``aspect``: the frame keeps the sensor's aspect, ``size`` is its longer side
      (240x180 at size 64 -> 64x48: both axes pooled by 3.75);
    - ``pad``: the sensor is padded to a square (events shifted by ``shift`` to centre
      it), then framed to ``size x size`` (240x180 -> 240x240 -> 64x64, pooled by 3.75);
    - ``stretch``: ``size x size`` whatever the sensor (each axis pooled by its own factor).

    The three agree on a square sensor.
    """
    w, h = (int(v) for v in sensor_size)
    if geometry == "stretch" or w == h:
        return (size, size), (0, 0), (w, h)
    if geometry == "aspect":
        if w >= h:
            return (size, max(1, round(size * h / w))), (0, 0), (w, h)
        return (max(1, round(size * w / h)), size), (0, 0), (w, h)
    if geometry == "pad":
        side = max(w, h)
        return (size, size), ((side - w) // 2, (side - h) // 2), (side, side)
    raise ValueError(f"unknown frame geometry {geometry!r}; choose one of {', '.join(GEOMETRIES)}")


def frame_sample(
    events: np.ndarray,
    sensor_size: tuple[int, int],
    n_bins: int,
    size: int,
    geometry: str = "stretch",
    window_us: int | None = None,
) -> np.ndarray:
    """One sample framed to ``uint8 [n_bins, 2, H, W]`` with a `frame_geometry`."""
    frame, (dx, dy), sensor = frame_geometry(sensor_size, size, geometry)
    if dx or dy:
        events = events.copy()
        events["x"] += dx
        events["y"] += dy
    return frame_events(events, sensor, n_bins, frame, window_us=window_us)
