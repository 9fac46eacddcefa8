"""Output folders: checked for writing before any work starts, and one run per folder.

A training run or a search holds an exclusive lock on its folder (``fcntl.flock`` on
``<folder>/.lock``) for as long as it runs. A second process asking for the same folder
is refused at once with one sentence, instead of both running and one silently
overwriting the other's results. The kernel drops the lock when its holder exits, even
after ``kill -9``, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError

LOCK_NAME = ".lock"
CHECKPOINT = "checkpoint.pt"  # a run folder's training state (`skipsnn.train.checkpoint`)
METRICS = "metrics.json"  # a finished run's results
JOURNAL = "journal.jsonl"  # a search folder's record of its trials (`skipsnn.search.journal`)
MAX_RESULT_BYTES = 64 * 2**20  # a metrics file or table a run writes is kilobytes


def check_writable(folder: str | os.PathLike, what: str = "--out") -> None:
    """Raise `ConfigError` unless ``folder`` is, or could be created as, a writable folder.

    Cheap and side-effect free, so commands call it before loading any data.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} exists and is not a folder")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing != folder and not existing.is_dir():
        raise ConfigError(f"{what} {folder} cannot be created: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {folder} is not writable (no write permission on {existing})")


def check_output_file(path: str | os.PathLike, what: str = "--out") -> None:
    """Raise `ConfigError` unless a file could be written at ``path`` (cheap, no side effect)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder, not a file")
    if path.exists() and not path.is_file():  # moving a file onto it would replace the node
        raise ConfigError(f"{what} {path} is a device, pipe or socket, not a regular file")
    check_writable(path.parent if str(path.parent) else Path("."), what=f"the folder of {what}")


@contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "run") -> Iterator[Path]:
    """Create ``folder`` if needed and hold its exclusive lock while the block runs.

    If the block fails and the folder holds nothing but the lock (it was created here),
    the folder is removed again: bad input leaves nothing behind.
    """
    folder = Path(folder)
    check_folder_kind(folder, what)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise ConfigError(f"cannot write to {folder}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                raise ConfigError(
                    f"{folder} is in use by another skipsnn {what} (process {holder}); "
                    "wait for it to finish or choose another folder"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        ok = False
        try:
            yield folder
            ok = True
        finally:
            if not ok and created:
                _remove_if_only_lock(folder)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _remove_if_only_lock(folder: Path) -> None:
    try:
        if [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            (folder / LOCK_NAME).unlink()
            folder.rmdir()
    except OSError:
        pass  # best effort: never mask the error that got us here


def check_folder_kind(folder: Path, what: str) -> None:
    """Refuse a training run in a search's folder and a search in a training run's: each
    would write its files among the other's, and a later ``--resume``, ``evaluate`` or
    ``report`` would read the mixture."""
    if what == "run" and (folder / JOURNAL).exists():
        raise ConfigError(f"{folder} holds a search ({JOURNAL}); choose another --out")
    if what == "search" and any((folder / f).exists() for f in (CHECKPOINT, METRICS)):
        raise ConfigError(f"{folder} holds a training run ({CHECKPOINT}); choose another --out")


def check_run_folder(folder: Path) -> None:
    """Raise `ConfigError` unless ``folder`` is an existing folder (to read results from)."""
    if not folder.exists():
        raise ConfigError(f"run folder {folder} does not exist")
    if not folder.is_dir():
        raise ConfigError(f"run folder {folder} is a file, not a folder")


def read_result_text(path: Path) -> str:
    """The text of a file a run wrote (metrics, a table), or `ConfigError` for what no run
    writes: a pipe or device (reading one waits for a writer, or never ends: a link to
    /dev/zero) or a file over `MAX_RESULT_BYTES`. Raises `OSError` if it cannot be read."""
    info = path.stat()  # follows links: a link to a regular file is read
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file")
    if info.st_size > MAX_RESULT_BYTES:
        raise ConfigError(f"{path} holds {info.st_size:,} bytes, more than a run writes")
    return path.read_text()


def read_json_object(path: Path) -> dict:
    """A JSON file a run wrote (``metrics.json``, ``best.json``); a damaged one, or one that
    does not hold an object, is one `ConfigError` sentence."""
    try:
        data = json.loads(read_result_text(path))
    except ConfigError:  # a ValueError too: not to be read as the one below
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path} is not readable JSON ({e})") from None
    except ValueError:  # json hands an integer to int(), which refuses past 4300 digits
        raise ConfigError(f"{path} is not readable JSON (an integer of too many digits)") from None
    except RecursionError:
        raise ConfigError(f"{path} is not readable JSON (nested too deep)") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} does not hold a JSON object")
    return data
