"""Framing a dataset on disk in worker processes, straight into the cache file.

`frame_into` reads and frames a dataset's samples (``ds[i] -> (events, target)``) in
``workers`` processes and writes each sample's frames at its row of a preallocated
``x.u8`` (positioned writes), so no process holds more than one task's events and
frames: memory does not grow with the dataset. Workers are forked (``spawn`` where
there is no fork), so they need no importable ``__main__``; they run numpy code only.

`files_digest` is the source part of a cache key: the files' names (relative to the
root), sizes and modification times, so a changed, added or removed recording gives
another key.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import DataError
from .binning import frame_sample


class FrameSpec(NamedTuple):
    """How each sample is framed (see `skipsnn.data.binning.frame_sample`)."""

    sensor_size: tuple[int, int]  # (width, height)
    n_bins: int
    size: int
    geometry: str
    window_us: int | None
    event_transform: Callable | None = None  # applied to each sample's events first

    def frame(self, events: np.ndarray) -> np.ndarray:
        if self.event_transform is not None:
            events = self.event_transform(events)
        return frame_sample(
            events, self.sensor_size, self.n_bins, self.size, self.geometry, self.window_us
        )


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def files_digest(root: Path, files: Sequence[Path]) -> str:
    """sha256 of the files' names relative to ``root``, sizes and mtimes (ns)."""
    h = hashlib.sha256()
    root = Path(root)
    for f in sorted(Path(p) for p in files):
        try:
            st = f.stat()
        except OSError as e:
            raise DataError(f"{f}: cannot be read ({e.strerror})") from None
        try:
            name = f.relative_to(root).as_posix()
        except ValueError:
            name = f.as_posix()
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def write_rows(x_path: Path, row_bytes: int, rows: Sequence[int], frames: np.ndarray) -> None:
    """Write ``frames[k]`` at row ``rows[k]`` of a preallocated ``x.u8`` (any process)."""
    frames = np.ascontiguousarray(frames, dtype=np.uint8).reshape(len(rows), row_bytes)
    fd = os.open(x_path, os.O_WRONLY)
    try:
        for k, r in enumerate(rows):
            view = memoryview(frames[k]).cast("B")
            done = 0
            while done < row_bytes:
                done += os.pwrite(fd, view[done:], int(r) * row_bytes + done)
    finally:
        os.close(fd)


# -- the worker side: state set once per process by the pool's initializer -----------------

_WORKER: dict[str, Any] = {}


def _init(dataset, spec: FrameSpec, x_path: str, frame_shape: tuple[int, ...]) -> None:
    _WORKER.update(dataset=dataset, spec=spec, x_path=Path(x_path), shape=tuple(frame_shape))


def _frame_task(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame the samples ``indices`` into their rows; returns (indices, targets)."""
    ds, spec, shape = _WORKER["dataset"], _WORKER["spec"], _WORKER["shape"]
    frames = np.empty((len(indices), *shape), dtype=np.uint8)
    targets = np.empty(len(indices), dtype=np.int64)
    for k, i in enumerate(indices):
        events, target = ds[int(i)]
        got = spec.frame(events)
        if got.shape != shape:
            raise DataError(f"sample {int(i)} framed to {got.shape}, expected {shape}")
        frames[k] = got
        targets[k] = int(target)
    write_rows(_WORKER["x_path"], frames[0].size if len(frames) else 0, indices, frames)
    return np.asarray(indices), targets


def frame_into(
    dataset,
    spec: FrameSpec,
    tasks: list[np.ndarray],
    x_path: Path,
    frame_shape: tuple[int, ...],
    workers: int,
    on_done: Callable[[int], None] = lambda n: None,
) -> np.ndarray:
    """Frame every sample of ``tasks`` into ``x_path``; returns the targets by index.

    ``workers`` <= 1 frames in this process. The first error in any worker stops the
    rest and is raised here.
    """
    n = sum(len(t) for t in tasks)
    targets = np.full(n, -1, dtype=np.int64)
    tasks = [t for t in tasks if len(t)]
    workers = max(1, min(int(workers), len(tasks)))
    if workers == 1:
        _init(dataset, spec, str(x_path), frame_shape)
        try:
            for t in tasks:
                idx, tg = _frame_task(t)
                targets[idx] = tg
                on_done(len(idx))
        finally:
            _WORKER.clear()
        return targets
    # fork: workers inherit the dataset object and need no importable __main__ (scripts
    # without a main guard, notebooks, Ray workers); they run numpy code only.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_init,
        initargs=(dataset, spec, str(x_path), frame_shape),
    ) as pool:
        pending = {pool.submit(_frame_task, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for f in done:
                    idx, tg = f.result()  # re-raises a worker's error
                    targets[idx] = tg
                    on_done(len(idx))
        except BaseException:
            for f in pending:
                f.cancel()
            raise
    return targets
