"""Datasets over folders the user downloaded: DVS128 Gesture and N-Caltech101.

They follow tonic's and torchvision's conventions: ``ds[i]`` is ``(events, target)``
with events an `EVENT_DTYPE` array, optional ``transform`` / ``target_transform``
callables, and ``classes`` and ``sensor_size`` attributes. Nothing is downloaded; a
missing or wrong root raises `DataError` saying where the data comes from and which
layout is expected.

**DVS128 Gesture** accepts two layouts under ``root`` (searched up to two levels deep):

- as published by IBM: ``userNN_<lighting>.aedat`` with ``userNN_<lighting>_labels.csv``
  next to it; each labelled row becomes one sample (time shifted to start at 0). The
  official split puts users 1-23 in training and 24-29 in the test set.
- tonic's preprocessed folders ``ibmGestureTrain/`` and ``ibmGestureTest/``, one folder
  per user and lighting holding ``<label>.npy`` files (label 0-10).

**N-Caltech101**: one folder per class of ``image_NNNN.bin`` files (the
``Caltech101/`` folder of ``Caltech101.zip``, or the folder holding it); the
``BACKGROUND_Google`` clutter class is left out, leaving 101 classes. There is no
official split: a seeded, stratified 80 % / 20 % train/test split per class
(``split_seed``, default 0) is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import DataError
from .readers import (
    cut_gestures,
    read_aedat31,
    read_gesture_labels,
    read_nmnist,
    read_tonic_gesture_npy,
)
from .splits import train_val_split
from .synthetic import GESTURE_CLASSES

GESTURE_SOURCE = (
    "DVS128 Gesture comes from IBM (research.ibm.com/dvsgesture, DvsGesture.tar.gz); pass the "
    "folder holding userNN_<lighting>.aedat with their _labels.csv files, or the folder holding "
    "tonic's preprocessed ibmGestureTrain/ and ibmGestureTest/ folders"
)
CALTECH_SOURCE = (
    "N-Caltech101 comes from garrickorchard.com/datasets/n-caltech101 (Caltech101.zip); pass "
    "the folder holding one folder per class of image_NNNN.bin files"
)
_USER = re.compile(r"user(\d+)_", re.IGNORECASE)
NCALTECH_TEST_FRACTION = 0.2


class _EventDataset:
    classes: list[str]
    sensor_size: tuple[int, int, int]

    def __init__(self, transform: Callable | None, target_transform: Callable | None):
        self.transform = transform
        self.target_transform = target_transform

    def _finish(self, events: np.ndarray, target: int):
        if self.transform is not None:
            events = self.transform(events)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return events, target

    def source_files(self) -> list[Path]:
        """Every file this split's samples (and, for N-Caltech101, its split) depend on."""
        raise NotImplementedError

    def tasks(self, chunk: int = 16) -> list[np.ndarray]:
        """Sample indices in groups that are cheap to read together (one per worker task)."""
        n = len(self.targets)
        return [np.arange(i, min(n, i + chunk)) for i in range(0, n, chunk)]


