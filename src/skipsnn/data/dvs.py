r"""A DVS pixel model: turns a video of intensities into events.

Each pixel remembers the log intensity :math:`L_{ref}` at its last event. At every
simulation step (width ``dt_us``) with log intensity :math:`L = \log(I + \epsilon)` it
emits

    n_on  = floor((L - L_ref) / C_on)     ON events  when L rises,
    n_off = floor((L_ref - L) / C_off)    OFF events when L falls,

at most ``dt_us // refractory_us`` of them (the refractory period: a pixel cannot fire
again sooner), and moves :math:`L_{ref}` by the contrast it has reported. The thresholds
``C_on``, ``C_off`` differ from pixel to pixel (mismatch: a relative Gaussian spread),
and every pixel also fires noise events at a small random rate, each of random polarity.
Events get a uniform random time inside their step. The reference starts at the first
frame, so a static scene gives noise only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .events import EVENT_DTYPE


class PixelModel(NamedTuple):
    """Parameters of the DVS pixel model."""

    contrast: float = 0.15  # mean contrast threshold, in log-intensity units
    mismatch: float = 0.03  # standard deviation of the per-pixel threshold, absolute
    refractory_us: int = 1000  # a pixel cannot fire twice within this time
    noise_hz: tuple[float, float] = (0.2, 1.0)  # per-pixel noise rate, drawn per sample
    log_eps: float = 0.05  # dark offset inside the logarithm


def dvs_counts(
    video: np.ndarray, dt_us: int, model: PixelModel, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Event counts of a batch of videos ``[B, S, H, W]`` (intensities >= 0).

    Returns ``(on, off)``, each ``uint8 [B, S, H, W]``: the number of ON / OFF events
    each pixel emits during each step (step 0 is the reference frame and has none but
    noise).
    """
    b, s, h, w = video.shape
    log_i = np.log(video.astype(np.float32) + np.float32(model.log_eps))
    thr_shape = (b, h, w)
    c_on = np.maximum(model.contrast + model.mismatch * rng.standard_normal(thr_shape), 0.02)
    c_off = np.maximum(model.contrast + model.mismatch * rng.standard_normal(thr_shape), 0.02)
    c_on, c_off = c_on.astype(np.float32), c_off.astype(np.float32)
    cap = max(1, dt_us // model.refractory_us)
    ref = log_i[:, 0].copy()
    on = np.zeros((b, s, h, w), dtype=np.uint8)
    off = np.zeros((b, s, h, w), dtype=np.uint8)
    for k in range(1, s):
        d = log_i[:, k] - ref
        n_on = np.minimum(np.floor(d / c_on), cap).clip(min=0)
        n_off = np.minimum(np.floor(-d / c_off), cap).clip(min=0)
        ref += n_on * c_on - n_off * c_off
        on[:, k] = n_on
        off[:, k] = n_off
    # Noise: Bernoulli per pixel and step with probability rate * dt, random polarity:
    # one uniform draw u per pixel and step, an ON event if u < rate / 2, OFF if below rate.
    rate = (rng.uniform(*model.noise_hz, size=(b, 1, 1, 1)) * dt_us * 1e-6).astype(np.float32)
    u = rng.random((b, s, h, w), dtype=np.float32)
    on += u < 0.5 * rate
    off += (u >= 0.5 * rate) & (u < rate)
    return on, off


def counts_to_events(
    on: np.ndarray, off: np.ndarray, dt_us: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Events of a batch of count videos, time-sorted within each sample.

    Returns ``(events, sample_index)``: one `EVENT_DTYPE` array holding all samples'
    events one after the other, and the sample each event belongs to.
    """
    parts = []
    for pol, counts in ((1, on), (0, off)):
        idx = np.nonzero(counts)
        reps = counts[idx].astype(np.int64)
        cols = [np.repeat(a, reps) for a in idx]
        parts.append((*cols, np.full(len(cols[0]), pol, dtype=np.int8)))
    bi, si, yi, xi, pi = (np.concatenate([p[i] for p in parts]) for i in range(5))
    t = si.astype(np.int64) * dt_us + rng.integers(0, dt_us, size=len(si))
    span = on.shape[1] * dt_us  # every t is below span, so (sample, t) sorts as one key
    order = np.argsort(bi.astype(np.int64) * span + t, kind="stable")
    ev = np.empty(len(order), dtype=EVENT_DTYPE)
    ev["x"], ev["y"], ev["t"], ev["p"] = xi[order], yi[order], t[order], pi[order]
    return ev, bi[order]
