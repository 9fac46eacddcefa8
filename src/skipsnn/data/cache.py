"""Where generated data and frames live on disk, and atomic writes into it.

The cache folder is, in order of precedence, the ``cache_dir`` argument, the
``SKIPSNN_CACHE`` environment variable, or ``~/.cache/skipsnn``. Files are written to a
temporary name in the same folder and moved into place with ``os.replace``, so a
killed run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write  # noqa: F401  (re-exported for the data modules)
from ..errors import DataError


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder to use (created if needed)."""
    if cache_dir is None:
        cache_dir = os.environ.get("SKIPSNN_CACHE") or Path.home() / ".cache" / "skipsnn"
    root = Path(cache_dir).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the cache folder {root}: {e.strerror}") from e
    return root


def options_key(options: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able dict of options (sorted keys)."""
    blob = json.dumps(options, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
