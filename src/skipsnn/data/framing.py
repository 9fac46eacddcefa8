"""`load_frames`: a whole dataset split framed to ``[N, T, 2, H, W]`` and cached on disk.

The dataset comes from the registry (`skipsnn.data.catalog`), the framing of each sample
from `skipsnn.data.binning`, the cache format from `skipsnn.data.store` (plain arrays and
a JSON index, never unpickled); the result is a `FramedDataset` whose ``x`` reads its
rows from the cache file on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .cache import cache_root, options_key
from .catalog import check_split, get_dataset_info, synthetic_options
from .store import DamagedCache, FrameArray, StoreWriter, read_store, remove_store

FRAMES_VERSION = 2  # bump when framing or generation changes, so old caches are not reused


@dataclass
class FramedDataset:
    """A framed dataset: ``x`` uint8 ``[N, T, 2, H, W]`` event counts, ``y`` int64 ``[N]``.

    ``x`` is a torch tensor or a `FrameArray` (rows read from the cache file on demand);
    both give tensors for ``x[i]``, ``x[slice]`` and ``x[index array]``. ``transform``,
    if set, is applied to each sample's frames by ``ds[i]`` (in DataLoader workers).
    The object pickles without open files, so DataLoader workers and Ray tasks can use it.
    """

    x: Any
    y: torch.Tensor
    classes: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(frames [T, 2, H, W], label)``, so a DataLoader can batch it."""
        frames = self.x[index]
        if self.transform is not None:
            frames = self.transform(frames)
        return frames, self.y[index]

    def subset(self, indices) -> FramedDataset:
        """The samples at ``indices`` (e.g. from `stratified_fraction`), sharing meta;
        a file-backed ``x`` stays on disk."""
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        x = self.x.subset(idx.numpy()) if isinstance(self.x, FrameArray) else self.x[idx]
        return FramedDataset(x, self.y[idx], self.classes, dict(self.meta), self.transform)

    def with_transform(self, transform: Callable | None) -> FramedDataset:
        """The same samples with ``transform`` applied to each sample's frames."""
        return FramedDataset(self.x, self.y, self.classes, self.meta, transform)


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
    path = frames_folder(cache_dir, info.name, split, options)
    cached = open_cached(path)
    if cached is not None:
        return cached
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
    writer = StoreWriter(path, x.shape)
    try:
        writer.write_rows(np.arange(len(x)), x)
        writer.commit(y, list(classes), meta)
    except BaseException:
        writer.discard()
        raise
    return open_cached(path, check_crc=False)


def frames_folder(cache_dir, name: str, split: str, options: dict[str, Any]) -> Path:
    """``<cache>/frames/<name>-<split>-<key of options>``: one framed split's folder."""
    return cache_root(cache_dir) / "frames" / f"{name}-{split}-{options_key(options)}"


def open_cached(path: Path, check_crc: bool = True) -> FramedDataset | None:
    """The cached split in ``path``, or None if there is none; a damaged one is removed
    (to be rebuilt), never trusted."""
    if not (path / "index.json").exists():
        if path.exists():
            remove_store(path)
        return None
    try:
        x, y, classes, meta = read_store(path, check_crc=check_crc)
    except DamagedCache:
        remove_store(path)
        return None
    return FramedDataset(x, torch.from_numpy(y), list(classes), meta)


def _require_root(info, root):
    if root is None:
        raise DataError(f"the {info.name} dataset needs root=<folder>: {info.source}")
    p = Path(root).expanduser().resolve()
    if not p.is_dir():
        raise DataError(f"the {info.name} root {p} is not a folder: {info.source}")
    return p
