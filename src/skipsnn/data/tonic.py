"""tonic interop: any tonic dataset object framed through the skipsnn frame cache.

`from_tonic(dataset, n_bins=..., size=...)` frames a tonic dataset (``ds[i] -> (events,
target)`` with events a structured array with fields ``x``, ``y``, ``t`` (us), ``p``)
into the same on-disk cache as `load_frames`, in worker processes, and returns a
`FramedDataset`. tonic event transforms (``Denoise``, ``RandomFlipPolarity``, ...) go in
``event_transform`` (or in the tonic dataset's own ``transform``); they run once per
sample, before framing, and their ``repr`` is part of the cache key, so a random one
is drawn once, not per epoch (per-epoch augmentation belongs in the frame
``transform`` of the result, which runs in the DataLoader's workers).

`load_tonic(NAME, split, root=...)` (``load_frames("tonic:NAME", ...)``, ``skipsnn
data prepare tonic:NAME --root DIR``) opens ``tonic.datasets.NAME(save_to=root,
train=...)`` for data tonic has already put under ``root`` and refuses to download or
extract anything.

tonic is an optional extra (``pip install skipsnn[tonic]``); it is imported only here,
and only `load_tonic` needs it (`from_tonic` takes any object with tonic's interface).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, check_choice
from .binning import GEOMETRIES
from .cache import options_key
from .framed import (
    FRAMES_VERSION,
    FramedDataset,
    frame_dataset,
    frame_meta,
    frames_folder,
    open_cached,
)
from .parallel import FrameSpec, files_digest

TONIC_HINT = "install it with: pip install 'skipsnn[tonic]' (or pip install tonic)"


class TonicSource:
    """A tonic dataset seen as skipsnn's ``ds[i] -> (events, class index)``."""

    def __init__(self, dataset, class_index: dict | None):
        self.dataset = dataset
        self.class_index = class_index

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        events, target = self.dataset[i]
        names = getattr(getattr(events, "dtype", None), "names", None) or ()
        if not {"x", "y", "t", "p"} <= set(names):
            raise DataError(
                f"sample {i} of the tonic dataset is not an event array with fields x, y, t, "
                "p (a ToFrame or other frame transform? from_tonic frames the events itself)"
            )
        if self.class_index is not None:
            target = self.class_index[_plain(target)]
        return events, int(target)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _classes_of(dataset, classes) -> tuple[list[str], dict | None]:
    """The class names and, for targets that are not indices, the name -> index map."""
    targets = getattr(dataset, "targets", None)
    targets = [_plain(t) for t in targets] if targets is not None and len(targets) else None
    if targets and not all(isinstance(t, int | np.integer) for t in targets):
        names = list(classes) if classes is not None else sorted({str(t) for t in targets})
        return names, {t: names.index(str(t)) for t in set(targets) if str(t) in names}
    if classes is not None:
        return [str(c) for c in classes], None
    own = getattr(dataset, "classes", None)
    if own is not None and len(own):
        return [str(c) for c in own], None
    if targets:
        return [str(c) for c in range(max(targets) + 1)], None
    raise DataError("the tonic dataset has neither classes nor targets: pass classes=[...]")


def _sensor_of(dataset, sensor_size) -> tuple[int, int]:
    s = sensor_size if sensor_size is not None else getattr(dataset, "sensor_size", None)
    if s is None:
        raise DataError(
            f"{type(dataset).__name__} has no sensor_size (tonic leaves it None when "
            "recordings differ in size): pass sensor_size=(width, height)"
        )
    w, h = (int(v) for v in tuple(s)[:2])
    if w < 1 or h < 1:
        raise DataError(f"the sensor size must be positive, got {w} x {h}")
    return w, h


def _source_key(dataset, key) -> str:
    """What the dataset's content depends on: its files (names, sizes, mtimes) when tonic
    keeps them under ``location_on_system``, its list of samples and targets, and ``key``."""
    h = hashlib.sha256(json.dumps(key, default=str).encode())
    loc = getattr(dataset, "location_on_system", None)
    if loc and Path(loc).is_dir():
        h.update(files_digest(Path(loc), [p for p in Path(loc).rglob("*") if p.is_file()]).encode())
    elif key is None:
        raise DataError(
            f"{type(dataset).__name__} keeps no files under location_on_system: pass key=<a "
            "string naming this data and its version> so that its frames can be cached"
        )
    for attr in ("data", "targets"):
        items = getattr(dataset, attr, None)
        if isinstance(items, list) and all(isinstance(v, str | int | Path) for v in items[:1]):
            h.update(json.dumps([str(v) for v in items]).encode())
    h.update(str(getattr(dataset, "train", None)).encode())
    return h.hexdigest()[:32]


