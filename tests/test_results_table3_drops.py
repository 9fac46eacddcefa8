"""The label drops quoted under the Table 3 grids, and the ablation's paired differences,
agree with the committed runs.

The README quotes, for each of gestures and digits, how far STDP and BPTT fall from 100%
to 10% labels and how much more BPTT falls, as mean ± 95% CI paired over the seeds of
``docs/results/table3_<dataset>/results.json``. This recomputes them from that file.
"""

import json
from pathlib import Path

import pytest

from skipsnn.experiments.compare import pm
from skipsnn.experiments.tables import ci95

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
README = " ".join((RESULTS / "README.md").read_text().split())  # line breaks as spaces


def _drops(dataset: str) -> dict[str, list[float]]:
    runs = json.loads((RESULTS / f"table3_{dataset}" / "results.json").read_text())

    def acc(method, fraction):
        return {
            r["seed"]: r["test_accuracy"]
            for r in runs
            if (r["method"], r["fraction"]) == (method, fraction)
        }

    out = {}
    for method in ("stdp", "bptt"):
        full, few = acc(method, 1.0), acc(method, 0.1)
        assert sorted(full) == sorted(few)  # paired: the same seeds at both fractions
        out[method] = [100 * (full[s] - few[s]) for s in sorted(full)]
    out["more"] = [b - s for b, s in zip(out["bptt"], out["stdp"], strict=True)]
    return out


@pytest.mark.parametrize("dataset", ["gestures", "digits"])
def test_quoted_label_drops_match_the_runs(dataset):
    drops = _drops(dataset)
    d = {k: pm(*ci95(v)[:2]) for k, v in drops.items()}
    n = len(drops["stdp"])
    assert f"STDP drops {d['stdp']} points" in README, d
    assert f"{d['bptt']}, {d['more']} more (mean ± 95% CI, paired over the {n}" in README, d


def test_quoted_ablation_differences_match_the_runs():
    rows = json.loads((RESULTS / "ablation_gestures" / "results.json").read_text())
    acc = {r["variant"]: r["accuracy_per_seed"] for r in rows}

    def paired(a, b):
        return pm(*ci95([x - y for x, y in zip(acc[a], acc[b], strict=True)])[:2])

    skip_hom = paired("homogeneous, skip", "homogeneous, no skip")
    skip_het = paired("heterogeneous, skip", "heterogeneous, no skip")
    assert f"the skip adds {skip_hom} points to the homogeneous network and {skip_het}" in README
    het = paired("heterogeneous, no skip", "homogeneous, no skip")
    het_skip = paired("heterogeneous, skip", "homogeneous, skip")
    assert f"second dynamic adds {het} without the skip and {het_skip} with it" in README
