"""Atomic files and exact training state, so a killed run resumes where it stopped.

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, which is atomic on POSIX: a reader (or a resumed run) sees either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import atomic
from ..atomic import atomic_write  # noqa: F401  (used by the trainers and plots)
from ..errors import ConfigError


def save_torch(obj: Any, path: Path) -> None:
    atomic_write(path, lambda f: torch.save(obj, f))


def save_run_state(state: dict[str, Any], history: list[dict], out: Path) -> None:
    """Write a run's checkpoint, then its ``metrics.jsonl`` from ``history``.

    The checkpoint first: if the process is killed before the jsonl is rewritten, a
    resumed run rewrites it from the checkpoint's history.
    """
    save_torch(state, out / CHECKPOINT)
    write_jsonl(history, out / "metrics.jsonl")


def write_json(obj: Any, path: Path) -> None:
    atomic.write_json(path, obj)


def write_jsonl(rows: list[dict], path: Path) -> None:
    """Rewrite a JSON-lines file from ``rows`` (the history kept in the checkpoint)."""
    atomic.write_text(path, "".join(json.dumps(r) + "\n" for r in rows))


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


CHECKPOINT = "checkpoint.pt"


def existing_checkpoint(out: Path, resume: bool) -> dict[str, Any] | None:
    """The checkpoint in run folder ``out`` to continue from, or None to start afresh.

    Refuses to clobber: a folder with a finished run, or with a checkpoint when
    ``resume`` is not asked for, raises `ConfigError`.
    """
    path = out / CHECKPOINT
    if not path.exists():
        if (out / "metrics.json").exists() and not resume:
            raise ConfigError(f"{out} already holds a finished run; choose a new --out folder")
        return None
    if not resume:
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose a new folder"
        )
    return load_checkpoint(path)
