"""benchmarks/search_trials_by_architecture.py reads a search comparison's journals right."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("sta", BENCH / "search_trials_by_architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _arch(n_layers, n_dynamic, n_skip):
    return {
        "n_layers": n_layers,
        "n_dynamic": n_dynamic,
        "n_skip": n_skip,
        "l_start": 0,
        "l_end": 2,
    }


def _journal(path: Path, trials: list[tuple[str, dict, float]]) -> None:
    path.mkdir(parents=True)
    lines = []
    for i, (phase, params, value) in enumerate(trials):
        lines.append({"event": "proposed", "params": params, "phase": phase, "trial": i})
        lines.append({"event": "finished", "info": {}, "phase": phase, "trial": i, "value": value})
    lines.append({"event": "proposed", "params": _arch(1, 1, 0), "phase": "V", "trial": 99})
    (path / "journal.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")


def test_dual_phase_w_trials_take_phase_vs_best_architecture(tmp_path, script):
    w = {"a_0": 0.0, "tau_m_0": 2.0, "r_m_0": 2.0}
    _journal(
        tmp_path / "cells" / "dual-s3",
        [
            ("V", _arch(1, 1, 0), 1.8),
            ("V", _arch(3, 2, 1), 1.2),  # the best of phase V, not the last
            ("V", _arch(2, 1, 0), 1.5),
            ("W", w, 1.0),
            ("W", w, 1.1),
        ],
    )
    _journal(
        tmp_path / "cells" / "random-s0",
        [("random", {**_arch(3, 1, 0), **w}, 1.4), ("random", {**_arch(3, 1, 2), **w}, 1.6)],
    )
    trials = script.finished_trials(tmp_path)
    assert sorted(trials) == ["dual", "random"]
    assert len(trials["dual"]) == 5  # the proposed-but-unfinished trial 99 is not counted
    assert [t["n_layers"] for t in trials["dual"]] == [1, 3, 2, 3, 3]
    assert {t["seed"] for t in trials["dual"]} == {3}
    table = script.summarize(trials["dual"])
    assert table["layers"]["3"]["n"] == 3
    assert table["layers"]["3"]["mean"] == pytest.approx((1.2 + 1.0 + 1.1) / 3)
    assert table["skip"]["with a skip"]["n"] == 3 and table["skip"]["no skip"]["n"] == 2
    assert table["skip, 3 layers"] == {
        "with a skip": table["skip"]["with a skip"]
    }  # the 1- and 2-layer trials are left out
    rand = script.summarize(trials["random"])["skip, 3 layers"]
    assert rand["no skip"]["mean"] == 1.4 and rand["with a skip"]["mean"] == 1.6


def test_the_script_refuses_a_folder_without_journals(tmp_path, script, monkeypatch):
    monkeypatch.setattr("sys.argv", ["x", str(tmp_path)])
    with pytest.raises(SystemExit, match="no journals"):
        script.main()
