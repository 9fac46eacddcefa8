import json
import os

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


def _report_of(tmp_path, capsys, files: dict[str, bytes]):
    run = tmp_path / "run"
    run.mkdir()
    for name, content in files.items():
        (run / name).write_bytes(content)
    status = main(["report", str(run), "--out", str(tmp_path / "r.md")])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "best",
    [
        b'{"best": "x", "final": 5}',
        b'{"best": {"architecture": "x", "val_loss": "y"}, "strategy": ["a"]}',
    ],
)
def test_a_hand_edited_best_json_is_shown_not_a_crash(tmp_path, capsys, best):
    # Once AttributeError ('str' object has no attribute 'get' / 'items') tracebacks.
    status, err = _report_of(tmp_path, capsys, {"best.json": best})
    assert status == 0 and err == ""
    assert "search, objective:" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize(
    "files, message",
    [
        ({"table3.md": b"| a |\xca\xfe"}, "table3.md is not UTF-8 text (byte 5 is not valid)"),
        (
            {"metrics.json": b'{"test_accuracy": 0.5, "params": ' + b"9" * 5000 + b"}"},
            "metrics.json is not readable JSON (an integer of too many digits)",
        ),
    ],
)
def test_an_unreadable_table_or_metrics_file_is_one_sentence(tmp_path, capsys, files, message):
    # Once UnicodeDecodeError and ValueError (int() past 4300 digits) tracebacks.
    status, err = _report_of(tmp_path, capsys, files)
    assert status == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.md").exists()


def _fifo(path):
    os.mkfifo(path)


def _link_to_dev_zero(path):
    path.symlink_to("/dev/zero")


def _sparse_file(path):
    with open(path, "wb") as f:
        f.truncate(65 * 2**20)  # sparse: no time or disk to write


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("metrics.json", _fifo, "metrics.json is not a regular file"),  # reading waited forever
        ("t.md", _fifo, "t.md is not a regular file"),
        ("t.md", _link_to_dev_zero, "t.md is not a regular file"),  # read until MemoryError
        ("metrics.json", _link_to_dev_zero, "metrics.json is not a regular file"),
        ("t.md", os.mkdir, "t.md is not a regular file"),
        ("a.png", os.mkdir, "a.png is not a regular file"),  # was linked as a plot
        ("a.png", _fifo, "a.png is not a regular file"),
        ("metrics.json", _sparse_file, "bytes, more than a run writes"),
    ],
)
def test_a_pipe_device_or_huge_file_in_a_run_folder_is_one_sentence(
    tmp_path, capsys, name, make, message
):
    run = tmp_path / "run"
    run.mkdir()
    if name != "metrics.json":  # a run to report, beside the odd table
        (run / "metrics.json").write_text('{"test_accuracy": 0.5}')
    make(run / name)
    status = main(["report", str(run), "--out", str(tmp_path / "r.md")])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.md").exists()


def test_a_link_to_a_regular_metrics_file_is_read(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (tmp_path / "m.json").write_text('{"test_accuracy": 0.5}')
    (run / "metrics.json").symlink_to(tmp_path / "m.json")
    assert "| run | 0.5 |" in build_report([run], tmp_path / "r.md")
