"""``skipsnn search``: a tiny end-to-end search on toy data, resume, bad input."""

from __future__ import annotations

import json

import pytest
import yaml

import skipsnn.train.run as run
import skipsnn.train.setup as setup
from skipsnn.cli import main
from test_bptt import tiny_cfg, toy_split

SEARCH = {
    "n_layers": [1, 2],
    "n_dynamic": [1, 2],
    "n_skip": [0, 1],
    "l_start": [0, 0],
    "l_end": [2, 2],
    "tau_m": [1.5, 16.0],
    "raw_samples": 32,
    "num_restarts": 2,
    "n_initial": 2,
}


@pytest.fixture()
def toy_data(monkeypatch):
    data = (toy_split(8, 0), toy_split(4, 1))
    for module in (setup, run):  # where the search command, the objective and a run load it
        monkeypatch.setattr(module, "load_data", lambda cfg, data_=None, progress=True: data)
    return data


def write_cfg(path):
    d = tiny_cfg(epochs=1).to_dict()
    d["search"] = SEARCH
    path.write_text(yaml.safe_dump(d))
    return path


def test_tiny_dual_search_writes_everything_and_resumes(tmp_path, toy_data, capsys):
    cfg = write_cfg(tmp_path / "cfg.yaml")
    out = tmp_path / "search"
    argv = [
        "search",
        "--config",
        str(cfg),
        "--out",
        str(out),
        "--budget-v",
        "3",
        "--budget-w",
        "2",
        "--trial-epochs",
        "1",
        "--final-epochs",
        "1",
        "--no-progress",
        "--json",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    for name in (
        "journal.jsonl",
        "best.json",
        "convergence.png",
        "search_config.yaml",
        "final/metrics.json",
    ):
        assert (out / name).exists(), name
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    done = [r for r in records if r["event"] in ("finished", "failed")]
    assert [r["phase"] for r in done] == ["V"] * 3 + ["W"] * 2
    best = json.loads((out / "best.json").read_text())
    assert best == summary
    arch = best["best"]["architecture"]
    assert len(best["best"]["dynamics"]) == arch["n_dynamic"]
    finished = [r["value"] for r in done if r["event"] == "finished"]
    assert best["best"]["val_loss"] == min(finished)
    assert 0.0 <= best["final"]["test_accuracy"] <= 1.0
    # resuming a finished search runs no new trial and reports the same best
    assert main([*argv, "--resume", "--no-final"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["best"] == best["best"]
    assert len((out / "journal.jsonl").read_text().splitlines()) == len(records)
    # ... and refuses to continue it with another strategy
    assert main([*argv, "--resume", "--strategy", "joint"]) == 2
    assert "same --strategy" in capsys.readouterr().err


def test_bad_input_exits_2_and_writes_nothing(tmp_path, toy_data, capsys):
    cfg = write_cfg(tmp_path / "cfg.yaml")
    out = tmp_path / "s"
    assert main(["search", "--config", str(cfg), "--out", str(out), "--budget-v", "0"]) == 2
    assert "budget" in capsys.readouterr().err and not out.exists()
    bad = yaml.safe_load(cfg.read_text())
    bad["search"]["n_layer"] = [1, 2]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    assert main(["search", "--config", str(tmp_path / "bad.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown key" in err and len(err.strip().splitlines()) == 1 and not out.exists()
    out.mkdir()
    (out / "journal.jsonl").write_text('{"event": "proposed"}\n')
    assert main(["search", "--config", str(cfg), "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["n_layers", "n_dynamic", "n_skip"])
def test_search_ranges_too_wide_to_enumerate_are_refused_at_once(tmp_path, toy_data, capsys, key):
    # n_layers [1, 1000000000] once hung the search enumerating the architectures.
    d = yaml.safe_load(write_cfg(tmp_path / "cfg.yaml").read_text())
    d["search"][key] = [1, 10**9]
    (tmp_path / "wide.yaml").write_text(yaml.safe_dump(d))
    out = tmp_path / "s"
    assert main(["search", "--config", str(tmp_path / "wide.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "architectures; at most 20,000 are searched, so narrow them" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize(
    "key, value, most",
    [
        ("raw_samples", 10**12, "100,000"),
        ("raw_samples", 100_001, "100,000"),
        ("num_restarts", 10**9, "1,000"),
        ("num_restarts", True, "1,000"),
    ],
)
def test_acquisition_effort_beyond_its_bound_is_refused(
    tmp_path, toy_data, capsys, key, value, most
):
    d = yaml.safe_load(write_cfg(tmp_path / "cfg.yaml").read_text())
    d["search"][key] = value
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(d))
    out = tmp_path / "s"
    assert main(["search", "--config", str(tmp_path / "big.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"search.{key} must be an integer from 1 to {most}, got {value!r}" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
