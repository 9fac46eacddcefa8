"""The dataset registry `DATASETS`, and cached access to the synthetic sets' events.

Every fact about a dataset (classes and their count, sensor size, default framing,
where it comes from) is read from here. Numpy only: `skipsnn.config` and
`skipsnn.network` look datasets up without importing torch through this module, and
`skipsnn.data.framing` turns an entry into a cached, framed dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, check_choice
from .binning import frame_events, frame_many
from .cache import atomic_write, cache_path
from .datasets import CALTECH_SOURCE, GESTURE_SOURCE, DVSGesture, NCaltech101
from .events import EVENT_DTYPE
from .rhythms import RHYTHM_BINS, RHYTHM_CLASSES, RHYTHM_SENSOR, RHYTHM_STEPS, generate_rhythms
from .synthetic import (
    DIGIT_CLASSES,
    DIGIT_STEPS,
    DT_US,
    GESTURE_CLASSES,
    GESTURE_STEPS,
    SENSOR,
    EventSet,
    generate_digits,
    generate_gestures,
)

SYNTHETIC_VERSION = 1  # bump when generation changes, so stale caches are regenerated
GESTURES_PER_CLASS = {"train": 100, "test": 30}
RHYTHMS_PER_CLASS = {"train": 100, "test": 40}
DIGITS_LIMIT: int | None = None  # None: all 1437 / 360 images (tests use a few)
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """What `load_frames` (and the network's readout) needs to know about one dataset."""

    name: str
    classes: tuple[str, ...]  # empty when found under the root at load time
    sensor_size: tuple[int, int]  # (width, height)
    n_bins: int  # default number of time bins
    size: int  # default frame side after downsampling
    window_us: int | None  # fixed time window; None: each sample's own span
    synthetic: bool
    source: str  # where it comes from, for error messages and docs
    frames: Callable  # (info, split, root, n_bins, size, window_us, seed, cache_dir, progress)
    seeded: bool = True  # whether `seed` changes the data (generation or split)
    n_classes: int = 0  # 0: len(classes)

    def __post_init__(self):
        if not self.n_classes:
            object.__setattr__(self, "n_classes", len(self.classes))

    def build_frames(self, **kw):
        return self.frames(self, **kw)


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"split must be 'train' or 'test', got {split!r}")


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar on stderr, shown only when asked for and stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not (enabled and sys.stderr.isatty()), leave=False)


# ---------------------------------------------------------------------------------------
# synthetic sets: events generated once per (name, split, seed) and kept in the cache
# ---------------------------------------------------------------------------------------


def _per_class_sizes(name: str) -> dict | None:
    return {"gestures": GESTURES_PER_CLASS, "rhythms": RHYTHMS_PER_CLASS}.get(name)


def _synthetic_size(name: str, split: str | None = None, train_per_class: int | None = None):
    """Samples per class (both splits when ``split`` is None) or the digits limit;
    ``train_per_class`` replaces the training split's default."""
    per_class = _per_class_sizes(name)
    if per_class is None:
        return DIGITS_LIMIT
    if train_per_class is not None:
        per_class = {**per_class, "train": int(train_per_class)}
    return per_class if split is None else per_class[split]


def default_train_per_class(name: str) -> int:
    """A generated set's training samples per class when ``train_per_class`` is unset."""
    check_train_per_class(name)
    return _per_class_sizes(name)["train"]


def check_train_per_class(name: str, error: type = DataError) -> None:
    """Raise ``error`` unless ``name`` is a generated set whose training size can be set."""
    sized = [n for n in DATASETS if _per_class_sizes(n) is not None]
    if name not in sized:
        raise error(
            f"train_per_class applies to the generated sets ({', '.join(sized)}), not {name!r}; "
            "train.label_fraction trains on part of any dataset"
        )


def synthetic_options(name: str, train_per_class: int | None = None) -> dict:
    """What a synthetic set's content depends on besides (split, seed): part of cache keys."""
    options = {"size": _synthetic_size(name), "v": SYNTHETIC_VERSION}
    if train_per_class is not None:  # absent by default, so existing caches stay valid
        options["train_per_class"] = int(train_per_class)
    return options


def synthetic_events(
    name: str,
    split: str = "train",
    seed: int = 0,
    cache_dir=None,
    progress: bool = True,
    train_per_class: int | None = None,
) -> EventSet:
    """The events of a synthetic dataset split, generated on first use and cached.

    ``train_per_class`` (gestures and rhythms) sets the training split's samples per
    class. Samples are generated in chunks of `synthetic.CHUNK` (64) from the seed, so a larger
    training set repeats a smaller one's samples up to the smaller one's last full
    chunk (which the larger set draws at full length). The test split ignores it.
    """
    synthetic = [n for n, info in DATASETS.items() if info.synthetic]
    if name not in synthetic:
        raise DataError(f"{name!r} is not a synthetic dataset ({', '.join(synthetic)})")
    check_split(split)
    if train_per_class is not None:
        check_train_per_class(name)
        if int(train_per_class) < 1:
            raise DataError(f"train_per_class must be >= 1, got {train_per_class}")
    size = _synthetic_size(name, split, train_per_class)
    v = SYNTHETIC_VERSION
    options = {"name": name, "split": split, "seed": int(seed), "size": size, "v": v}
    path = cache_path(cache_dir, "events", name, split, options, "npz")
    if path.exists():
        try:
            with np.load(path) as z:
                ev = np.empty(len(z["t"]), dtype=EVENT_DTYPE)
                for f in ("x", "y", "t", "p"):
                    ev[f] = z[f]
                return EventSet(ev, z["offsets"], z["labels"])
        except Exception:  # a damaged cache file is regenerated, not trusted
            path.unlink(missing_ok=True)
    if name == "gestures":
        with progress_bar(
            size * len(GESTURE_CLASSES), f"generating {name}/{split}", progress
        ) as bar:
            es = generate_gestures(size, seed, int(split == "test"), progress=bar)
    elif name == "rhythms":
        with progress_bar(
            size * len(RHYTHM_CLASSES), f"generating {name}/{split}", progress
        ) as bar:
            es = generate_rhythms(size, seed, int(split == "test"), progress=bar)
    else:
        total = min(1437 if split == "train" else 360, size or 10**9)
        with progress_bar(total, f"generating {name}/{split}", progress) as bar:
            es = generate_digits(split, seed, progress=bar, limit=size)
    ev = es.events
    atomic_write(
        path,
        lambda f: np.savez(
            f,
            x=ev["x"].astype(np.uint8),  # SENSOR = 32 fits a byte: a third of the disk
            y=ev["y"].astype(np.uint8),
            t=ev["t"].astype(np.int32),
            p=ev["p"].astype(np.uint8),
            offsets=es.offsets,
            labels=es.labels,
        ),
    )
    return es


