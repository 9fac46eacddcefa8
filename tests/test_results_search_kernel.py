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
FLAT = " ".join(README.split())  # the prose without its line breaks


def _flat(text: str) -> bool:
    return " ".join(text.split()) in FLAT


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
            assert _flat(
                f"resolved for dual (best validation loss {loss}, test accuracy {acc} points"
            )
        else:
            assert _flat(f"or for joint ({loss} and {acc} points)")
    jd = ci95(
        [
            100 * (mg[("joint", s)]["test_accuracy"] - mg[("dual", s)]["test_accuracy"])
            for s in seeds
        ]
    )
    assert _flat(f"(joint {pm(*jd[:2], 1)} points against dual in that folder), is **withdrawn**")
    assert jd[0] + jd[1] < 0  # within that folder the interval does lie below 0


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


def _paired(a: dict, b: dict, st: str) -> tuple[list[str], list[str]]:
    """The table cells and the two differences (b - a) of strategy ``st``, seeds 0-4."""
    cells, diffs = [], []
    for key, scale, nd in (("best_val_loss", 1, 3), ("test_accuracy", 100, 1)):
        x = [scale * a[(st, s)][key] for s in range(5)]
        y = [scale * b[(st, s)][key] for s in range(5)]
        d = ci95([q - p for p, q in zip(x, y, strict=True)])
        cells += [pm(*ci95(x)[:2], nd), pm(*ci95(y)[:2], nd), pm(*d[:2], nd)]
        diffs.append(pm(*d[:2], nd))
    return cells, diffs


def test_the_same_machine_kernel_comparison_is_as_quoted():
    same, data = _runs("search_rhythms_16_rbf_same")
    mg, mg_data = _runs("search_rhythms_16_mg")
    assert data["settings"]["search"]["gp_kernel"] == "rbf"
    assert {k: v for k, v in data["settings"].items() if k != "search"} == {
        k: v for k, v in mg_data["settings"].items() if k != "search"
    }
    assert {r["host"]["cpu"] for r in same.values()} == {"Intel(R) Xeon(R) Processor"}
    accs = []
    for st in ("dual", "joint"):
        cells, (loss, acc) = _paired(same, mg, st)
        assert f"| {st} | " + " | ".join(cells) + " |" in README
        assert _flat(f"{st} {loss} and {acc} points")
        accs.append(acc)
    search_md = " ".join((RESULTS.parents[0] / "search.md").read_text().split())
    assert "(test accuracy {} and {} points)".format(*accs) in search_md
    jd = ci95(
        [
            100 * (same[("joint", s)]["test_accuracy"] - same[("dual", s)]["test_accuracy"])
            for s in range(5)
        ]
    )
    assert _flat(f"same machine joint is {pm(*jd[:2], 1)} points against dual")
    # "joint seed 4 is the same cell in both folders"
    a, b = same[("joint", 4)], mg[("joint", 4)]
    assert (a["best_val_loss"], a["test_accuracy"], a["dynamics"]) == (
        b["best_val_loss"],
        b["test_accuracy"],
        b["dynamics"],
    )


def test_this_host_reproduced_the_fifth_sessions_cells():
    same, _ = _runs("search_rhythms_16_rbf_same")
    rerun, _ = _runs("search_rhythms_16_rerun_s0")
    mg, _ = _runs("search_rhythms_16_mg")
    for key in ("best_val_loss", "test_accuracy", "architecture", "dynamics"):
        assert same[("dual", 0)][key] == rerun[("dual", 0)][key]
    assert _flat(f"gave best validation loss {mg[('dual', 0)]['best_val_loss']!r} and test")


def test_the_machine_effect_over_ten_cells_is_as_quoted():
    same, _ = _runs("search_rhythms_16_rbf_same")
    ref, _ = _runs("search_rhythms_16")
    keys = sorted(same)
    assert set(keys) <= set(ref)  # the reference also ran random search
    acc = [100 * (same[k]["test_accuracy"] - ref[k]["test_accuracy"]) for k in keys]
    loss = [same[k]["best_val_loss"] - ref[k]["best_val_loss"] for k in keys]
    alike = [
        k
        for k in keys
        if (same[k]["architecture"], same[k]["dynamics"])
        == (ref[k]["architecture"], ref[k]["dynamics"])
    ]
    assert alike == [("dual", 0)]
    mean_abs, largest = sum(map(abs, acc)) / len(acc), max(map(abs, acc))
    assert _flat(
        f"test accuracy moved by {pm(*ci95(acc)[:2], 1)} points per cell on average (mean "
        f"absolute change {mean_abs:.1f}, largest {largest:.1f}), best validation loss by "
        f"{pm(*ci95(loss)[:2], 3)} (lower here on {sum(x < 0 for x in loss)} of the 10 cells"
    )
    assert _flat(f"moved by {mean_abs:.1f} points on average (largest {largest:.1f})")
