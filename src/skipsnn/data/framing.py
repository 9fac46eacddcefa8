"""`load_frames`: a whole dataset split framed to ``[N, T, 2, H, W]`` and cached on disk.

The dataset comes from the registry (`skipsnn.data.catalog`), the framing of each sample
from `skipsnn.data.binning`; the result is a `FramedDataset` of torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .cache import atomic_write, cache_path
from .catalog import check_split, get_dataset_info, synthetic_options

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
    info = get_dataset_info(name)
    check_split(split)
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
    path = cache_path(cache_dir, "frames", info.name, split, options, "pt")
    if path.exists():
        try:
            blob = torch.load(path, weights_only=True)  # plain tensors, lists and numbers
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
    if root is None:
        raise DataError(f"the {info.name} dataset needs root=<folder>: {info.source}")
    p = Path(root).expanduser().resolve()
    if not p.is_dir():
        raise DataError(f"the {info.name} root {p} is not a folder: {info.source}")
    return p
