"""`FramedDataset` and the cache entries behind it: opening, building in workers.

`skipsnn.data.framing.load_frames` (the registry's datasets) and
`skipsnn.data.tonic.from_tonic` (tonic datasets) both end here: a cache folder
(`skipsnn.data.store`) is opened when it exists and is intact, else built from a
dataset object by `frame_dataset` (worker processes, `skipsnn.data.parallel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .binning import frame_geometry
from .cache import cache_folder, options_key
from .parallel import FrameSpec, default_workers, frame_into
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

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The samples ``indices`` read in one go (what a DataLoader's fetcher asks for)."""
        frames = self.x[np.asarray(indices, dtype=np.int64)]
        labels = self.y[torch.as_tensor(indices, dtype=torch.long)]
        t = self.transform
        return [(f if t is None else t(f), label) for f, label in zip(frames, labels, strict=True)]

    def subset(self, indices) -> FramedDataset:
        """The samples at ``indices`` (e.g. from `stratified_fraction`), sharing meta;
        a file-backed ``x`` stays on disk."""
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.long)
        x = self.x.subset(idx.numpy()) if isinstance(self.x, FrameArray) else self.x[idx]
        return FramedDataset(x, self.y[idx], self.classes, dict(self.meta), self.transform)

    def with_transform(self, transform: Callable | None) -> FramedDataset:
        """The same samples with ``transform`` applied to each sample's frames."""
        return FramedDataset(self.x, self.y, self.classes, self.meta, transform)


def frame_meta(spec: FrameSpec) -> dict[str, Any]:
    frame, _, _ = frame_geometry(spec.sensor_size, spec.size, spec.geometry)
    window = spec.window_us
    return {
        "sensor_size": list(spec.sensor_size),
        "frame_size": list(frame),  # (width, height), as sensor_size
        "bin_width_us": (window // spec.n_bins) if window else None,
    }


def frame_dataset(
    dataset,
    spec: FrameSpec,
    folder: Path,
    classes,
    meta: dict[str, Any],
    *,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "framing",
) -> FramedDataset:
    """Frame every sample of ``dataset`` (``ds[i] -> (events, target)``) into the cache
    folder ``folder`` in ``workers`` processes, then open it."""
    from .catalog import progress_bar

    (w, h), _, _ = frame_geometry(spec.sensor_size, spec.size, spec.geometry)
    shape = (spec.n_bins, 2, h, w)
    n = len(dataset)
    if n == 0:
        raise DataError(f"{desc}: the dataset has no samples")
    tasks = dataset.tasks() if hasattr(dataset, "tasks") else _chunks(n, 16)
    writer = StoreWriter(folder, (n, *shape))
    try:
        with progress_bar(n, desc, progress) as bar:
            targets = frame_into(
                dataset, spec, tasks, writer.x_path, shape,
                default_workers() if workers is None else workers, bar.update,
            )  # fmt: skip
        bad = (targets < 0) | (targets >= len(classes))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{desc}: sample {i} has target {int(targets[i])}, not a class index "
                f"below {len(classes)}"
            )
        writer.commit(targets, list(classes), meta)
    except BaseException:
        writer.discard()
        raise
    return open_cached(folder, check_crc=False)


def _chunks(n: int, chunk: int) -> list[np.ndarray]:
    return [np.arange(i, min(n, i + chunk)) for i in range(0, n, chunk)]


def frames_folder(cache_dir, name: str, split: str, options: dict[str, Any]) -> Path:
    """``<cache>/frames/<name>-<split>-<key of options>``: one framed split's folder."""
    return cache_folder(cache_dir, "frames") / f"{name}-{split}-{options_key(options)}"


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
    return FramedDataset(x, torch.from_numpy(y), list(classes), {**meta, "cache_file": str(path)})