def from_tonic(
    dataset,
    *,
    n_bins: int,
    size: int | None = None,
    sensor_size: tuple[int, int] | None = None,
    geometry: str = "aspect",
    window_us: int | None = None,
    event_transform: Callable | None = None,
    transform: Callable | None = None,
    classes: list[str] | None = None,
    key: Any = None,
    name: str | None = None,
    cache_dir=None,
    workers: int | None = None,
    progress: bool = True,
) -> FramedDataset:
    """Frame a tonic dataset object into the cache; a `FramedDataset` of its samples.

    ``size`` (default: the sensor's longer side) and ``geometry`` are as in
    `load_frames`; ``window_us`` None bins each sample's own time span. ``classes``
    overrides the dataset's class names (needed when it has none). ``key`` is added to
    the cache key (required for a dataset without files under ``location_on_system``).
    ``transform`` is the per-sample frame transform of the result.
    """
    if not isinstance(n_bins, int) or n_bins < 1:
        raise DataError(f"n_bins must be a positive integer, got {n_bins!r}")
    check_choice("frame geometry", geometry, GEOMETRIES, DataError)
    sensor = _sensor_of(dataset, sensor_size)
    size = int(size or max(sensor))
    if size < 1:
        raise DataError(f"size must be positive, got {size}")
    if len(dataset) == 0:
        raise DataError(f"the tonic dataset {type(dataset).__name__} has no samples")
    names, index = _classes_of(dataset, classes)
    label = name or type(dataset).__name__
    options = {
        "name": f"tonic:{label}",
        "tonic_class": f"{type(dataset).__module__}.{type(dataset).__qualname__}",
        "samples": len(dataset),
        "source": _source_key(dataset, key),
        "dataset_transform": repr(getattr(dataset, "transform", None)),
        "event_transform": repr(event_transform),
        "classes": names,
        "sensor_size": list(sensor),
        "n_bins": n_bins,
        "size": size,
        "geometry": geometry,
        "window_us": window_us,
        "version": FRAMES_VERSION,
    }
    split = "train" if getattr(dataset, "train", True) else "test"
    folder = frames_folder(cache_dir, f"tonic-{label}", split, options)
    cached = open_cached(folder)
    if cached is None:
        spec = FrameSpec(sensor, n_bins, size, geometry, window_us, event_transform)
        meta = {**options, **frame_meta(spec), "key": options_key(options)}
        cached = frame_dataset(
            TonicSource(dataset, index), spec, folder, names, meta, workers=workers,
            progress=progress, desc=f"framing tonic {label}",
        )  # fmt: skip
    return cached.with_transform(transform)


# ---------------------------------------------------------------------------------------
# tonic's own datasets, already on disk
# ---------------------------------------------------------------------------------------


def tonic_dataset(name: str, root, split: str = "train", **kwargs):
    """``tonic.datasets.NAME(save_to=root, train=...)`` for data already under ``root``;
    `DataError` instead of a download."""
    try:
        import tonic.datasets as td
    except ImportError:
        raise DataError(f"the dataset tonic:{name} needs tonic; {TONIC_HINT}") from None
    cls = getattr(td, name, None)
    known = sorted(n for n in dir(td) if isinstance(getattr(td, n), type))
    if not (isinstance(cls, type) and hasattr(cls, "__getitem__")):
        raise DataError(f"tonic has no dataset {name!r}; tonic's datasets: {', '.join(known)}")
    if root is None:
        raise DataError(f"the dataset tonic:{name} needs root=<the folder tonic saved it to>")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"the tonic:{name} root {root} is not a folder")
    params = inspect.signature(cls.__init__).parameters
    if "train" in params:
        kwargs["train"] = split == "train"
    elif split != "train":
        raise DataError(f"tonic's {name} has no train/test split; use the train split")

    def refuse(self, *a, **k):
        raise DataError(
            f"tonic's {name} is not complete under {self.location_on_system} (tonic checks "
            f"for {getattr(self, 'filename', 'its archive')} and the extracted files); skipsnn "
            f"does not download: fetch it with tonic.datasets.{name}(save_to=...) first"
        )

    def check_exists(self):
        ok = cls._check_exists(self)
        if ok is not True:  # tonic's base class returns NotImplementedError (truthy)
            refuse(self)
        return True

    guarded = type(cls.__name__, (cls,), {"download": refuse, "_check_exists": check_exists})
    for attr in dir(cls):  # datasets that copy or extract local archives instead
        if attr.startswith("_copy_and_extract"):
            setattr(guarded, attr, refuse)
    ds = guarded(save_to=str(root), **kwargs)
    ds.__class__ = cls  # an ordinary tonic object again (picklable for worker processes)
    return ds


def load_tonic(
    name: str,
    split: str = "train",
    *,
    root=None,
    n_bins: int | None = None,
    size: int | None = None,
    cache_dir=None,
    progress: bool = True,
    window_us: int | None = None,
    geometry: str | None = None,
    workers: int | None = None,
) -> FramedDataset:
    """`load_frames` for ``tonic:NAME``: tonic's dataset under ``root``, framed and cached.
    ``n_bins`` defaults to 10, ``size`` to the sensor's longer side."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    ds = tonic_dataset(name, root, split)
    return from_tonic(
        ds, n_bins=int(n_bins or 10), size=size, geometry=geometry or "aspect",
        window_us=window_us, cache_dir=cache_dir, workers=workers, progress=progress,
    )  # fmt: skip
