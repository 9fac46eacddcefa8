"""The per-seed paired-difference figure of a comparison: its numbers, its file, its command."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from skipsnn.cli import main
from skipsnn.errors import ConfigError
from skipsnn.experiments.paired_plot import (
    FIGURE,
    paired_differences,
    plot_from_results,
    plot_paired_differences,
)

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
PNG = b"\x89PNG\r\n\x1a\n"


def _cell(variant, seed, acc, fraction=1.0):
    return {"variant": variant, "seed": seed, "fraction": fraction, "test_accuracy": acc}


def _results():
    """Two fractions; variant b lacks seed 2 at 1.0 and failed on seed 0 at 0.5."""
    out = []
    for f in (1.0, 0.5):
        for s in range(3):
            out.append(_cell("a", s, 0.5 + 0.1 * s, f))
            if not (f == 1.0 and s == 2):
                acc = None if (f == 0.5 and s == 0) else 0.4 + 0.15 * s
                out.append(_cell("b", s, acc, f))
    return out


def test_differences_are_paired_on_the_seeds_both_ran():
    cols = paired_differences(_results(), ["a", "b"])
    assert [c["label"] for c in cols] == ["b (100%)", "b (50%)"]
    assert cols[0]["seeds"] == [0, 1] and cols[1]["seeds"] == [1, 2]
    np.testing.assert_allclose(cols[0]["diffs"], [-10.0, -5.0])
    np.testing.assert_allclose(cols[1]["diffs"], [-5.0, 0.0])
    d = np.array([-10.0, -5.0])
    half = stats.t.ppf(0.975, 1) * d.std(ddof=1) / np.sqrt(2)
    assert cols[0]["mean"] == pytest.approx(-7.5) and cols[0]["ci95"] == pytest.approx(half)


def test_the_figure_is_written_as_a_png(tmp_path):
    cols = plot_paired_differences(_results(), ["a", "b"], "toy (pairs)", tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG
    assert len(cols) == 2


@pytest.mark.parametrize("folder", ["skip_tau2_8_s175", "pathways_rhythms_400_s41"])
def test_a_committed_comparison_redraws_with_its_tables_figures(tmp_path, folder):
    """The figure's means and intervals are the table's paired differences."""
    shutil.copy(RESULTS / folder / "results.json", tmp_path / "results.json")
    r = plot_from_results(tmp_path)
    assert (tmp_path / FIGURE).read_bytes()[:8] == PNG
    rows = json.loads((RESULTS / folder / "results.json").read_text())["rows"]
    others = [row for row in rows if not row["reference"]]
    assert [c["label"] for c in r["columns"]] == [row["variant"] for row in others]
    for c, row in zip(r["columns"], others, strict=True):
        assert c["mean"] == pytest.approx(row["diff_mean"])
        assert c["ci95"] == pytest.approx(row["diff_ci95"])
        assert len(c["seeds"]) == row["diff_n"]


def test_the_command_draws_a_folder_and_prints_each_column(tmp_path, capsys):
    shutil.copy(RESULTS / "skip_tau2_8_s175" / "results.json", tmp_path / "results.json")
    assert main(["reproduce", "plot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / FIGURE}" in out
    assert "heterogeneous, no skip: -2.9 ± 3.3 points over 54 seeds" in out
    assert (
        main(
            [
                "reproduce",
                "plot",
                str(tmp_path / "results.json"),
                "--out",
                str(tmp_path / "x.png"),
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["figure"] == str(tmp_path / "x.png")


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "is not readable JSON"),
        ("[1, 2]", "does not hold a JSON object"),
        ('{"runs": [], "rows": []}', "holds no comparison"),
        (
            '{"runs": [{"variant": "a", "seed": "0", "fraction": 1, "test_accuracy": 0.5}],'
            ' "rows": [{"variant": "a"}, {"variant": "b"}]}',
            "run 0 is not a comparison cell",
        ),
        (
            '{"runs": [{"variant": "a", "seed": 0, "fraction": 1, "test_accuracy": NaN}],'
            ' "rows": [{"variant": "a"}, {"variant": "b"}]}',
            "run 0 is not a comparison cell",
        ),
        (
            '{"runs": [{"variant": "a", "seed": 0, "fraction": 1, "test_accuracy": 0.5}],'
            ' "rows": [{"variant": "a"}]}',
            "fewer than two variants",
        ),
        (
            '{"runs": [{"variant": "a", "seed": 0, "fraction": 1}],'
            ' "rows": [{"variant": "a"}, {"variant": "b"}]}',
            "run 0 is not a comparison cell",
        ),
        (
            '{"runs": [{"variant": "a", "seed": 0, "fraction": 1, "test_accuracy": 0.5}],'
            ' "rows": [{"variant": ["a"]}, {"variant": "b"}]}',
            "every row must name its variant",
        ),
    ],
)
def test_a_damaged_results_file_is_one_sentence(tmp_path, capsys, text, message):
    (tmp_path / "results.json").write_text(text)
    with pytest.raises(ConfigError, match=message):
        plot_from_results(tmp_path)
    assert main(["reproduce", "plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err
    assert not (tmp_path / FIGURE).exists()


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        plot_from_results(tmp_path / "nowhere")


def test_every_link_in_the_results_readme_resolves_and_every_figure_is_linked():
    """A renamed folder or a figure drawn but never shown fails here, not in a reader's browser."""
    text = (RESULTS / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)\)", text)
    local = [link for link in links if "://" not in link]
    assert local, "the results README links its folders"
    missing = [link for link in local if not (RESULTS / link).exists()]
    assert missing == []
    figures = {p.relative_to(RESULTS).as_posix() for p in RESULTS.glob(f"*/{FIGURE}")}
    assert figures and figures <= set(local)
    for f in figures:
        assert (RESULTS / f).read_bytes()[:8] == PNG
        assert (RESULTS / f).with_name("results.json").exists()
