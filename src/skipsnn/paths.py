"""The one cache folder skipsnn keeps rebuildable files in (data, frames, compiled kernels).

In order of precedence: an explicit ``cache_dir``, the ``SKIPSNN_CACHE`` environment
variable, ``$XDG_CACHE_HOME/skipsnn``, or ``~/.cache/skipsnn``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_home(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder (not created; callers make the subfolder they write into)."""
    if cache_dir is None:
        cache_dir = (
            os.environ.get("SKIPSNN_CACHE")
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "skipsnn"
        )
    return Path(cache_dir).expanduser()
