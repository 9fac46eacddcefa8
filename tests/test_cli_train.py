"""``skipsnn train`` / ``skipsnn evaluate``: wiring, exit status 2 on bad input, STDP dispatch."""

import json
import subprocess
import sys

import pytest
import yaml

import skipsnn.train.run as run
from skipsnn.cli import main
from skipsnn.config import Config
from test_bptt import tiny_cfg, toy_split


@pytest.fixture()
def toy_data(monkeypatch):
    data = (toy_split(8, 0), toy_split(4, 1))
    monkeypatch.setattr(run, "load_data", lambda cfg, data_=None, progress=True: data)
    return data


def write_cfg(path, **train):
    d = tiny_cfg(**train).to_dict()
    path.write_text(yaml.safe_dump(d))
    return path


def run_cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "skipsnn.cli", *map(str, argv)], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "mutate,match",
    [
        (
            lambda d: d["network"].update(skip={"n_skip": 2, "l_start": 1, "l_end": 2}),
            "infeasible skips",
        ),
        (lambda d: d["train"].update(learning_rate=0.1), "unknown key"),
        (lambda d: d["network"].update(n_dynamic=5), "n_dynamic"),
    ],
)
def test_bad_config_exits_2_with_one_sentence_and_writes_nothing(tmp_path, mutate, match, capsys):
    d = tiny_cfg().to_dict()
    mutate(d)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(d))
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_config_exits_2_from_the_shell(tmp_path):
    d = tiny_cfg().to_dict()
    d["network"]["skip"] = {"n_skip": 1, "l_start": 1, "l_end": 2}
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(d))
    r = run_cli("train", "--config", cfg, "--out", tmp_path / "r", "--no-progress")
    assert r.returncode == 2
    assert "infeasible skips" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r").exists()


def test_bad_options_exit_2(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--label-fraction", "1.5"]) == 2
    assert "label_fraction" in capsys.readouterr().err
    assert (
        main(["train", "--config", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "r")])
        == 2
    )
    assert "cannot read config file" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing-here")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_then_evaluate_then_resume(tmp_path, toy_data, capsys):
    cfg = write_cfg(tmp_path / "c.yaml", epochs=2)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--config",
                str(cfg),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--seed",
                "3",
                "--json",
                "--no-progress",
            ]
        )
        == 0
    )
    m = json.loads(capsys.readouterr().out)
    assert m["epochs"] == 1 and m["seed"] == 3 and m["test_accuracy"] is not None
    saved = Config.load(out / "config.yaml")
    assert saved.train.epochs == 1 and saved.train.seed == 3
    assert main(["evaluate", str(out), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["test_accuracy"] == m["test_accuracy"] == e["stored_test_accuracy"]
    # Training into the same folder again is refused; --resume with more epochs extends it.
    assert (
        main(
            [
                "train",
                "--config",
                str(cfg),
                "--out",
                str(out),
                "--epochs",
                "1",
                "--seed",
                "3",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "already holds" in capsys.readouterr().err
    assert (
        main(["train", "--out", str(out), "--resume", "--epochs", "2", "--json", "--no-progress"])
        == 0
    )
    m2 = json.loads(capsys.readouterr().out)
    assert m2["epochs"] == 2 and m2["seed"] == 3
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]


def test_resume_with_conflicting_options_is_refused(tmp_path, toy_data, capsys):
    cfg = write_cfg(tmp_path / "c.yaml", epochs=2)
    out = tmp_path / "run"
    run.run_training(Config.load(cfg), out, progress=False, stop_after=1)
    assert main(["train", "--out", str(out), "--resume", "--seed", "9", "--no-progress"]) == 2
    assert "differs" in capsys.readouterr().err


def test_method_stdp_dispatches_to_stdp_fit(tmp_path, toy_data, monkeypatch, capsys):
    import skipsnn.train.stdp as stdp
    from skipsnn.train.setup import Trained

    calls = []

    def fake(setup, stop_after=None):
        cfg = setup.cfg
        calls.append((cfg.train.method, cfg.train.label_fraction, setup.out, setup.state))
        return Trained({"params": 1}, finished=False)

    monkeypatch.setattr(stdp, "fit", fake)
    cfg = write_cfg(tmp_path / "c.yaml")
    out = tmp_path / "s"
    argv = [
        "train",
        "--config",
        str(cfg),
        "--method",
        "stdp",
        "--label-fraction",
        "0.3",
        "--out",
        str(out),
        "--json",
    ]
    assert main(argv) == 0
    assert calls == [("stdp", 0.3, out, None)]
    assert json.loads(capsys.readouterr().out)["method"] == "stdp"
