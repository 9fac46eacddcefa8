"""A bounded fuzz run in the suite: readers, config files and command lines (issue #11).

The generators and the independent checks live in ``benchmarks/fuzz_inputs.py`` (run it
for a longer campaign). Every case must end as accepted-and-correct or as one clear
refusal (exit status 2, one sentence): no traceback, no hang, no nonsense accepted.
``FUZZ_SEED`` picks other cases; the default is fixed so that a failure reproduces.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz_inputs.py"
_spec = importlib.util.spec_from_file_location("fuzz_inputs", _PATH)
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

SEED = int(os.environ.get("FUZZ_SEED", "0"))


@pytest.mark.parametrize("kind, cases", [("readers", 400), ("configs", 250), ("cli", 80)])
def test_fuzz(kind, cases, monkeypatch, tmp_path):
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    counts, bad = fuzz.campaign(kind, cases, SEED)
    assert not bad, "\n".join(bad[:10])
    assert sum(counts.values()) == cases
    # Both outcomes occur: the generators make valid inputs as well as broken ones.
    assert counts["ok"] >= cases // 20 and counts["refused"] >= cases // 5, counts


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fuzz_oracle_catches_the_old_bugs(monkeypatch):
    """The checks are not vacuous: the pre-#11 .npy reader fails them."""
    import numpy as np

    from skipsnn.data import readers
    from skipsnn.data.events import make_events

    def old_reader(path):
        a = np.load(path, allow_pickle=False)
        if a.dtype.names:
            return make_events(a["x"], a["y"], a["t"], a["p"])
        return make_events(a[:, 0], a[:, 1], (a[:, 3] * 1000).astype(np.int64), a[:, 2])

    monkeypatch.setitem(readers.READERS, "tonic-npy", old_reader)
    counts, bad = fuzz.campaign("readers", 200, SEED)
    assert counts["nonsense"] > 0 and counts["traceback"] > 0
