"""Files that appear whole or not at all.

Every output file (configs, metrics, checkpoints, caches, plots) is written to a
temporary file in the same folder and moved into place with `os.replace`, which is
atomic on POSIX: a reader, or a resumed run, sees the old file or the new one, never
half of one, and a killed process leaves no partial file under the real name.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(binary_file)`` on a temporary file, then move it onto ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        # The error would name the temporary file, which the user never asked for.
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        # mkstemp creates 0600; the file gets the mode an ordinary open() would give it.
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
        try:
            os.replace(tmp, path)
        except OSError as e:  # e.g. a folder under the name: say so of the name, not of tmp
            raise OSError(e.errno, e.strerror, str(path)) from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def jsonable(x: Any) -> Any:
    """``x`` with non-finite floats as None, tuples as lists, numpy/torch values as Python's,
    so that the JSON written is valid (``json.dumps`` would write a bare ``NaN``)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if hasattr(x, "tolist"):
        return jsonable(x.tolist())
    return x


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(jsonable(obj), indent=2) + "\n")


def save_figure(fig, path: str | os.PathLike, **savefig_kw: Any) -> None:
    """Save a matplotlib figure as PNG atomically."""
    atomic_write(path, lambda f: fig.savefig(f, format="png", **savefig_kw))
