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
STRATEGIES = ("dual", "joint", "random")


def _quoted(text: str) -> None:
    assert " ".join(text.split()) in FLAT, text


def _runs(folder: Path) -> tuple[dict, dict]:
    data = json.loads((folder / "results.json").read_text())
    return {(r["strategy"], r["seed"]): r for r in data["runs"]}, data


def _gain(new: dict, old: dict, st: str) -> str:
    """``new - old`` test accuracy of strategy ``st``, paired by seed, in points."""
    d = [100 * (new[(st, s)]["test_accuracy"] - old[(st, s)]["test_accuracy"]) for s in SEEDS]
    return pm(*ci95(d)[:2], 1)


def _versus_dual(runs: dict) -> str:
    """The README's sentence of joint's and random's paired differences to dual."""

    def diff(st, key, scale, nd):
        d = [scale * (runs[(st, s)][key] - runs[("dual", s)][key]) for s in SEEDS]
        return pm(*ci95(d)[:2], nd)

    return (
        f"joint is {diff('joint', 'test_accuracy', 100, 1)} points of test accuracy from dual "
        f"and random {diff('random', 'test_accuracy', 100, 1)}; in the search's objective "
        f"joint's best validation loss is {diff('joint', 'best_val_loss', 1, 3)} above dual's "
        f"and random's {diff('random', 'best_val_loss', 1, 3)}."
    )