class DVSGesture(_EventDataset):
    """DVS128 Gesture from ``root`` (published AEDAT 3.1 files or tonic's ``.npy`` folders)."""

    classes = list(GESTURE_CLASSES)
    sensor_size = (128, 128, 2)

    def __init__(self, root, train: bool = True, transform=None, target_transform=None):
        super().__init__(transform, target_transform)
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"the DVS128 Gesture root {root} is not a folder; {GESTURE_SOURCE}")
        self.root, self.train = root, train
        self._cached: tuple[Path, list] | None = None
        folder = "ibmGestureTrain" if train else "ibmGestureTest"
        npy_dirs = [p for p in (root / folder, root / "DVSGesture" / folder) if p.is_dir()]
        if npy_dirs:
            self.layout = "tonic-npy"
            files = sorted(npy_dirs[0].rglob("*.npy"))
            self.samples = [(f, None) for f in files if f.stem.isdigit()]
            self.targets = [int(f.stem) for f, _ in self.samples]
            if not self.samples:
                raise DataError(f"{npy_dirs[0]} holds no <label>.npy files; {GESTURE_SOURCE}")
            return
        recordings = sorted(
            [*root.glob("*.aedat"), *root.glob("*/*.aedat"), *root.glob("*/*/*.aedat")]
        )
        if not recordings:
            raise DataError(f"no DVS128 Gesture recordings under {root}; {GESTURE_SOURCE}")
        self.layout = "aedat3.1"
        self.samples, self.targets = [], []
        for rec in recordings:
            m = _USER.search(rec.name)
            if not m:
                raise DataError(
                    f"{rec}: the file name does not start with userNN_ as in DVS128 Gesture"
                )
            if (int(m.group(1)) <= 23) != train:
                continue
            labels = read_gesture_labels(rec.with_name(rec.stem + "_labels.csv"))
            for row, (c, _, _) in enumerate(labels):
                self.samples.append((rec, row))
                self.targets.append(int(c) - 1)
        if not self.samples:
            raise DataError(
                f"no {'training' if train else 'test'} users among the recordings under {root}"
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __getstate__(self):  # the decoded recording is not shipped to worker processes
        return {**self.__dict__, "_cached": None}

    def source_files(self) -> list[Path]:
        files = sorted({path for path, _ in self.samples})
        if self.layout == "aedat3.1":
            files += [f.with_name(f.stem + "_labels.csv") for f in files]
        return files

    def tasks(self, chunk: int = 16) -> list[np.ndarray]:
        if self.layout != "aedat3.1":
            return super().tasks(chunk)
        by_file: dict[Path, list[int]] = {}
        for i, (path, _) in enumerate(self.samples):  # one recording is read once
            by_file.setdefault(path, []).append(i)
        return [np.asarray(v) for v in by_file.values()]

    def __getitem__(self, index: int):
        path, row = self.samples[index]
        if row is None:
            events = read_tonic_gesture_npy(path)
        else:
            if self._cached is None or self._cached[0] != path:  # samples of a file are adjacent
                labels = read_gesture_labels(path.with_name(path.stem + "_labels.csv"))
                self._cached = (path, cut_gestures(read_aedat31(path), labels))
            events = self._cached[1][row][0]
        return self._finish(events, self.targets[index])


class NCaltech101(_EventDataset):
    """N-Caltech101 from ``root``, with a seeded stratified 80/20 train/test split."""

    sensor_size = (240, 180, 2)
    n_classes = 101  # class folders of the full dataset, BACKGROUND_Google left out

    def __init__(
        self, root, train: bool = True, transform=None, target_transform=None, split_seed: int = 0
    ):
        super().__init__(transform, target_transform)
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"the N-Caltech101 root {root} is not a folder; {CALTECH_SOURCE}")
        base = root / "Caltech101" if (root / "Caltech101").is_dir() else root
        class_dirs = sorted(
            d
            for d in base.iterdir()
            if d.is_dir() and d.name != "BACKGROUND_Google" and any(d.glob("*.bin"))
        )
        if not class_dirs:
            raise DataError(f"no class folders of .bin files under {base}; {CALTECH_SOURCE}")
        self.classes = [d.name for d in class_dirs]
        files, labels = [], []
        for c, d in enumerate(class_dirs):
            for f in sorted(d.glob("*.bin")):
                files.append(f)
                labels.append(c)
        self.all_files = files  # the split depends on every file
        labels = np.asarray(labels)
        train_idx, test_idx = train_val_split(labels, NCALTECH_TEST_FRACTION, split_seed)
        keep = train_idx if train else test_idx
        self.samples = [files[i] for i in keep]
        self.targets = [int(labels[i]) for i in keep]

    def __len__(self) -> int:
        return len(self.samples)

    def source_files(self) -> list[Path]:
        return list(self.all_files)

    def __getitem__(self, index: int):
        events = read_nmnist(self.samples[index])
        events = events[(events["x"] < self.sensor_size[0]) & (events["y"] < self.sensor_size[1])]
        return self._finish(events, self.targets[index])
