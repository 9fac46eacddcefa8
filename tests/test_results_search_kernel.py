"""docs/results/README.md's kernel check on the rhythms search, recomputed from the JSON.

``search_rhythms_16_mg`` reruns dual and joint of ``search_rhythms_16`` (seeds 0-4) with
``gp_kernel: matern-gamma``; ``search_rhythms_16_rerun_s0`` reruns one ``rbf`` cell to show
what the machine alone changes. The table and every figure quoted beside it are rebuilt
here with the functions that write the folders' own tables.
"""

import json
from pathlib import Path

import yaml

from skipsnn.experiments.compare import pm
from skipsnn.experiments.tables import ci95

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
README = (RESULTS / "README.md").read_text()


def _runs(folder: str) -> dict:
    data = json.loads((RESULTS / folder / "results.json").read_text())
    return {(r["strategy"], r["seed"]): r for r in data["runs"]}, data


def test_the_kernel_folder_differs_from_the_reference_in_the_kernel_only():
    _, mg = _runs("search_rhythms_16_mg")
    _, ref = _runs("search_rhythms_16")
    assert mg["settings"]["search"]["gp_kernel"] == "matern-gamma"
    assert ref["settings"]["search"].get("gp_kernel", "rbf") == "rbf"  # before the option
    same = ("budget_v", "budget_w", "trial_epochs", "final_epochs", "num_threads")
    assert all(mg["settings"][k] == ref["settings"][k] for k in same)
    search = {k: v for k, v in mg["settings"]["search"].items() if k != "gp_kernel"}
    assert search == ref["settings"]["search"]
    assert mg["settings"]["config"] == ref["settings"]["config"]
    committed = yaml.safe_load((RESULTS / "search_rhythms_16_mg" / "config.yaml").read_text())
    assert committed["search"] == {"gp_kernel": "matern-gamma"}


def test_the_kernel_table_and_figures_are_as_quoted():
    mg, _ = _runs("search_rhythms_16_mg")
    ref, _ = _runs("search_rhythms_16")
    seeds = range(5)
    assert sorted(mg) == sorted((st, s) for st in ("dual", "joint") for s in seeds)
    for st in ("dual", "joint"):
        cells, diffs = [], []
        for key, scale, nd in (("best_val_loss", 1, 3), ("test_accuracy", 100, 1)):
            x = [scale * ref[(st, s)][key] for s in seeds]
            y = [scale * mg[(st, s)][key] for s in seeds]
            d = ci95([b - a for a, b in zip(x, y, strict=True)])
            cells += [pm(*ci95(x)[:2], nd), pm(*ci95(y)[:2], nd), pm(*d[:2], nd)]
            diffs.append(pm(*d[:2], nd))
        assert f"| {st} | " + " | ".join(cells) + " |" in README
        loss, acc = diffs
        if st == "dual":
            assert f"(best validation loss {loss},\n  test accuracy {acc} points" in README
        else:
            assert f"or for joint ({loss} and\n  {acc} points)" in README
    jd = ci95(
        [
            100 * (mg[("joint", s)]["test_accuracy"] - mg[("dual", s)]["test_accuracy"])
            for s in seeds
        ]
    )
    assert f"joint's test accuracy\n  is {pm(*jd[:2], 1)} points against dual" in README
    assert jd[0] + jd[1] < 0  # "does worse": the interval lies below 0


def test_the_rerun_cell_is_quoted_as_it_came_out():
    rerun, data = _runs("search_rhythms_16_rerun_s0")
    ref, _ = _runs("search_rhythms_16")
    (key,) = rerun
    assert key == ("dual", 0) and data["settings"]["search"]["gp_kernel"] == "rbf"
    new, old = rerun[key], ref[key]
    assert new["architecture"] == old["architecture"] and new["dynamics"] == old["dynamics"]
    acc_new, acc_old = 100 * new["test_accuracy"], 100 * old["test_accuracy"]
    quoted = (
        f"accuracy {acc_new:.1f}% (committed: {acc_old:.1f}%)",
        f"loss {new['best_val_loss']:.3f} (committed: {old['best_val_loss']:.3f})",
        f"one cell moves by {abs(acc_new - acc_old):.1f} points",
        f"scored {acc_new:.1f}% against {acc_old:.1f}%",
    )
    text = README.replace("\n  ", " ")
    for q in quoted:
        assert q.replace("\n  ", " ") in text, q
