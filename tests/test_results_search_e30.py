"""docs/results/README.md's 30-epoch search comparison, recomputed from its committed JSON.

``search_rhythms_16_e30`` is ``search_rhythms_16`` with 30-epoch trials instead of 20; its
cells' search journals are committed beside ``results.json``, so the figures quoted for
what a trial rewards are rebuilt here from them with the script that prints them.
"""

import importlib.util
import json
from pathlib import Path

import pytest
from scipy import stats

from skipsnn.experiments.compare import pm
from skipsnn.experiments.tables import ci95

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
FOLDER = RESULTS / "search_rhythms_16_e30"
FLAT = " ".join((RESULTS / "README.md").read_text().split())  # prose without line breaks
SEEDS = range(5)


def _quoted(text: str) -> None:
    assert " ".join(text.split()) in FLAT, text


def _runs(folder: Path) -> tuple[dict, dict]:
    data = json.loads((folder / "results.json").read_text())
    return {(r["strategy"], r["seed"]): r for r in data["runs"]}, data


@pytest.fixture(scope="module")
def trials():
    spec = importlib.util.spec_from_file_location(
        "search_trials_by_architecture", ROOT / "benchmarks" / "search_trials_by_architecture.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.finished_trials(FOLDER)


def test_the_folder_differs_from_the_20_epoch_one_in_the_trial_length_only():
    new, data = _runs(FOLDER)
    _, ref = _runs(RESULTS / "search_rhythms_16")
    assert data["settings"]["trial_epochs"] == 30 and ref["settings"]["trial_epochs"] == 20
    same = ("seeds", "first_seed", "strategies", "budget_v", "budget_w", "final_epochs")
    assert all(data["settings"][k] == ref["settings"][k] for k in same + ("num_threads",))
    search = {k: v for k, v in data["settings"]["search"].items() if k != "gp_kernel"}
    assert search == {**ref["settings"]["search"], "trial_train": {"epochs": 30}}
    assert data["settings"]["search"]["gp_kernel"] == "rbf"  # the kernel before the option
    assert data["settings"]["config"] == ref["settings"]["config"]
    assert sorted(new) == sorted((st, s) for st in ("dual", "joint", "random") for s in SEEDS)
    assert {r["host"]["cpu"] for r in new.values()} == {"AMD EPYC"}
    assert {r["commit"][:7] for r in new.values()} == {"94ef5bc"}


def test_every_cell_has_its_journal_and_it_holds_the_cells_best_trial(trials):
    module, by_strategy = trials
    new, _ = _runs(FOLDER)
    for (st, seed), run in new.items():
        mine = [t for t in by_strategy[st] if t["seed"] == seed]
        assert len(mine) == run["trials"] == 16
        best = min(mine, key=lambda t: t["val_loss"])
        assert best["val_loss"] == run["best_val_loss"]
        arch = {k: best[k] for k in run["architecture"]}
        assert arch == run["architecture"]


def test_strategies_and_choices_are_as_quoted():
    new, _ = _runs(FOLDER)
    old, _ = _runs(RESULTS / "search_rhythms_16")

    def diff(st, key, scale, nd):
        d = [scale * (new[(st, s)][key] - new[("dual", s)][key]) for s in SEEDS]
        return pm(*ci95(d)[:2], nd)

    _quoted(
        f"joint is {diff('joint', 'test_accuracy', 100, 1)} points of test accuracy from dual "
        f"and random {diff('random', 'test_accuracy', 100, 1)}; in the search's objective "
        f"joint's best validation loss is {diff('joint', 'best_val_loss', 1, 3)} above dual's "
        f"and random's {diff('random', 'best_val_loss', 1, 3)}."
    )

    def counts(runs, st):
        arch = [runs[(st, s)]["architecture"] for s in SEEDS]
        return (
            sum(a["n_layers"] == 3 for a in arch),
            sum(a["n_skip"] > 0 for a in arch),
            sum(a["n_dynamic"] > 1 for a in arch),
        )

    c = {st: counts(new, st) for st in ("dual", "joint", "random")}
    o = {st: counts(old, st) for st in ("dual", "joint", "random")}
    assert [c[st][0] for st in c] == [4, 5, 4] and all(c[st][1] == 5 for st in c)
    assert [c[st][2] for st in c] == [3, 3, 3] and [o[st][2] for st in o] == [1, 1, 3]
    p = stats.fisher_exact([[9, 6], [5, 10]]).pvalue
    _quoted(f"random 3); Fisher's exact p = {p:.2f}, so that shift is not resolved.")
    phases = [new[("dual", s)]["best_phase"] for s in SEEDS]
    assert phases.count("V") == 4 and phases[2] == "W"
    ks = sorted(new)
    rho = stats.spearmanr(
        [new[k]["best_val_loss"] for k in ks], [new[k]["test_accuracy"] for k in ks]
    )
    _quoted(f"Spearman {rho.statistic:.2f} (p = {rho.pvalue:.3f}) over these 15 cells")


def test_what_a_trial_rewards_is_as_quoted(trials):
    module, by_strategy = trials
    rand = by_strategy["random"]
    assert len(rand) == 80
    table = module.summarize(rand)

    def cell(group, key, nd=3):
        r = table[group][key]
        return pm(r["mean"], r["ci95"], nd), r["n"]

    (three, n3), (two, n2) = cell("layers", "3"), cell("layers", "2")
    one = table["layers"]["1"]
    _quoted(
        f"validation loss {three} with 3 layers ({n3} trials), {two} with 2 ({n2}) and "
        f"{one['mean']:.3f} for the one 1-layer trial."
    )
    a = [t["val_loss"] for t in rand if t["n_layers"] == 3]
    b = [t["val_loss"] for t in rand if t["n_layers"] == 2]
    welch = stats.ttest_ind(a, b, equal_var=False)
    lo, hi = welch.confidence_interval()
    _quoted(
        f"3 against 2 layers is {sum(a) / len(a) - sum(b) / len(b):.3f} (Welch 95% interval "
        f"{lo:.3f} to {hi:.3f}, p = {welch.pvalue:.3f}): not resolved."
    )
    assert lo < 0 < hi
    (skip, ns), (none, nn) = (
        cell("skip, 3 layers", "with a skip"),
        cell("skip, 3 layers", "no skip"),
    )
    _quoted(f"a skip gives {skip} ({ns} trials) and none {none} ({nn})")
    d = [cell("dynamics", k) for k in ("1", "2", "3")]
    _quoted(
        f"(1: {d[0][0]}, 2: {d[1][0]}, 3: {d[2][0]}; {d[0][1]}, {d[1][1]} and {d[2][1]} trials)"
    )
    dual = module.summarize(by_strategy["dual"])["layers"]
    assert (dual["1"]["n"], dual["3"]["n"]) == (6, 60)
    _quoted(
        f"dual's six 1-layer trials scored {pm(dual['1']['mean'], dual['1']['ci95'], 3)}, its "
        f"sixty 3-layer ones {pm(dual['3']['mean'], dual['3']['ci95'], 3)}."
    )


def test_the_cross_host_comparison_with_20_epoch_trials_is_as_quoted():
    new, _ = _runs(FOLDER)
    old, _ = _runs(RESULTS / "search_rhythms_16")
    d = {
        st: pm(
            *ci95(
                [
                    100 * (new[(st, s)]["test_accuracy"] - old[(st, s)]["test_accuracy"])
                    for s in SEEDS
                ]
            )[:2],
            1,
        )
        for st in ("dual", "joint", "random")
    }
    _quoted(f"dual {d['dual']}, joint {d['joint']} and random {d['random']} points.")
    a, b = new[("random", 1)], old[("random", 1)]
    assert (a["architecture"], a["dynamics"]) == (b["architecture"], b["dynamics"])
    _quoted(
        f"scored {100 * a['test_accuracy']:.1f}% here against {100 * b['test_accuracy']:.1f}% there"
    )


def test_the_search_page_quotes_the_30_epoch_row():
    data = json.loads((FOLDER / "results.json").read_text())
    acc = {r["variant"]: r for r in data["rows"]["test_accuracy"]}
    page = " ".join((ROOT / "docs" / "search.md").read_text().split())

    def level(st):
        return pm(*ci95(acc[st]["per_seed"])[:2], 1)

    def gap(st):
        d = [b - a for a, b in zip(acc["dual"]["per_seed"], acc[st]["per_seed"], strict=True)]
        return pm(*ci95(d)[:2], 1)

    assert (
        f"dual {level('dual')}%, joint {level('joint')}%, random {level('random')}%; "
        f"joint - dual {gap('joint')} points, random - dual {gap('random')}, not resolved"
    ) in page