def _synthetic_frames(
    info, *, split, root, n_bins, size, window_us, seed, cache_dir, progress, train_per_class=None
):
    es = synthetic_events(info.name, split, seed, cache_dir, progress, train_per_class)
    x = frame_many(es.events, es.offsets, info.sensor_size, n_bins, (size, size), window_us)
    return x, es.labels.astype(np.int64), info.classes, info.sensor_size


# ---------------------------------------------------------------------------------------
# real sets: read from the user's folder
# ---------------------------------------------------------------------------------------


def _real_frames(info, *, split, root, n_bins, size, window_us, seed, cache_dir, progress):
    cls = DVSGesture if info.name == "dvsgesture" else NCaltech101
    kwargs = {"split_seed": seed} if cls is NCaltech101 else {}
    ds = cls(Path(root), train=(split == "train"), **kwargs)
    x = np.empty((len(ds), n_bins, 2, size, size), dtype=np.uint8)
    y = np.empty(len(ds), dtype=np.int64)
    with progress_bar(len(ds), f"framing {info.name}/{split}", progress) as bar:
        for i in range(len(ds)):
            events, target = ds[i]
            x[i] = frame_events(
                events, ds.sensor_size[:2], n_bins, (size, size), window_us=window_us
            )
            y[i] = target
            bar.update(1)
    return x, y, ds.classes, ds.sensor_size[:2]


def _synthetic(
    name: str, classes, n_bins: int, steps: int, what: str, sensor: int = SENSOR
) -> DatasetInfo:
    """A built-in set: full sensor resolution, one sample's simulated time as the window."""
    return DatasetInfo(
        name=name,
        classes=tuple(classes),
        sensor_size=(sensor, sensor),
        n_bins=n_bins,
        size=sensor,
        window_us=steps * DT_US,
        synthetic=True,
        source=f"built in: {what}, generated on first use",
        frames=_synthetic_frames,
    )


DATASETS: dict[str, DatasetInfo] = {
    "gestures": _synthetic(
        "gestures", GESTURE_CLASSES, 20, GESTURE_STEPS, "11 synthetic DVS gestures"
    ),
    "digits": _synthetic(
        "digits",
        DIGIT_CLASSES,
        15,
        DIGIT_STEPS,
        "scikit-learn's digits moved through three saccades",
    ),
    "rhythms": _synthetic(
        "rhythms",
        RHYTHM_CLASSES,
        RHYTHM_BINS,
        RHYTHM_STEPS,
        "6 flash-interval classes on a 16x16 sensor (timing alone tells them apart)",
        RHYTHM_SENSOR,
    ),
    "dvsgesture": DatasetInfo(
        name="dvsgesture",
        classes=tuple(DVSGesture.classes),  # the gestures' names and order, as in tonic
        sensor_size=DVSGesture.sensor_size[:2],
        n_bins=20,
        size=32,
        window_us=None,
        synthetic=False,
        seeded=False,  # the official split is fixed and nothing is random
        source=GESTURE_SOURCE,
        frames=_real_frames,
    ),
    "ncaltech101": DatasetInfo(
        name="ncaltech101",
        classes=(),  # the class folders found under the root
        n_classes=NCaltech101.n_classes,
        sensor_size=NCaltech101.sensor_size[:2],
        n_bins=10,
        size=48,
        window_us=None,
        synthetic=False,
        source=CALTECH_SOURCE,
        frames=_real_frames,
    ),
}


TONIC_PREFIX = "tonic:"  # tonic:NAME, a tonic dataset already on disk (`skipsnn.data.tonic`)


def check_dataset_name(name, error: type = DataError) -> None:
    """Raise ``error`` with one sentence unless ``name`` is a registry name or ``tonic:NAME``."""
    if isinstance(name, str) and name.startswith(TONIC_PREFIX):
        if name[len(TONIC_PREFIX) :].isidentifier():
            return
        raise error(f"{name!r} is not a tonic dataset name (tonic:NAME, e.g. tonic:DVSGesture)")
    check_choice("dataset", name, [*DATASETS, "tonic:NAME"], error)


def get_dataset_info(name: str) -> DatasetInfo:
    """The registry entry of ``name``, or a `DataError` listing the known names."""
    check_dataset_name(name)  # the one sentence naming every choice, tonic:NAME included
    if name not in DATASETS:
        raise DataError(f"{name!r} is a tonic dataset, which has no built-in registry entry")
    return DATASETS[name]
