"""Append-only search journal: one JSON line per event, flushed and fsynced.

Events (``"event"`` field): ``proposed`` (trial id, phase, params), ``finished`` (trial
id, value, info), ``failed`` (trial id, error). The search state is a pure replay of
the journal, so a killed search resumes from it: finished and failed trials are kept,
trials that were proposed but never finished are run again with the same parameters.
A line torn by a kill mid-write is dropped on resume.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import jsonable
from ..errors import ConfigError


class Journal:
    """A JSON-lines file that is only ever appended to."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def read(self) -> list[dict]:
        """All complete records; a torn (unterminated or unparsable) last line is ignored."""
        if not self.path.exists():
            return []
        records = []
        lines = self.path.read_bytes().split(b"\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as e:  # JSONDecodeError, not UTF-8, too deep
                if i >= len(lines) - 2 and not isinstance(e, RecursionError):  # torn by a kill
                    break
                raise ConfigError(
                    f"search journal {self.path} is corrupt at line {i + 1}"
                ) from None
            if not _well_formed(record):
                raise ConfigError(
                    f"search journal {self.path} is corrupt at line {i + 1} "
                    "(not a trial record this search writes)"
                )
            records.append(record)
        return records

    def repair(self) -> None:
        """Cut a torn last line so the next append starts on a fresh line."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())

    def append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(jsonable(record), sort_keys=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())


def _number(v) -> bool:
    """A finite number as `append` writes one (it writes non-finite floats as null)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _well_formed(r) -> bool:
    """Whether ``r`` has the shape of a record `replay` reads."""
    if not isinstance(r, dict):
        return False
    trial = r.get("trial")
    if isinstance(trial, bool) or not isinstance(trial, int):
        return r.get("event") not in ("proposed", "finished", "failed")
    if r.get("event") == "proposed":
        params = r.get("params")
        return (
            isinstance(r.get("phase"), str)
            and isinstance(params, dict)
            and all(_number(v) for v in params.values())
        )
    if r.get("event") in ("finished", "failed"):
        value = r.get("value")
        return isinstance(r.get("info") or {}, dict) and (value is None or _number(value))
    return True  # other events (notes) are not replayed


@dataclass
class Trial:
    """One evaluation: ``status`` is ``pending``, ``finished`` or ``failed``."""

    id: int
    phase: str
    params: dict
    status: str = "pending"
    value: float | None = None
    info: dict = field(default_factory=dict)
    error: str | None = None


def replay(records: list[dict]) -> dict[int, Trial]:
    """Trials by id, in proposal order, rebuilt from journal records."""
    trials: dict[int, Trial] = {}
    for r in records:
        event = r.get("event")
        if event == "proposed":
            trials[r["trial"]] = Trial(r["trial"], r["phase"], dict(r["params"]))
        elif event in ("finished", "failed") and r.get("trial") in trials:
            t = trials[r["trial"]]
            t.status = event
            t.value = r.get("value")
            t.info = r.get("info") or {}
            t.error = r.get("error")
    return trials
