"""The frame cache on disk: plain arrays and a JSON index, read lazily, never unpickled.

One framed dataset split is a folder ``<cache>/frames/<name>-<split>-<key>/`` holding

- ``x.u8``: the frames, raw ``uint8`` bytes of shape ``[N, T, 2, H, W]`` in C order
  (no header: the shape lives in the index), one row (sample) after the other;
- ``index.json``: ``{"format": "skipsnn-frames", "version", "shape", "x_bytes",
  "x_crc32", "y", "classes", "meta"}``.

A folder is built under a temporary name and renamed into place when complete, so a
killed run leaves no half-written entry under the real name. Loading reads JSON and
raw bytes only: nothing is unpickled and nothing in the files can run code. The index
is checked (types, shape, labels in range, the file's size and CRC-32) before the
frames are used; a folder that fails a check is `DamagedCache`, which
`skipsnn.data.framing.load_frames` answers by rebuilding it.

`FrameArray` is the lazy ``x``: ``x[rows]`` reads only those rows from ``x.u8`` with
positioned reads (``os.preadv``), so memory holds a batch, not the dataset; it pickles
as its path and reopens the file in each process (DataLoader workers, Ray tasks).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import current_umask
from ..errors import DataError
from .parallel import write_rows

FORMAT = "skipsnn-frames"
STORE_VERSION = 2  # version 1 was a torch.save'd file
INDEX = "index.json"
X_FILE = "x.u8"
MAX_INDEX_BYTES = 64 * 2**20  # the labels of a few million samples
_CHUNK = 8 * 2**20  # bytes read at a time when checking the CRC


class DamagedCache(DataError):
    """A cache folder that fails a check: rebuilt by the caller, never trusted."""


class FrameArray:
    """A read-only, file-backed ``uint8 [N, T, 2, H, W]`` array that reads rows on demand.

    ``x[i]`` (an int) gives one ``[T, 2, H, W]`` tensor; ``x[rows]`` for a slice, a list,
    a numpy or torch array of ints (or of bools, as a mask) gives ``[len(rows), T, 2, H,
    W]``; a tuple indexes rows with its first element and the result with the rest.
    Results are new torch ``uint8`` tensors (writable, not views of the file). Whole-set
    conversions (``to``, ``float``, ``numpy``, ``contiguous``, ``tensor()``) read
    everything: they exist for small sets and code written for in-memory tensors.
    """

    dtype = torch.uint8

    def __init__(self, path: str | os.PathLike, shape: tuple[int, ...], rows=None):
        self.path = Path(path)
        # ``rows``: the file rows this array shows (a subset), None for all of them
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        n = int(shape[0]) if self.rows is None else len(self.rows)
        self.shape = torch.Size([n, *(int(v) for v in shape[1:])])
        self.file_rows = int(shape[0])
        self.row_bytes = math.prod(self.shape[1:])
        self._fd: int | None = None
        self._pid: int | None = None

    def subset(self, indices) -> FrameArray:
        """The rows ``indices`` of this array, still on disk."""
        idx = self._rows(indices)
        rows = idx if self.rows is None else self.rows[idx]
        return FrameArray(self.path, (self.file_rows, *self.shape[1:]), rows)

    # -- pickling: the path travels, never an open file ----------------------------------

    def __getstate__(self) -> dict[str, Any]:
        rows = None if self.rows is None else self.rows.tolist()
        return {"path": str(self.path), "shape": [self.file_rows, *self.shape[1:]], "rows": rows}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], tuple(state["shape"]), state.get("rows"))

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd = None

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as e:
                raise DataError(
                    f"the frame cache file {self.path} cannot be read ({e.strerror}); "
                    "load the dataset again to rebuild it"
                ) from None
            self._pid = os.getpid()
        return self._fd

    # -- array protocol -------------------------------------------------------------------

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self) -> str:
        return f"FrameArray(shape={tuple(self.shape)}, file={str(self.path)!r})"

    def __getitem__(self, key) -> torch.Tensor:
        rest = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key else (slice(None), ())
        single = _is_int(key)
        out = self.read_rows(self._rows(key))
        if single:
            out = out[0]
        if rest:
            out = out[rest] if single else out[(slice(None), *rest)]
        return out

    def _rows(self, key) -> np.ndarray:
        n = len(self)
        if _is_int(key):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of range for {n} samples")
            return np.array([i % n], dtype=np.int64)
        if isinstance(key, slice):
            return np.arange(*key.indices(n), dtype=np.int64)
        if isinstance(key, torch.Tensor):
            key = key.detach().cpu().numpy()
        a = np.asarray(key)
        if a.dtype == bool:
            if a.shape != (n,):
                raise IndexError(f"a boolean mask of shape {a.shape} for {n} samples")
            return np.flatnonzero(a)
        if a.size == 0:
            return np.zeros(0, dtype=np.int64)
        if a.ndim != 1 or a.dtype.kind not in "iu":
            raise IndexError(
                f"rows must be an int, a slice or 1-D integers, got {a.dtype}{a.shape}"
            )
        a = a.astype(np.int64)
        if a.min() < -n or a.max() >= n:
            raise IndexError(f"row index out of range for {n} samples")
        return a % n

    def read_rows(self, rows: np.ndarray) -> torch.Tensor:
        """The rows ``rows`` of this array (in that order) read into a new tensor."""
        if self.rows is not None:
            rows = self.rows[rows]
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        if len(rows) == 0 or self.row_bytes == 0:
            return torch.from_numpy(out)
        fd, rb = self._file(), self.row_bytes
        flat = out.reshape(len(rows), rb)
        # Runs of consecutive rows are read with one call each.
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for lo, hi in zip(
            np.concatenate([[0], breaks]), np.concatenate([breaks, [len(rows)]]), strict=True
        ):
            _read_exactly(fd, memoryview(flat[lo:hi]).cast("B"), int(rows[lo]) * rb, self.path)
        return torch.from_numpy(out)

    # -- whole-set conversions (read everything) ---------------------------------------------

    def tensor(self) -> torch.Tensor:
        """All frames as one in-memory tensor."""
        return self.read_rows(np.arange(len(self)))

    def to(self, *args, **kwargs) -> torch.Tensor:
        return self.tensor().to(*args, **kwargs)

    def float(self) -> torch.Tensor:
        return self.tensor().float()

    def contiguous(self) -> torch.Tensor:
        return self.tensor()

    def numpy(self) -> np.ndarray:
        return self.tensor().numpy()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)


def _is_int(key) -> bool:
    if isinstance(key, bool | np.bool_):
        return False
    if isinstance(key, int | np.integer):
        return True
    return isinstance(key, torch.Tensor) and key.ndim == 0 and not key.is_floating_point()


def _read_exactly(fd: int, buf: memoryview, offset: int, path: Path) -> None:
    done = 0
    while done < len(buf):
        n = os.preadv(fd, [buf[done:]], offset + done)
        if n <= 0:
            raise DataError(
                f"the frame cache file {path} is shorter than its index says; "
                "load the dataset again to rebuild it"
            )
        done += n


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


class StoreWriter:
    """Builds one cache folder: ``x.u8`` preallocated, rows written at their offsets (by
    this process or by workers, `write_rows`), then `commit` renames it into place."""

    def __init__(self, final: Path, shape: tuple[int, ...]):
        self.final = Path(final)
        self.shape = tuple(int(v) for v in shape)
        self.row_bytes = math.prod(self.shape[1:])
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.final.parent / f".{self.final.name}.{os.getpid()}.tmp"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(mode=0o777 & ~current_umask())
        self.x_path = self.tmp / X_FILE
        with open(self.x_path, "wb") as f:
            f.truncate(self.shape[0] * self.row_bytes)

    def write_rows(self, start_rows: np.ndarray, frames: np.ndarray) -> None:
        write_rows(self.x_path, self.row_bytes, start_rows, frames)

    def commit(self, y: np.ndarray, classes: list[str], meta: dict[str, Any]) -> Path:
        """Write the index (CRC of the finished frames) and move the folder into place."""
        y = np.asarray(y, dtype=np.int64)
        index = {
            "format": FORMAT,
            "version": STORE_VERSION,
            "shape": list(self.shape),
            "dtype": "uint8",
            "x_bytes": self.shape[0] * self.row_bytes,
            "x_crc32": file_crc32(self.x_path),
            "y": [int(v) for v in y],
            "classes": [str(c) for c in classes],
            "meta": meta,
        }
        (self.tmp / INDEX).write_text(json.dumps(index))
        try:
            self._move_into_place()
        finally:  # the temporary folder never outlives the writer, even on failure
            self.discard()
        return self.final

    def _move_into_place(self) -> None:
        try:
            os.rename(self.tmp, self.final)
            return
        except OSError:
            if (self.final / INDEX).exists():  # another process finished it first: keep theirs
                return
        remove_store(self.final)  # a damaged entry, or a stray file under its name
        try:
            os.rename(self.tmp, self.final)
        except OSError as e:  # name the entry, not the temporary folder the user never made
            raise DataError(
                f"cannot write the frame cache entry {self.final}: {e.strerror}"
            ) from None

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def file_crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------


def read_store(folder: Path, check_crc: bool = True) -> tuple[FrameArray, np.ndarray, list, dict]:
    """``(x, y, classes, meta)`` of a cache folder, or `DamagedCache` (one sentence)."""
    folder = Path(folder)
    index_path, x_path = folder / INDEX, folder / X_FILE

    def damaged(what: str) -> DamagedCache:
        return DamagedCache(f"the frame cache {folder} is damaged ({what})")

    try:
        size = index_path.stat().st_size
        if size > MAX_INDEX_BYTES:
            raise damaged(f"{INDEX} is {size} bytes")
        index = json.loads(index_path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise damaged(f"{INDEX} is not readable JSON: {e.__class__.__name__}") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise damaged(f"{INDEX} is not a skipsnn frame index")
    if index.get("version") != STORE_VERSION:
        raise damaged(f"format version {index.get('version')!r}, expected {STORE_VERSION}")
    shape, y, classes = index.get("shape"), index.get("y"), index.get("classes")
    meta = index.get("meta")
    if not (
        isinstance(shape, list)
        and len(shape) == 5
        and all(type(v) is int and 0 <= v < 2**40 for v in shape)
        and shape[2] == 2
    ):
        raise damaged("the shape is not [N, T, 2, H, W]")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise damaged("the class names are not a list of strings")
    if not isinstance(y, list) or len(y) != shape[0]:
        raise damaged("the labels do not match the number of samples")
    if not all(type(v) is int and 0 <= v < len(classes) for v in y):
        raise damaged("a label is not a class index")
    if not isinstance(meta, dict) or index.get("dtype") != "uint8":
        raise damaged("the metadata is missing")
    expected = math.prod(shape)
    try:
        actual = x_path.stat().st_size
    except OSError:
        raise damaged(f"{X_FILE} is missing") from None
    if actual != expected or index.get("x_bytes") != expected:
        raise damaged(f"{X_FILE} holds {actual} bytes, the shape needs {expected}")
    if check_crc:
        try:
            crc = file_crc32(x_path)
        except OSError as e:
            raise damaged(f"{X_FILE} cannot be read: {e.strerror}") from None
        if crc != index.get("x_crc32"):
            raise damaged(f"{X_FILE} does not match its checksum")
    return FrameArray(x_path, tuple(shape)), np.asarray(y, dtype=np.int64), classes, meta


def remove_store(folder: Path) -> None:
    """Remove a cache entry: a folder, or a file or link that took its name."""
    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        with contextlib.suppress(OSError):  # as rmtree's ignore_errors: the rename then says
            folder.unlink()
    else:
        shutil.rmtree(folder, ignore_errors=True)
