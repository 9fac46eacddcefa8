r"""Events to frames ``[T, 2, H, W]``, and `load_frames`: a whole dataset framed and cached.

A sample's events in the window ``[t0, t0 + window)`` fall into ``T`` equal time bins;
event ``(x, y, t, p)`` adds one to ``frame[floor((t - t0) T / window), p,
floor(y H / H_s), floor(x W / W_s)]`` for a sensor of ``W_s x H_s`` pixels, so a
spatial downsampling by an integer factor is sum pooling. Channel ``p = 1`` holds ON
events, ``p = 0`` OFF events. Counts are clipped to 255 and stored as ``uint8``.
``t0`` is the sample's first event (0 for the synthetic sets, whose clock starts with
the sample) and ``window`` is the dataset's fixed window or, when it has none, the
sample's own time span.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .cache import atomic_write, cache_root, options_key

FRAMES_VERSION = 1  # bump when framing or generation changes, so old caches are not reused


@dataclass
class FramedDataset:
    """A framed dataset: ``x`` uint8 ``[N, T, 2, H, W]`` event counts, ``y`` int64 ``[N]``."""

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(frames [T, 2, H, W], label)``, so a DataLoader can batch it."""
        return self.x[index], self.y[index]

    def subset(self, indices) -> FramedDataset:
        """The samples at ``indices`` (e.g. from `stratified_fraction`), sharing meta."""
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        return FramedDataset(self.x[idx], self.y[idx], self.classes, dict(self.meta))


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
    w_s, h_s = sensor_size
    w, h = size or sensor_size
    out = np.zeros(n_bins * 2 * h * w, dtype=np.int64)
    if len(events):
        t = events["t"].astype(np.int64)
        start = int(t.min()) if t0 is None else int(t0)
        span = int(window_us) if window_us else max(int(t.max()) - start + 1, 1)
        b = (t - start) * n_bins // span
        x, y = events["x"].astype(np.int64), events["y"].astype(np.int64)
        ok = (b >= 0) & (b < n_bins) & (x >= 0) & (x < w_s) & (y >= 0) & (y < h_s)
        p = (events["p"] > 0).astype(np.int64)
        flat = ((b * 2 + p) * h + y * h // h_s) * w + x * w // w_s
        out += np.bincount(flat[ok], minlength=len(out))
    return np.minimum(out, 255).astype(np.uint8).reshape(n_bins, 2, h, w)


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
    w_s, h_s = sensor_size
    w, h = size
    per = n_bins * 2 * h * w
    out = np.empty((n, n_bins, 2, h, w), dtype=np.uint8)
    for s0 in range(0, n, chunk):
        s1 = min(n, s0 + chunk)
        ev = events[offsets[s0] : offsets[s1]]
        sample = np.repeat(np.arange(s1 - s0), np.diff(offsets[s0 : s1 + 1]))
        t = ev["t"].astype(np.int64)
        b = t * n_bins // window_us
        x, y = ev["x"].astype(np.int64), ev["y"].astype(np.int64)
        ok = (b >= 0) & (b < n_bins) & (x >= 0) & (x < w_s) & (y >= 0) & (y < h_s)
        p = (ev["p"] > 0).astype(np.int64)
        flat = sample * per + ((b * 2 + p) * h + y * h // h_s) * w + x * w // w_s
        counts = np.bincount(flat[ok], minlength=(s1 - s0) * per)
        out[s0:s1] = np.minimum(counts, 255).reshape(s1 - s0, n_bins, 2, h, w)
    return out


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar on stderr, shown only when asked for and stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not (enabled and sys.stderr.isatty()), leave=False)


def load_frames(
    name: str,
    split: str = "train",
    *,
    root: str | None = None,
    n_bins: int | None = None,
    size: int | None = None,
    cache_dir: str | None = None,
    seed: int = 0,
    progress: bool = True,
    window_us: int | None = None,
) -> FramedDataset:
    """A whole dataset split framed to ``[N, T, 2, size, size]``, cached on disk.

    ``name`` is one of `DATASETS`; ``root`` is the folder of a downloaded real dataset
    (unused by the synthetic ones); ``n_bins`` and ``size`` default to the dataset's
    defaults; ``seed`` is the data seed: it drives synthetic generation and
    N-Caltech101's split (DVS128 Gesture ignores it) - keep it fixed across training
    seeds unless the data itself should change;
    ``window_us`` overrides the dataset's time window (None: its default). The frames
    are stored under the cache folder keyed by a hash of all these options, so a second
    call with the same options reads them back.
    """
    from .catalog import get_dataset_info, synthetic_options

    info = get_dataset_info(name)
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    n_bins = int(n_bins or info.n_bins)
    size = int(size or info.size)
    if n_bins < 1 or size < 1:
        raise DataError(f"n_bins and size must be positive, got n_bins={n_bins}, size={size}")
    window = window_us if window_us is not None else info.window_us
    options = {
        "name": info.name,
        "split": split,
        "n_bins": n_bins,
        "size": size,
        "window_us": window,
        "seed": int(seed) if info.seeded else None,
        "root": None if info.synthetic else str(_require_root(info, root)),
        "generator": synthetic_options(info.name) if info.synthetic else None,
        "version": FRAMES_VERSION,
    }
    key = options_key(options)
    path = cache_root(cache_dir) / "frames" / f"{info.name}-{split}-{key}.pt"
    if path.exists():
        try:
            blob = torch.load(path, weights_only=False)
            return FramedDataset(blob["x"], blob["y"], blob["classes"], blob["meta"])
        except Exception:  # a damaged cache file is rebuilt, not trusted
            path.unlink(missing_ok=True)
    x, y, classes, sensor = info.build_frames(
        split=split,
        root=root,
        n_bins=n_bins,
        size=size,
        window_us=window,
        seed=seed,
        cache_dir=cache_dir,
        progress=progress,
    )
    meta = {
        **options,
        "sensor_size": list(sensor),
        "frame_size": [size, size],
        "bin_width_us": (window // n_bins) if window else None,
        "cache_file": str(path),
    }
    ds = FramedDataset(torch.from_numpy(x), torch.from_numpy(y).long(), list(classes), meta)
    atomic_write(
        path, lambda f: torch.save({"x": ds.x, "y": ds.y, "classes": ds.classes, "meta": meta}, f)
    )
    return ds


def _require_root(info, root):
    from pathlib import Path

    if root is None:
        raise DataError(f"the {info.name} dataset needs root=<folder>: {info.source}")
    p = Path(root).expanduser().resolve()
    if not p.is_dir():
        raise DataError(f"the {info.name} root {p} is not a folder: {info.source}")
    return p
