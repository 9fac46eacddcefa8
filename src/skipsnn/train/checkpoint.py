"""Atomic files and exact training state, so a killed run resumes where it stopped.

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, which is atomic on POSIX: a reader (or a resumed run) sees either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_torch(obj: Any, path: Path) -> None:
    atomic_write(path, lambda p: torch.save(obj, p))


def write_json(obj: Any, path: Path) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=2) + "\n"))


def write_jsonl(rows: list[dict], path: Path) -> None:
    """Rewrite a JSON-lines file from ``rows`` (the history kept in the checkpoint)."""
    atomic_write(path, lambda p: p.write_text("".join(json.dumps(r) + "\n" for r in rows)))


def rng_states() -> dict[str, Any]:
    """The global random states of torch, numpy and python."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and python (CPU kernels are deterministic for a fixed thread count)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def load_checkpoint(path: Path) -> dict[str, Any]:
    # The checkpoint holds numpy RNG state and python objects we wrote ourselves.
    return torch.load(path, weights_only=False)
