"""Atomic files and exact training state, so a killed run resumes where it stopped.

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, which is atomic on POSIX: a reader (or a resumed run) sees either the old
file or the new one, never half of one.
"""

from __future__ import annotations

import json
import pickle
import random
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import atomic
from ..atomic import atomic_write  # noqa: F401  (used by the trainers and plots)
from ..errors import ConfigError
from ..folders import CHECKPOINT


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
    """The global random states of torch, numpy and python, as tensors and plain data
    (so that a checkpoint loads with ``torch.load(weights_only=True)``)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    n = states["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["name"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


@contextmanager
def restoring(path: Path) -> Iterator[None]:
    """Turn a checkpoint whose entries do not fit the run being restored (wrong shapes,
    missing or mistyped entries) into one `ConfigError` sentence."""
    try:
        yield
    except (KeyError, IndexError, RuntimeError, TypeError, ValueError, AttributeError) as e:
        # load_state_dict's first line only names the class ("Error(s) in loading
        # state_dict for MMNDNet:"); the next one names the first missing key or shape.
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        reason = " ".join(lines[:2])[:300] or type(e).__name__
        raise ConfigError(f"{path} does not fit this run ({reason})") from None


def seed_everything(seed: int) -> None:
    """Seed torch, numpy and python (CPU kernels are deterministic for a fixed thread count)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def load_checkpoint(path: Path, required: tuple[str, ...] = ("config", "history")) -> dict:
    """A checkpoint written by `save_torch`, loaded without unpickling any code.

    ``torch.load(weights_only=True)`` accepts only tensors and plain data, so a crafted
    file cannot run code; an empty, truncated, damaged or foreign file, or one that lacks
    the ``required`` keys, raises `ConfigError` with one sentence.
    """
    if path.exists() and not path.is_file():  # a pipe blocks torch.load, /dev/zero never ends
        raise ConfigError(f"{path} is not a readable checkpoint (not a regular file)")
    if path.is_file() and not zipfile.is_zipfile(path):
        # torch.save writes a zip archive; anything else (text, a plain pickle, a truncated
        # copy) would fail below with an opaque reason such as a bare "101".
        raise ConfigError(f"{path} is not a readable checkpoint (not a file written by torch.save)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ConfigError(
            f"{path} holds objects other than tensors and plain data (a pickled object, as "
            "in a crafted file or a checkpoint of skipsnn before safe loading); refusing to load it"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as e:
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ConfigError(f"{path} is not a readable checkpoint ({reason})") from None
    if not isinstance(state, dict) or not all(k in state for k in required):
        raise ConfigError(f"{path} is not a skipsnn checkpoint (missing entries)")
    if not isinstance(state["config"], dict) or not isinstance(state["history"], list):
        raise ConfigError(f"{path} is not a skipsnn checkpoint (malformed entries)")
    return state


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
