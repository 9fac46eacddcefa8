"""``skipsnn reproduce search``: dual, joint and random search at equal budgets, paired
over seeds, on toy data; the JSON and the table agree; finished cells are not rerun."""

from __future__ import annotations

import json
import math

import pytest
import yaml

import skipsnn.search.strategies as strategies
import skipsnn.train.run as run
import skipsnn.train.setup as setup
from skipsnn.cli import main
from skipsnn.experiments.compare import pm
from skipsnn.experiments.search_compare import search_markdown
from skipsnn.experiments.tables import ci95
from test_bptt import tiny_cfg, toy_split
from test_search_cli import SEARCH

V = ("n_layers", "n_dynamic", "n_skip", "l_start", "l_end")


@pytest.fixture()
def toy_data(monkeypatch):
    data = (toy_split(8, 0), toy_split(4, 1))
    for module in (setup, run):
        monkeypatch.setattr(module, "load_data", lambda cfg, data_=None, progress=True: data)
    return data


def _argv(tmp_path):
    d = tiny_cfg(epochs=1).to_dict()
    d["search"] = SEARCH
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(d))
    out = tmp_path / "cmp"
    return out, [
        "reproduce", "search", "--config", str(cfg), "--out", str(out), "--seeds", "2",
        "--budget-v", "2", "--budget-w", "2", "--trial-epochs", "1", "--final-epochs", "1",
        "--threads", "1", "--no-progress", "--json",
    ]  # fmt: skip


def test_equal_budgets_paired_seeds_and_the_table_from_the_json(tmp_path, toy_data, capsys):
    out, argv = _argv(tmp_path)
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    data = json.loads((out / "results.json").read_text())
    assert printed["rows"] == data["rows"]
    assert data["experiment"] == "search-compare"
    st = data["settings"]
    assert (st["budget_v"], st["budget_w"], st["trial_epochs"], st["final_epochs"]) == (2, 2, 1, 1)
    assert st["num_threads"] == 1 and st["search"]["trial_train"]["epochs"] == 1
    assert st["search"]["n_layers"] == SEARCH["n_layers"]  # the config's search: section
    runs = data["runs"]
    # every (strategy, seed) cell once, seeds paired across strategies
    assert sorted((r["strategy"], r["seed"]) for r in runs) == sorted(
        (s, k) for s in ("dual", "joint", "random") for k in (0, 1)
    )
    for r in runs:
        assert r["trials"] == 4 and r["finished"] + r["failed"] == 4  # equal budgets
        assert set(r["architecture"]) == set(V)
        assert len(r["dynamics"]) == r["architecture"]["n_dynamic"]
        assert 0 <= r["test_accuracy"] <= 1 and r["params"] > 0
        assert r["final_epochs"] == 1 and r["wall_seconds"] > 0
        assert "commit" in r and "src_modified" in r
        assert r["host"]["cpu"] and r["host"]["threads"] == 1  # --threads 1
        cell = out / "cells" / f"{r['strategy']}-s{r['seed']}"
        journal = [json.loads(x) for x in (cell / "journal.jsonl").read_text().splitlines()]
        done = [x for x in journal if x["event"] in ("finished", "failed")]
        assert len(done) == 4
        phases = {"dual": ["V", "V", "W", "W"], "joint": ["joint"] * 4, "random": ["random"] * 4}
        assert [x["phase"] for x in done] == phases[r["strategy"]]
        assert r["best_val_loss"] == min(x["value"] for x in done if x["event"] == "finished")
        assert (
            json.loads((cell / "final" / "metrics.json").read_text())["test_accuracy"]
            == (r["test_accuracy"])
        )
    # rows: dual first (the reference), paired differences over the shared seeds
    acc = data["rows"]["test_accuracy"]
    assert [row["variant"] for row in acc] == ["dual", "joint", "random"]
    assert acc[0]["reference"] and not acc[1]["reference"]
    by = {(r["strategy"], r["seed"]): r for r in runs}
    for key, scale, rows in (
        ("test_accuracy", 100, acc),
        ("best_val_loss", 1, data["rows"]["best_val_loss"]),
    ):
        for row in rows:
            vals = [scale * by[(row["variant"], s)][key] for s in (0, 1)]
            assert row["per_seed"] == pytest.approx(vals) and row["n"] == 2
            diffs = [scale * (by[(row["variant"], s)][key] - by[("dual", s)][key]) for s in (0, 1)]
            if not row["reference"]:
                assert row["diff_mean"] == pytest.approx(ci95(diffs)[0])
                assert row["diff_ci95"] == pytest.approx(ci95(diffs)[1], nan_ok=True)
    md = (out / "compare.md").read_text()
    assert md == search_markdown(data)
    summary, cells = md.split("\n\n")
    lines = summary.splitlines()
    assert lines[0].startswith("| gestures (search, 2+2 trials of 1 epochs, final 1 epochs) |")
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| dual", "| joint", "| random"]
    assert all(line.endswith("| 2 | 4 |") for line in lines[2:])
    rows = cells.splitlines()[2:]  # one per cell, in the order of the strategies, then seeds
    assert [tuple(x.split(" | ")[:2]) for x in rows] == [
        (f"| {s}", str(k)) for s in ("dual", "joint", "random") for k in (0, 1)
    ]
    r = by[("random", 1)]
    arch = ", ".join(str(r["architecture"][k]) for k in V)
    assert f"| random | 1 | {arch} |" in rows[-1]
    assert f"| {r['best_val_loss']:.3f} | {100 * r['test_accuracy']:.1f} |" in rows[-1]


