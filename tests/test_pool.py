"""Pooling comparisons run on disjoint seeds: the union's table, the declared wider level,
and every reason two folders are not one comparison."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from skipsnn.cli import main
from skipsnn.errors import ConfigError
from skipsnn.experiments.compare import compare_markdown, summarize
from skipsnn.experiments.paired_plot import FIGURE, plot_from_results
from skipsnn.experiments.pool import pool

PNG = b"\x89PNG\r\n\x1a\n"
CONFIG = {"dataset": {"name": "toy"}, "train": {"epochs": 3, "num_threads": 1, "device": "cpu"}}


def _batch(folder, seeds, shift=0.0, names=("a", "b"), variant_set="pair", config=CONFIG, **extra):
    """A comparison folder as `compare` writes it: b is a seed-dependent amount below a."""
    runs = []
    for s in seeds:
        for i, n in enumerate(names):
            acc = 0.6 + 0.01 * (s % 7) - i * (0.03 + 0.02 * math.sin(s) + shift)
            runs.append(
                {
                    "variant": n,
                    "fraction": 1.0,
                    "seed": s,
                    "test_accuracy": acc,
                    "params": 100 + i,
                    "epochs": 3,
                    "method": "bptt",
                    **extra,
                }
            )
    rows = summarize(runs, list(names), [1.0])
    folder.mkdir(parents=True)
    doc = {"variant_set": variant_set, "runs": runs, "rows": rows}
    if config is not None:
        doc["config"] = config
    (folder / "results.json").write_text(json.dumps(doc))
    table = compare_markdown("toy", str(variant_set), rows) if "params" not in extra else "| toy ("
    (folder / "compare.md").write_text(table)
    return runs


def test_the_pooled_table_is_the_table_of_the_union_with_the_declared_level(tmp_path):
    first = _batch(tmp_path / "one", range(0, 6))
    second = _batch(tmp_path / "two", range(10, 16), shift=0.02)
    r = pool([tmp_path / "one", tmp_path / "two"], tmp_path / "out", level=0.975)
    union = summarize(first + second, ["a", "b"], [1.0])
    for row, expected in zip(r["rows"], union, strict=True):
        assert row["mean"] == pytest.approx(expected["mean"])
        assert row["ci95"] == pytest.approx(expected["ci95"])
        assert row["n"] == 12
    acc = {
        n: np.array([100 * x["test_accuracy"] for x in first + second if x["variant"] == n])
        for n in "ab"
    }
    d = acc["b"] - acc["a"]
    wide = stats.t.ppf(0.9875, 11) * d.std(ddof=1) / np.sqrt(12)
    assert r["rows"][1]["diff_mean"] == pytest.approx(d.mean())
    assert r["rows"][1]["diff_ci"] == pytest.approx(wide)
    assert wide > r["rows"][1]["diff_ci95"]
    md = (tmp_path / "out" / "compare.md").read_text()
    assert md.startswith("| toy (pair) |") and "97.5% CI" in md
    assert f"{d.mean():.1f} ± {wide:.1f}" in md
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["level"] == 0.975 and saved["config_checked"] is True
    assert [p["seeds"] for p in saved["pooled_from"]] == [list(range(6)), list(range(10, 16))]
    assert compare_markdown("toy", saved["variant_set"], saved["rows"], saved["level"]) == md
    assert (tmp_path / "out" / FIGURE).read_bytes()[:8] == PNG


def test_a_pooled_folder_is_a_comparison_again(tmp_path):
    """It redraws at its own level, and pools with a third batch but not with a source."""
    _batch(tmp_path / "one", range(0, 4))
    _batch(tmp_path / "two", range(4, 8))
    _batch(tmp_path / "three", range(8, 12))
    pool([tmp_path / "one", tmp_path / "two"], tmp_path / "p", level=0.975)
    cols = plot_from_results(tmp_path / "p", tmp_path / "f.png")["columns"]
    assert cols[0]["level"] == 0.975 and cols[0]["ci"] > cols[0]["ci95"]
    r = pool([tmp_path / "p", tmp_path / "three"], tmp_path / "q")
    assert r["rows"][0]["n"] == 12 and "diff_ci" in r["rows"][1]
    assert r["table"].splitlines()[0].count("|") == 7  # at 95%: no extra column
    with pytest.raises(ConfigError, match="seed 0 of 'a' is in both"):
        pool([tmp_path / "p", tmp_path / "one"], tmp_path / "r")


def test_place_may_differ_between_batches_but_not_the_config(tmp_path):
    _batch(tmp_path / "one", range(3))
    elsewhere = {**CONFIG, "train": {**CONFIG["train"], "num_threads": 8, "device": "cuda"}}
    _batch(tmp_path / "two", range(3, 6), config=elsewhere)
    assert pool([tmp_path / "one", tmp_path / "two"], tmp_path / "ok")["config_checked"]
    longer = {**CONFIG, "train": {**CONFIG["train"], "epochs": 4}}
    _batch(tmp_path / "three", range(6, 9), config=longer)
    with pytest.raises(ConfigError, match=r"train\.epochs differs"):
        pool([tmp_path / "one", tmp_path / "three"], tmp_path / "no")


def test_the_machines_of_each_batch_are_recorded(tmp_path):
    amd = {"cpu": "AMD EPYC", "threads": 1}
    _batch(tmp_path / "one", range(3), host=amd)
    _batch(tmp_path / "two", range(3, 6), host=None)  # written before runs recorded it
    r = pool([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert [p["hosts"] for p in r["pooled_from"]] == [[amd], []]


def test_batches_written_before_configs_were_recorded_pool_unchecked(tmp_path):
    _batch(tmp_path / "one", range(3), config=None)
    _batch(tmp_path / "two", range(3, 6))
    r = pool([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert r["config_checked"] is False and "config" not in r


@pytest.mark.parametrize(
    "second, message",
    [
        (dict(seeds=range(2, 5)), "seed 2 of 'a' is in both"),
        (dict(seeds=range(5, 8), variant_set="other"), "different variant sets"),
        (dict(seeds=range(5, 8), names=("a", "c")), "not one comparison"),
        (dict(seeds=range(5, 8), params=7), "different configs and are not pooled"),
        (dict(seeds=range(5, 8), params="big"), "not a int"),
        (dict(seeds=range(5, 8), variant_set=["x"]), "'variant_set' must name"),
    ],
)
def test_folders_that_are_not_one_comparison_are_refused(tmp_path, second, message):
    _batch(tmp_path / "one", range(0, 3))
    seeds = second.pop("seeds")
    _batch(tmp_path / "two", seeds, **second)
    with pytest.raises(ConfigError, match=message):
        pool([tmp_path / "one", tmp_path / "two"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_one_folder_or_a_bad_level_is_refused(tmp_path):
    _batch(tmp_path / "one", range(3))
    with pytest.raises(ConfigError, match="at least two"):
        pool([tmp_path / "one"], tmp_path / "out")
    with pytest.raises(ConfigError, match="confidence level"):
        pool([tmp_path / "one", tmp_path / "one"], tmp_path / "out", level=1.0)
    _batch(tmp_path / "two", range(3, 6))
    before = (tmp_path / "two" / "results.json").read_bytes()
    with pytest.raises(ConfigError, match="would overwrite them"):
        pool([tmp_path / "one", tmp_path / "two" / "results.json"], tmp_path / "two")
    assert (tmp_path / "two" / "results.json").read_bytes() == before


def test_the_command_prints_the_table_and_refuses_in_one_sentence(tmp_path, capsys):
    _batch(tmp_path / "one", range(0, 4))
    _batch(tmp_path / "two", range(4, 8))
    args = ["reproduce", "pool", str(tmp_path / "one"), str(tmp_path / "two")]
    assert main([*args, "--out", str(tmp_path / "p"), "--level", "0.975"]) == 0
    assert "| toy (pair) |" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "q"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["level"] == 0.95 and out["compare"] == str(tmp_path / "q" / "compare.md")
    assert main([*args[:3], str(tmp_path / "one"), "--out", str(tmp_path / "r")]) != 0
    err = capsys.readouterr().err
    assert "is in both" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main([*args, "--out", str(tmp_path / "s"), "--level", "2"])


def test_a_search_comparison_is_named_as_such(tmp_path):
    """`reproduce search` folders compare strategies, not variants: said in one sentence."""
    _batch(tmp_path / "one", range(3))
    search = tmp_path / "search"
    search.mkdir()
    doc = {"experiment": "search", "settings": {}, "runs": [{"strategy": "dual"}], "rows": []}
    (search / "results.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="is a search comparison"):
        pool([tmp_path / "one", search], tmp_path / "out")
    with pytest.raises(ConfigError, match="is a search comparison"):
        plot_from_results(search)