def _script(name: str):
    """The benchmark script ``benchmarks/<name>.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trials():
    module = _script("search_trials_by_architecture")
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
    _quoted(_versus_dual(new))

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
    d = {st: _gain(new, old, st) for st in ("dual", "joint", "random")}
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


AMD = RESULTS / "search_rhythms_16_amd"


def _proposals(folder: Path, cell: str) -> list[dict]:
    lines = (folder / "cells" / cell / "journal.jsonl").read_text().splitlines()
    return [r["params"] for r in map(json.loads, lines) if r["event"] == "proposed"]


def test_the_same_host_20_epoch_folder_differs_in_the_trial_length_only():
    e20, d20 = _runs(AMD)
    e30, d30 = _runs(FOLDER)
    assert d20["settings"]["trial_epochs"] == 20
    assert {k: v for k, v in d20["settings"].items() if k not in ("trial_epochs", "search")} == {
        k: v for k, v in d30["settings"].items() if k not in ("trial_epochs", "search")
    }
    assert {**d20["settings"]["search"], "trial_train": {"epochs": 30}} == d30["settings"]["search"]
    assert sorted(e20) == sorted(e30)
    assert {(r["host"]["cpu_id"], r["commit"][:7]) for r in e20.values()} == {
        (r["host"]["cpu_id"], r["commit"][:7]) for r in e30.values()
    }


def test_trial_length_on_one_host_is_as_quoted():
    e20, _ = _runs(AMD)
    e30, _ = _runs(FOLDER)
    d = {st: _gain(e30, e20, st) for st in ("dual", "joint", "random")}
    _quoted(f"dual {d['dual']}, joint {d['joint']}, random {d['random']} points.")
    # random search draws the same points whatever the trial length
    for s in SEEDS:
        assert _proposals(AMD, f"random-s{s}") == _proposals(FOLDER, f"random-s{s}")
    same = [
        s
        for s in SEEDS
        if (e20[("random", s)]["architecture"], e20[("random", s)]["dynamics"])
        == (e30[("random", s)]["architecture"], e30[("random", s)]["dynamics"])
    ]
    assert same == [1, 2]
    for s in same:  # the same configuration's final run, on one host, to the last bit
        assert e20[("random", s)]["test_accuracy"] == e30[("random", s)]["test_accuracy"]
    moved = [
        f"{100 * (e30[('random', s)]['test_accuracy'] - e20[('random', s)]['test_accuracy']):+.1f}"
        for s in (0, 3, 4)
    ]
    _quoted(f"(test accuracy {moved[0]}, {moved[1]} and {moved[2]} points)")
    w20 = sum(r["wall_seconds"] for r in e20.values())
    w30 = sum(r["wall_seconds"] for r in e30.values())
    _quoted(
        f"about {w30 / w20:.1f}x the 20-epoch cells in wall time ({w30:,.0f} s against {w20:,.0f} s"
    )


def test_the_host_effect_on_ten_more_cells_is_as_quoted():
    amd, _ = _runs(AMD)
    intel_bo, _ = _runs(RESULTS / "search_rhythms_16_rbf_same")
    intel_random, _ = _runs(RESULTS / "search_rhythms_16")
    ref = {"dual": intel_bo, "joint": intel_bo, "random": intel_random}
    d, alike = {}, {}
    for st, runs in ref.items():
        keys = [(st, s) for s in SEEDS]
        assert {runs[k]["host"]["cpu"] for k in keys if "host" in runs[k]} <= {
            "Intel(R) Xeon(R) Processor"
        }
        x = [100 * (amd[k]["test_accuracy"] - runs[k]["test_accuracy"]) for k in keys]
        d[st] = pm(*ci95(x)[:2], 1)
        alike[st] = [
            k[1]
            for k in keys
            if (amd[k]["architecture"], amd[k]["dynamics"])
            == (runs[k]["architecture"], runs[k]["dynamics"])
        ]
    _quoted(
        f"test accuracy this host minus the other, dual {d['dual']}, joint {d['joint']}, "
        f"random {d['random']} "
        "points per cell."
    )
    assert [len(alike[st]) for st in ref] == [0, 1, 4]
    acc = [
        100 * (amd[("random", s)]["test_accuracy"] - intel_random[("random", s)]["test_accuracy"])
        for s in alike["random"]
    ]
    loss = [
        abs(amd[("random", s)]["best_val_loss"] - intel_random[("random", s)]["best_val_loss"])
        for s in alike["random"]
    ]
    assert all(a > 0 for a in acc)
    _quoted(f"scored {min(acc):.1f} to {max(acc):.1f} points higher here")
    _quoted(f"validation loss moved by up to {max(loss):.3f}")


def test_the_search_page_quotes_the_trial_length_on_one_host():
    e20, _ = _runs(AMD)
    e30, _ = _runs(FOLDER)
    page = " ".join((ROOT / "docs" / "search.md").read_text().split())
    d = [_gain(e30, e20, st) for st in ("dual", "joint", "random")]
    assert f"dual {d[0]}, joint {d[1]} and random {d[2]} points, also not resolved" in page


# --- search with 40-epoch trials on the same host (random: ninth session; dual, joint: tenth)

E40 = RESULTS / "search_rhythms_16_e40"


@pytest.fixture(scope="module")
def pairs():
    return _script("search_trial_length_pairs")


def test_the_40_epoch_folder_differs_in_the_trial_length_only():
    e40, d40 = _runs(E40)
    e30, d30 = _runs(FOLDER)
    assert d40["settings"]["trial_epochs"] == 40
    other = ("trial_epochs", "search")
    assert {k: v for k, v in d40["settings"].items() if k not in other} == {
        k: v for k, v in d30["settings"].items() if k not in other
    }
    assert {**d30["settings"]["search"], "trial_train": {"epochs": 40}} == d40["settings"]["search"]
    assert sorted(e40) == sorted(e30) == [(st, s) for st in STRATEGIES for s in SEEDS]
    hosts = {r["host"]["cpu_id"] for r in (*e40.values(), *e30.values())}
    assert hosts == {"cpu family 25, model 1, stepping 1"}
    assert {(r["commit"][:7], r["src_modified"]) for r in e40.values()} == {("c9257ca", False)}
    for kind in (("random",), ("dual", "joint")):  # run in two sessions
        seconds = [r["wall_seconds"] for (st, _), r in e40.items() if st in kind]
        _quoted(f"{min(seconds):.0f}-{max(seconds):.0f} s per cell, {sum(seconds):,.0f} s in all)")
    for st in STRATEGIES:
        assert (E40 / "cells" / f"{st}-s0" / "journal.jsonl").exists()


def test_the_strategies_with_40_epoch_trials_are_as_quoted():
    e40, _ = _runs(E40)
    _quoted(_versus_dual(e40))
    acc = {st: [100 * e40[(st, s)]["test_accuracy"] for s in SEEDS] for st in STRATEGIES}
    ci = {st: pm(*ci95(acc[st])[:2], 1) for st in STRATEGIES}
    page = " ".join((ROOT / "docs" / "search.md").read_text().split())
    d = {
        st: pm(*ci95([a - b for a, b in zip(acc[st], acc["dual"], strict=True)])[:2], 1)
        for st in ("joint", "random")
    }
    assert (
        f"dual {ci['dual']}%, joint {ci['joint']}%, random {ci['random']}% (joint - dual "
        f"{d['joint']} points, random - dual {d['random']})"
    ) in page


def test_trial_length_for_every_strategy_is_as_quoted():
    e = {20: _runs(AMD)[0], 30: _runs(FOLDER)[0], 40: _runs(E40)[0]}
    g = {n: {st: _gain(e[40], e[n], st) for st in STRATEGIES} for n in (20, 30)}
    _quoted(
        f"40-epoch minus 30-epoch trials: dual {g[30]['dual']}, joint {g[30]['joint']}, random "
        f"{g[30]['random']} points; 40 minus 20: dual {g[20]['dual']}, joint {g[20]['joint']}, "
        f"random {g[20]['random']}."
    )
    pooled = {}
    for a, b in ((40, 30), (40, 20), (30, 20)):
        mean, half, n = ci95(
            100 * (e[a][k]["test_accuracy"] - e[b][k]["test_accuracy"]) for k in e[a]
        )
        assert n == 15 and abs(mean) < half  # "None is resolved"
        pooled[a, b] = pm(mean, half, 1)
    _quoted(
        f"(15 paired cells): 40 minus 30 {pooled[40, 30]}, 40 minus 20 {pooled[40, 20]}, 30 minus "
        f"20 {pooled[30, 20]}."
    )
    page = " ".join((ROOT / "docs" / "search.md").read_text().split())
    assert (
        f"40- minus 30-epoch trials {pooled[40, 30]} points and 40 minus 20 {pooled[40, 20]}"
    ) in page


def test_what_the_40_epoch_searches_chose_is_as_quoted():
    e = {20: _runs(AMD)[0], 30: _runs(FOLDER)[0], 40: _runs(E40)[0]}

    def counts(runs, strategies=STRATEGIES):
        arch = [runs[(st, s)]["architecture"] for st in strategies for s in SEEDS]
        return (
            sum(a["n_layers"] == 3 for a in arch),
            sum(a["n_skip"] > 0 for a in arch),
            sum(a["n_dynamic"] > 1 for a in arch),
        )

    c = {n: counts(e[n]) for n in e}
    deep = [counts(e[40], (st,))[0] for st in STRATEGIES]
    _quoted(
        f"{c[40][0]} of 15 chose 3 layers (dual {deep[0]}, joint {deep[1]}, random {deep[2]}), "
        f"{c[40][1]} at least one skip and {c[40][2]} more than one dynamic ({c[30][0]}, "
        f"{c[30][1]} and {c[30][2]} with 30-epoch trials; {c[20][0]}, {c[20][1]} and {c[20][2]} "
        "with 20)."
    )
    phases = [e[40][("dual", s)]["best_phase"] for s in SEEDS]
    assert phases == ["W", "W", "V", "W", "W"]
    ks = sorted(e[40])
    rho = stats.spearmanr(
        [e[40][k]["best_val_loss"] for k in ks], [e[40][k]["test_accuracy"] for k in ks]
    )
    _quoted(f"(Spearman {rho.statistic:.2f}, p = {rho.pvalue:.2f})")


def test_the_40_epoch_trials_are_paired_and_quoted(pairs):
    folders = [RESULTS / "search_rhythms_16_amd", FOLDER, E40]
    trials = {pairs.trial_length(f): pairs.random_trials(f) for f in folders}
    assert sorted(trials) == [20, 30, 40] and all(len(t) == 80 for t in trials.values())
    gap = {n: pairs.depth_gap(t) for n, t in trials.items()}

    def welch(w):
        return f"{w['diff']:.3f} ({w['lo']:.3f} to {w['hi']:.3f})"

    e = {n: _runs(f)[0] for n, f in zip((20, 30, 40), folders, strict=True)}
    for n in (20, 30, 40):
        acc = [100 * e[n][("random", s)]["test_accuracy"] for s in SEEDS]
        paired = "reference" if n == 40 else _gain(e[40], e[n], "random")
        _quoted(f"| {pm(*ci95(acc)[:2], 1)} | {paired} | {welch(gap[n])} |")
    assert gap[40]["lo"] < 0 < gap[40]["hi"]
    _quoted(
        f"advantage in validation loss is {gap[20]['diff']:.3f} at 20 epochs, "
        f"{gap[30]['diff']:.3f} at 30 and {gap[40]['diff']:.3f} at 40."
    )
    c = {(a, b): pairs.compare(trials[a], trials[b]) for a, b in ((20, 30), (20, 40), (30, 40))}
    d = c[(30, 40)]["depth_gain"]
    _quoted(
        f"validation loss changes by {c[(30, 40)]['change_3']:.3f} on average and the 2-layer "
        f"ones' by {c[(30, 40)]['change_2']:.3f}, a difference of {d['diff']:.3f} (Welch 95% "
        f"interval {d['lo']:.3f} to {d['hi']:.3f})"
    )
    d, g = c[(20, 30)], c[(20, 30)]["depth_gain"]
    _quoted(
        f"from 20 to 30 epochs {d['change_3']:.3f} against {d['change_2']:.3f} (difference "
        f"{g['diff']:.3f}, {g['lo']:.3f} to {g['hi']:.3f}); from 20 to 40, "
        f"{welch(c[(20, 40)]['depth_gain'])}."
    )
    assert all(x["depth_gain"]["lo"] < 0 < x["depth_gain"]["hi"] for x in c.values())
    _quoted(
        f"{c[(30, 40)]['worse_3']} of the {gap[40]['n_3']} 3-layer trials end with a higher "
        f"validation loss after 40 epochs than after 30 ({c[(30, 40)]['worse_2']} of the "
        f"{gap[40]['n_2']} 2-layer ones)"
    )
    _quoted(
        f"grows from {gap[20]['sd_3']:.3f} at 20 epochs to {gap[30]['sd_3']:.3f} and "
        f"{gap[40]['sd_3']:.3f} (2 layers: {gap[20]['sd_2']:.3f}, {gap[30]['sd_2']:.3f}, "
        f"{gap[40]['sd_2']:.3f})"
    )
    assert gap[20]["sd_3"] < gap[30]["sd_3"] < gap[40]["sd_3"]
    _quoted(
        f"{c[(20, 30)]['spearman']:.2f} for 20 against 30 epochs, {c[(30, 40)]['spearman']:.2f} "
        f"for 30 against 40 and {c[(20, 40)]['spearman']:.2f} for 20 against 40."
    )
    same = {}
    for n in (20, 30):
        same[n] = [
            s
            for s in SEEDS
            if (e[40][("random", s)]["architecture"], e[40][("random", s)]["dynamics"])
            == (e[n][("random", s)]["architecture"], e[n][("random", s)]["dynamics"])
        ]
        for s in same[n]:  # the same configuration's final run, on one host, to the last bit
            assert e[40][("random", s)]["test_accuracy"] == e[n][("random", s)]["test_accuracy"]
        assert c[(n, 40)]["same_best"] == len(same[n])
    assert same == {30: [1, 4], 20: [0, 1]}
    _quoted(
        f"against 30-epoch trials and {_gain(e[40], e[20], 'random')} against 20-epoch ones: "
        "not resolved."
    )
    w = {n: sum(e[n][("random", s)]["wall_seconds"] for s in SEEDS) for n in (20, 30, 40)}
    _quoted(
        f"{w[40] / w[30]:.1f}x the wall time of the 30-epoch ones and {w[40] / w[20]:.1f}x that "
        f"of the 20-epoch ones ({w[40]:,.0f}, {w[30]:,.0f} and {w[20]:,.0f} s;"
    )


def test_the_pairing_refuses_folders_with_other_trials(pairs):
    a = pairs.random_trials(FOLDER)
    b = dict(a)
    k = next(iter(b))
    b[k] = {**b[k], "params": {**b[k]["params"], "n_layers": 99}}
    with pytest.raises(SystemExit, match="proposals differ"):
        pairs.compare(a, b)
    b.pop(k)
    with pytest.raises(SystemExit, match="same random trials"):
        pairs.compare(a, b)


def test_the_trial_length_plot_is_drawn(pairs, tmp_path):
    trials = {n: pairs.random_trials(f) for n, f in ((30, FOLDER), (40, E40))}
    pairs.plot(trials, tmp_path / "lengths.png")
    assert (tmp_path / "lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (E40 / "trial_lengths.png").exists()
    assert "(search_rhythms_16_e40/trial_lengths.png)" in (RESULTS / "README.md").read_text()


def test_the_search_page_quotes_the_40_epoch_row(pairs):
    e40, _ = _runs(E40)
    e30, _ = _runs(FOLDER)
    page = " ".join((ROOT / "docs" / "search.md").read_text().split())
    acc = [100 * e40[("random", s)]["test_accuracy"] for s in SEEDS]
    g = {n: pairs.depth_gap(pairs.random_trials(f))["diff"] for n, f in ((30, FOLDER), (40, E40))}
    assert (
        f"{pm(*ci95(acc)[:2], 1)}%, {_gain(e40, e30, 'random')} points from its 30-epoch picks, "
        f"and its trials' 3-layer advantage in validation loss no larger ({g[40]:.3f} against "
        f"{g[30]:.3f} at 30 epochs)"
    ) in page