def test_finished_cells_are_read_back_not_rerun(tmp_path, toy_data, capsys, monkeypatch):
    out, argv = _argv(tmp_path)
    assert main(argv) == 0
    first = json.loads((out / "results.json").read_text())

    def boom(*a, **k):
        raise AssertionError("a finished cell was searched again")

    monkeypatch.setattr(strategies, "run_strategy", boom)
    assert main(argv) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["runs"] == first["runs"] and again["rows"] == first["rows"]
    # a lost cell result is redone (its search resumes from the journal, no new trial)
    (out / "cells" / "joint-s1" / "result.json").unlink()
    monkeypatch.undo()
    for module in (setup, run):
        monkeypatch.setattr(module, "load_data", lambda cfg, data_=None, progress=True: toy_data)
    journal = out / "cells" / "joint-s1" / "journal.jsonl"
    n = len(journal.read_text().splitlines())
    assert main(argv) == 0
    assert len(journal.read_text().splitlines()) == n
    redone = json.loads((out / "results.json").read_text())
    cell = [r for r in redone["runs"] if (r["strategy"], r["seed"]) == ("joint", 1)]
    old = [r for r in first["runs"] if (r["strategy"], r["seed"]) == ("joint", 1)]
    assert cell[0]["best_val_loss"] == old[0]["best_val_loss"]
    assert cell[0]["architecture"] == old[0]["architecture"]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"strategy": "dual"', "is not readable JSON"),
        ('{"strategy": "dual", "seed": 0}', "has no 'trials'"),
        (
            '{"strategy": "dual", "seed": 0, "trials": 4, "failed": 0, "best_val_loss": "low"}',
            "holds best_val_loss = 'low', not a number",
        ),
    ],
)
def test_a_damaged_cell_result_is_one_sentence(tmp_path, toy_data, capsys, content, message):
    out, argv = _argv(tmp_path)
    cell = out / "cells" / "dual-s0"
    cell.mkdir(parents=True)
    (cell / "result.json").write_text(content)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "result.json" in err and message in err, err


def test_pm_reads_back_missing_values():
    # NaN is written to JSON as null: a table regenerated from a partial run must not fail
    assert pm(None, None) == "—" and pm(math.nan, 1.0) == "—"
    assert pm(52.91, None) == "52.9" and pm(1.2345, math.nan, 3) == "1.234"
    assert pm(1.2345, 0.0123, 3) == "1.234 ± 0.012"


def test_seeds_split_across_calls_make_one_table(tmp_path, toy_data, capsys, monkeypatch):
    # seed 1 alone (another process's share), then seeds 0-1: only seed 0 is searched
    out, argv = _argv(tmp_path)
    i = argv.index("--seeds")
    assert main(argv[:i] + ["--seeds", "1", "--first-seed", "1"] + argv[i + 2 :]) == 0
    part = json.loads((out / "results.json").read_text())
    assert part["settings"]["first_seed"] == 1
    assert sorted({r["seed"] for r in part["runs"]}) == [1]
    searched = []
    real = strategies.run_strategy
    monkeypatch.setattr(
        strategies, "run_strategy", lambda *a, **k: searched.append(1) or real(*a, **k)
    )
    assert main(argv) == 0
    whole = json.loads((out / "results.json").read_text())
    assert len(searched) == 3  # the three strategies of seed 0; seed 1's cells were reused
    assert sorted((r["strategy"], r["seed"]) for r in whole["runs"]) == sorted(
        (s, k) for s in ("dual", "joint", "random") for k in (0, 1)
    )
    assert [r for r in whole["runs"] if r["seed"] == 1] == part["runs"]


def test_strategies_can_be_chosen_and_the_first_is_the_reference(tmp_path, toy_data):
    out, argv = _argv(tmp_path)
    argv = [*argv, "--seeds", "1", "--strategies", "random", "dual", "random"]
    assert main(argv) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["settings"]["strategies"] == ["random", "dual"]  # each once, as given
    assert sorted((r["strategy"], r["seed"]) for r in data["runs"]) == [("dual", 0), ("random", 0)]
    rows = data["rows"]["best_val_loss"]
    assert [(r["variant"], r["reference"]) for r in rows] == [("random", True), ("dual", False)]
    assert "| paired difference to random (points) |" in (out / "compare.md").read_text()
    with pytest.raises(SystemExit):
        main([*argv, "--strategies", "bayes"])
