import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from skipsnn.cli import main
from skipsnn.errors import SkipSNNError
from skipsnn.experiments.report import build_report


def _run_dir(tmp_path, name, acc):
    d = tmp_path / name
    d.mkdir()
    (d / "metrics.json").write_text(json.dumps({"test_accuracy": acc, "params": 1234}))
    fig = plt.figure()
    plt.plot([0, 1])
    fig.savefig(d / "confusion.png")
    plt.close(fig)
    return d


def test_report_collects_metrics_and_plots(tmp_path):
    a, b = _run_dir(tmp_path, "run_a", 0.5), _run_dir(tmp_path, "run_b", 0.75)
    out = tmp_path / "out" / "report.md"
    text = build_report([a, b], out)
    assert out.read_text() == text
    assert "| run_a | 0.5 |" in text and "| run_b | 0.75 |" in text
    assert "](../run_a/confusion.png)" in text


def test_report_rejects_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SkipSNNError, match="holds no skipsnn results"):
        build_report([tmp_path / "empty"], tmp_path / "r.md")


def test_cli_report_missing_dir_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "r.md").exists()


def test_search_folder_shows_best_value_and_plot_folder_is_not_a_run(tmp_path):
    search = tmp_path / "search"
    search.mkdir()
    best = {
        "strategy": "dual",
        "objective": "validation loss",
        "best": {"architecture": {"n_layers": 2}, "val_loss": 0.25},
        "final": {"test_accuracy": 0.9},
    }
    (search / "best.json").write_text(json.dumps(best))
    plots = tmp_path / "theory"
    plots.mkdir()
    fig = plt.figure()
    fig.savefig(plots / "tour.png")
    plt.close(fig)
    text = build_report([search, plots], tmp_path / "r.md")
    assert "best: 0.25 with n_layers=2" in text and "test accuracy: 0.9" in text
    assert "## theory (plots)" in text and "| theory |" not in text
