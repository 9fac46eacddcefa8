"""`load_frames`: a whole dataset split framed to ``[N, T, 2, H, W]`` and cached on disk.

The dataset comes from the registry (`skipsnn.data.catalog`), the framing of each sample
from `skipsnn.data.binning`, the cache format from `skipsnn.data.store` (plain arrays and
a JSON index, never unpickled); the result is a `FramedDataset` whose ``x`` reads its
rows from the cache file on demand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError, check_choice
from .binning import GEOMETRIES
from .catalog import check_split, check_train_per_class, get_dataset_info, synthetic_options
from .datasets import DVSGesture, NCaltech101
from .framed import (  # noqa: F401  (FramedDataset re-exported)
    FRAMES_VERSION,
    FramedDataset,
    frame_dataset,
    frame_meta,
    frames_folder,
    open_cached,
)
from .parallel import FrameSpec, files_digest
from .store import StoreWriter

# How frames of a non-square sensor are shaped, per dataset (others: "stretch", which is
# the same as the rest for a square sensor); see `skipsnn.data.binning.frame_geometry`.
DEFAULT_GEOMETRY = {"ncaltech101": "aspect"}


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
    geometry: str | None = None,
    workers: int | None = None,
    train_per_class: int | None = None,
) -> FramedDataset:
    """A whole dataset split framed to ``[N, T, 2, H, W]``, cached on disk.

    ``name`` is one of `DATASETS` (or ``tonic:NAME`` for a tonic dataset already under
    ``root``, see `skipsnn.data.tonic`); ``root`` is the folder of a downloaded real
    dataset (unused by the synthetic ones); ``n_bins`` and ``size`` default to the
    dataset's defaults; ``seed`` is the data seed: it drives synthetic generation and
    N-Caltech101's split (DVS128 Gesture ignores it) - keep it fixed across training
    seeds unless the data itself should change; ``window_us`` overrides the dataset's
    time window (None: its default); ``geometry`` (``aspect``, ``pad`` or ``stretch``,
    see `skipsnn.data.binning.frame_geometry`) shapes frames of a non-square sensor
    (default: ``aspect`` for N-Caltech101, whose 240x180 frames at size 64 are 64x48);
    ``train_per_class`` sets the training split's samples per class of a generated set
    (gestures, rhythms; None: its default), and is ignored for the test split.

    The frames are stored under the cache folder keyed by a hash of all these options
    and, for a real dataset, of its files' names, sizes and modification times, so a
    second call reads them back and a changed recording is framed again. Real datasets
    are framed in ``workers`` processes (default: the cores) straight into the cache
    file; ``x`` of the result reads rows from that file on demand (`FrameArray`).
    """
    if train_per_class is not None:
        check_train_per_class(name)
        if split != "train":
            train_per_class = None  # the test split is the same whatever the training size
    if name.startswith("tonic:"):
        from .tonic import load_tonic

        return load_tonic(
            name[len("tonic:") :], split, root=root, n_bins=n_bins, size=size,
            cache_dir=cache_dir, progress=progress, window_us=window_us,
            geometry=geometry, workers=workers,
        )  # fmt: skip
    info = get_dataset_info(name)
    check_split(split)
    n_bins = int(n_bins or info.n_bins)
    size = int(size or info.size)
    if n_bins < 1 or size < 1:
        raise DataError(f"n_bins and size must be positive, got n_bins={n_bins}, size={size}")
    geometry = geometry or DEFAULT_GEOMETRY.get(info.name, "stretch")
    check_choice("frame geometry", geometry, GEOMETRIES, DataError)
    window = window_us if window_us is not None else info.window_us
    options = {
        "name": info.name,
        "split": split,
        "n_bins": n_bins,
        "size": size,
        "geometry": geometry,
        "window_us": window,
        "seed": int(seed) if info.seeded else None,
        "generator": synthetic_options(info.name, train_per_class) if info.synthetic else None,
        "version": FRAMES_VERSION,
    }
    spec = FrameSpec(tuple(info.sensor_size), n_bins, size, geometry, window)
    if not info.synthetic:
        rootp = _require_root(info, root)
        ds = open_real_dataset(info.name, rootp, split, seed)
        options["source"] = files_digest(rootp, ds.source_files())
        path = frames_folder(cache_dir, info.name, split, options)
        cached = open_cached(path)
        if cached is not None:
            return cached
        meta = {**options, **frame_meta(spec), "root": str(rootp)}
        return frame_dataset(
            ds, spec, path, ds.classes, meta, workers=workers, progress=progress,
            desc=f"framing {info.name}/{split}",
        )  # fmt: skip
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
        **({"train_per_class": train_per_class} if train_per_class is not None else {}),
    )
    writer = StoreWriter(path, x.shape)
    try:
        writer.write_rows(np.arange(len(x)), x)
        writer.commit(y, list(classes), {**options, **frame_meta(spec)})
    except BaseException:
        writer.discard()
        raise
    return open_cached(path, check_crc=False)


def open_real_dataset(name: str, root: Path, split: str, seed: int):
    """The `DVSGesture` or `NCaltech101` object of a split under ``root``."""
    if name == "dvsgesture":
        return DVSGesture(root, train=(split == "train"))
    return NCaltech101(root, train=(split == "train"), split_seed=seed)


def _require_root(info, root):
    if root is None:
        raise DataError(f"the {info.name} dataset needs root=<folder>: {info.source}")
    p = Path(root).expanduser().resolve()
    if not p.is_dir():
        raise DataError(f"the {info.name} root {p} is not a folder: {info.source}")
    return p
