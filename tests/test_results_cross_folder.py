"""Figures in docs/results/README.md that pair runs of two committed folders.

Each folder's own table is checked by ``test_results_consistency.py``; these are the
comparisons across folders that share seeds, splits and test set, recomputed from their
``results.json``.
"""

import json
from pathlib import Path

from skipsnn.experiments.compare import pm
from skipsnn.experiments.tables import ci95

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
README = " ".join((RESULTS / "README.md").read_text().split())  # line breaks as spaces


def _accuracy(folder: str, variant: str) -> dict[int, float]:
    runs = json.loads((RESULTS / folder / "results.json").read_text())["runs"]
    return {r["seed"]: 100 * r["test_accuracy"] for r in runs if r["variant"] == variant}


def _paired(a: dict[int, float], b: dict[int, float]) -> str:
    assert sorted(a) == sorted(b)  # the same seeds on both sides
    return pm(*ci95([a[s] - b[s] for s in sorted(a)])[:2])


def test_conv_gru_with_more_training_on_gestures():
    mmnd = _accuracy("baselines_gestures", "mMND, BPTT")
    gru_default = _accuracy("baselines_gestures", "conv-GRU (same budget)")
    gru_fast = _accuracy("gru_lr_gestures", "conv-GRU (same budget)")  # lr 0.01, 20 epochs
    gru_slow = _accuracy("gru_lr_gestures", "conv-GRU (same budget), lr 0.002")
    assert f"{_paired(gru_fast, gru_default)} points above the same GRU" in README
    assert f"stays ahead of it by {_paired(mmnd, gru_fast)} points" in README
    assert f"{_paired(gru_slow, gru_default)} points more than 10 epochs" in README


def test_conv_gru_with_more_training_on_digits():
    mmnd = _accuracy("baselines_digits", "mMND, BPTT")
    raw = _accuracy("baselines_digits", "raw events, 2x2 grid x 4 windows")
    gru_default = _accuracy("baselines_digits", "conv-GRU (same budget)")
    gru_fast = _accuracy("gru_lr_digits", "conv-GRU (same budget)")  # lr 0.01, 20 epochs
    assert f"{_paired(gru_fast, gru_default)} points above its 10-epoch baseline" in README
    assert f"stays ahead by {_paired(mmnd, gru_fast)} points" in README
    assert f"(by {_paired(raw, gru_fast)})" in README
