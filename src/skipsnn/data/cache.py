"""Where generated data and frames live on disk, their cache keys, and atomic writes.

The folder is `skipsnn.paths.cache_home` (the ``cache_dir`` argument, else
``SKIPSNN_CACHE``, else ``$XDG_CACHE_HOME/skipsnn`` or ``~/.cache/skipsnn``). Files are
written to a temporary name in the same folder and moved into place with ``os.replace``,
so a killed run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write  # noqa: F401  (re-exported for the data modules)
from ..errors import DataError
from ..paths import cache_home


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder to use (created if needed)."""
    root = cache_home(cache_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache folder {root}: {e.strerror}") from e
    return root


def cache_folder(cache_dir, kind: str) -> Path:
    """``<cache>/<kind>`` (``events``, ``frames``), created if needed."""
    folder = cache_root(cache_dir) / kind
    try:
        folder.mkdir(exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # else the error names a file inside it
        raise DataError(
            f"the cache folder {folder} is a file, not a folder; move it or choose another "
            "--cache-dir"
        ) from None
    except OSError as e:
        raise DataError(f"cannot create the cache folder {folder}: {e.strerror}") from None
    return folder


def cache_path(cache_dir, kind: str, name: str, split: str, options: dict[str, Any], ext: str):
    """``<cache>/<kind>/<name>-<split>-<key of options>.<ext>``: one naming for cached files."""
    return cache_folder(cache_dir, kind) / f"{name}-{split}-{options_key(options)}.{ext}"


def options_key(options: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able dict of options (sorted keys)."""
    blob = json.dumps(options, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
