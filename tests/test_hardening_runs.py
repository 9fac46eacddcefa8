"""Run folders under hostile conditions: crafted and damaged checkpoints, unwritable
folders, resume misuse, two runs on one folder, file modes (issue 11, items 1-3, 6-8)."""

import io
import json
import os
import stat
import subprocess
import sys

import pytest
import torch

import skipsnn.train.run as run
from skipsnn.cli import main
from skipsnn.folders import folder_lock
from test_cli_train import toy_data, write_cfg  # noqa: F401  (fixture)


def _train(cfg, out, *extra):
    return main(["train", "--config", str(cfg), "--out", str(out), "--no-progress", *extra])


def _one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture()
def finished_run(tmp_path, toy_data, capsys):  # noqa: F811
    cfg = write_cfg(tmp_path / "c.yaml", epochs=1)
    out = tmp_path / "run"
    assert _train(cfg, out) == 0
    capsys.readouterr()
    return cfg, out


class _Payload:
    """Unpickling this runs ``touch <marker>``: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_checkpoint_is_refused_and_its_payload_never_runs(finished_run, capsys):
    cfg, out = finished_run
    marker = out.parent / "pwned"
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state["history"] = [_Payload(marker)]
    torch.save(state, out / "checkpoint.pt")
    assert main(["evaluate", str(out)]) == 2
    assert "refusing to load" in _one_sentence(capsys.readouterr().err)
    assert _train(cfg, out, "--resume", "--epochs", "2") == 2
    assert "refusing to load" in _one_sentence(capsys.readouterr().err)
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[: len(b) // 2],
        lambda b: bytes((i * 7919) % 256 for i in range(4096)),
        lambda b: _saved([1, 2, 3]),  # valid torch file, not a checkpoint
        lambda b: _saved({"config": {}, "history": [], "model": {"w": torch.zeros(2)}}),
    ],
    ids=["empty", "truncated", "random-bytes", "not-a-dict", "wrong-entries"],
)
def test_a_damaged_checkpoint_is_one_sentence(finished_run, capsys, damage):
    cfg, out = finished_run
    path = out / "checkpoint.pt"
    path.write_bytes(damage(path.read_bytes()))
    assert main(["evaluate", str(out)]) == 2
    _one_sentence(capsys.readouterr().err)
    assert _train(cfg, out, "--resume", "--epochs", "2") == 2
    _one_sentence(capsys.readouterr().err)


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_an_unterminated_metrics_json_is_one_sentence(finished_run, capsys):
    _, out = finished_run
    (out / "metrics.json").write_text('{"test_accuracy": 0.5,')
    assert main(["evaluate", str(out)]) == 2
    assert "metrics.json" in _one_sentence(capsys.readouterr().err)


def test_an_unwritable_out_is_refused_before_the_data_loads(tmp_path, monkeypatch, capsys):
    def no_data(*a, **k):
        raise AssertionError("the data should not be loaded")

    monkeypatch.setattr(run, "load_data", no_data)
    cfg = write_cfg(tmp_path / "c.yaml")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _train(cfg, blocker / "run") == 2
    assert "not a folder" in _one_sentence(capsys.readouterr().err)
    assert _train(cfg, blocker) == 2
    assert "not a folder" in _one_sentence(capsys.readouterr().err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_out_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "load_data", lambda *a, **k: pytest.fail("data loaded"))
    cfg = write_cfg(tmp_path / "c.yaml")
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert _train(cfg, locked / "run") == 2
        assert "not writable" in _one_sentence(capsys.readouterr().err)
    finally:
        locked.chmod(0o755)


def test_resume_needs_a_run_and_refuses_another_config(finished_run, tmp_path, capsys):
    cfg, out = finished_run
    assert _train(cfg, tmp_path / "nowhere", "--resume") == 2
    assert "no run to resume" in _one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "nowhere").exists()
    before = (out / "metrics.json").read_bytes()
    other = write_cfg(tmp_path / "other.yaml", epochs=1, lr=0.5)
    assert _train(other, out, "--resume") == 2
    assert "differs" in _one_sentence(capsys.readouterr().err)
    assert (out / "metrics.json").read_bytes() == before
    # The run's own config (only --epochs may change) is accepted.
    assert _train(cfg, out, "--resume", "--epochs", "2") == 0


def test_a_second_run_on_a_busy_folder_is_refused(tmp_path, toy_data, capsys):  # noqa: F811
    cfg = write_cfg(tmp_path / "c.yaml", epochs=1)
    out = tmp_path / "run"
    with folder_lock(out):
        assert _train(cfg, out) == 2
        assert "in use by another skipsnn" in _one_sentence(capsys.readouterr().err)
        assert not (out / "config.yaml").exists()
    assert _train(cfg, out) == 0  # free again once the first holder is done


def test_the_lock_is_held_across_processes(tmp_path):
    out = tmp_path / "busy"
    code = (
        "import sys, time\n"
        "from skipsnn.folders import folder_lock\n"
        f"with folder_lock({str(out)!r}):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        from skipsnn.errors import ConfigError

        with pytest.raises(ConfigError, match=f"process {holder.pid}"):
            with folder_lock(out):
                pass
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    with folder_lock(out):  # released when the holder exits
        pass


def test_output_files_follow_the_umask(tmp_path, toy_data):  # noqa: F811
    cfg = write_cfg(tmp_path / "c.yaml", epochs=1)
    old = os.umask(0o022)
    try:
        assert _train(cfg, tmp_path / "run") == 0
    finally:
        os.umask(old)
    for name in ("metrics.json", "config.yaml", "checkpoint.pt", "metrics.jsonl", "curves.png"):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o644, name


def test_no_terminal_gets_one_line_per_epoch(tmp_path, toy_data, capsys):  # noqa: F811
    cfg = write_cfg(tmp_path / "c.yaml", epochs=2)
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "r"), "--json"]) == 0
    captured = capsys.readouterr()
    lines = [x for x in captured.err.splitlines() if "epoch" in x]
    assert [x.split("epoch ")[1].split(":")[0] for x in lines] == ["1/2", "2/2"]
    assert json.loads(captured.out)["epochs"] == 2


def test_a_journal_line_that_is_not_a_record_is_one_sentence(tmp_path, capsys):
    out = tmp_path / "search"
    out.mkdir()
    good = {"event": "proposed", "trial": 0, "phase": "V", "params": {}}
    lines = [json.dumps(good), "[1, 2]", json.dumps(good)]
    (out / "journal.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["search", "--out", str(out), "--resume", "--no-progress"]) == 2
    assert "corrupt at line 2" in _one_sentence(capsys.readouterr().err)


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000 + "]" * 100_000,  # once a RecursionError traceback
        '{"event": "finished", "trial": 0, "value": "low"}',  # once a TypeError in min()
        '{"event": "finished", "trial": 0, "value": NaN}',  # append never writes NaN
        '{"event": "proposed", "trial": 0, "phase": "V", "params": {"n_layers": "2"}}',
        '{"event": "proposed", "trial": true, "phase": "V", "params": {}}',
    ],
    ids=["deep", "value-text", "value-nan", "param-text", "trial-bool"],
)
def test_a_journal_damaged_in_the_middle_is_one_sentence(tmp_path, capsys, line):
    out = tmp_path / "search"
    out.mkdir()
    good = json.dumps({"event": "proposed", "trial": 0, "phase": "V", "params": {}})
    (out / "journal.jsonl").write_text("\n".join([good, line, good]) + "\n")
    assert main(["search", "--out", str(out), "--resume", "--no-progress"]) == 2
    assert "corrupt at line 2" in _one_sentence(capsys.readouterr().err)


def test_a_second_search_on_a_busy_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "search"
    with folder_lock(out):
        assert main(["search", "--out", str(out), "--no-progress"]) == 2
        assert "in use by another skipsnn" in _one_sentence(capsys.readouterr().err)


def test_a_search_without_a_terminal_prints_one_line_per_trial(capsys):
    from skipsnn.search.optimizer import minimize
    from skipsnn.search.space import Param, Space

    space = Space([Param("x", 0.0, 1.0)])
    r = minimize(lambda p: (p["x"] - 0.3) ** 2, space, budget=3, strategy="random", progress=True)
    lines = [x for x in capsys.readouterr().err.splitlines() if "trial" in x]
    assert len(r.trials) == 3
    assert [x.split("trial ")[1].split(" ")[0] for x in lines] == ["1/3", "2/3", "3/3"]


@pytest.mark.parametrize(
    "argv",
    [
        ["conductance", "--gamma", "1", "--tau-m", "1e300"],
        ["response-rate", "--tau-m", "1180591620717411303424"],
        ["response-rate", "--period", "1e-300", "--r-m", "1e-300"],
        ["approximate", "--t-in", "2.5", "--t-out", "1e300", "--eps", "1e-300"],
        ["approximate", "--t-in", "1e-300", "--t-out", "2.5", "--eps", "1e300"],
        ["approximate", "--t-in", "1", "--t-out", "50000", "--eps", "1"],
        ["simulate", "--period", "1e-6", "--duration", "1e6"],
    ],
)
def test_extreme_theory_inputs_are_refused_at_once(argv, capsys):
    # Once a ZeroDivisionError or a hang of minutes (found by benchmarks/fuzz_inputs.py).
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["theory", *argv]))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("skipsnn")


@pytest.mark.parametrize("key", ["epochs", "batch_size", "grid", "windows"])
def test_stdp_counts_are_bounded(key):
    from skipsnn.errors import ConfigError
    from skipsnn.train.stdp_options import stdp_options

    with pytest.raises(ConfigError, match=f"stdp.{key} must be at most"):
        stdp_options({key: 10**12}, n_layers=2)


@pytest.mark.parametrize(
    "argv",
    [
        ["reproduce", "table3", "--dataset", "gestures", "--seeds", "1", "--out", "{f}/x"],
        ["reproduce", "ablation", "--dataset", "gestures", "--seeds", "1", "--out", "{f}/x"],
        ["data", "preview", "gestures", "--out", "{f}/x.png"],
        ["report", "{d}", "--out", "{f}/r.md"],
        ["export", "{d}", "--out", "{f}/m.nir"],
        ["demo", "--theory-only", "--out", "{f}/d"],
        [
            "theory",
            "coverage",
            "--t-min",
            "5",
            "--t-max",
            "10",
            "--grid",
            "3",
            "--eps",
            "0.5",
            "--figure",
            "{f}/c.png",
        ],
    ],
)
def test_every_output_path_is_checked_before_work(argv, tmp_path, monkeypatch, capsys):
    import skipsnn.train.setup as setup

    monkeypatch.setattr(setup, "load_data", lambda *a, **k: pytest.fail("data loaded"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    argv = [a.format(f=blocker, d=tmp_path) for a in argv]
    assert main(argv) == 2
    assert "not a folder" in _one_sentence(capsys.readouterr().err)


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "preview", "gestures", "--out", "{p}"],
        ["report", "{d}", "--out", "{p}"],
        ["export", "{d}", "--out", "{p}"],
        "theory coverage --t-min 5 --t-max 10 --grid 3 --eps 0.5 --figure {p}".split(),
    ],
)
def test_an_output_file_that_is_a_pipe_is_refused_not_replaced(argv, tmp_path, monkeypatch, capsys):
    # Moving the finished file into place would replace the node: `--out /dev/null` run as
    # root turned /dev/null into a regular file.
    import skipsnn.train.setup as setup

    monkeypatch.setattr(setup, "load_data", lambda *a, **k: pytest.fail("data loaded"))
    pipe = tmp_path / "out.png"
    os.mkfifo(pipe)
    assert main([a.format(p=pipe, d=tmp_path) for a in argv]) == 2
    assert "not a regular file" in _one_sentence(capsys.readouterr().err)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_a_closed_pipe_stops_the_command_quietly():
    # `skipsnn ... --json | head -c 10`: the reader goes away mid-output.
    argv = ["theory", "simulate", "--period", "0.001", "--duration", "500", "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "skipsnn.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout.read(10).startswith(b"{")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == "", err


@pytest.mark.parametrize(
    "content",
    [bytes(range(128, 228)), b"[1, 2, 3]", b'"0.5"', b"[" * 100_000 + b"]" * 100_000],
    ids=["not-utf8", "a-list", "a-string", "nested-too-deep"],
)
def test_a_metrics_json_that_is_not_an_object_is_one_sentence(finished_run, capsys, content):
    _, out = finished_run
    (out / "metrics.json").write_bytes(content)
    assert main(["report", str(out), "--out", str(out.parent / "r.md")]) == 2
    assert "metrics.json" in _one_sentence(capsys.readouterr().err)
    assert main(["evaluate", "--no-progress", str(out)]) == 2
    assert "metrics.json" in _one_sentence(capsys.readouterr().err)


def test_a_hand_edited_stored_accuracy_is_shown_not_a_crash(finished_run, capsys):
    _, out = finished_run
    metrics = json.loads((out / "metrics.json").read_text())
    (out / "metrics.json").write_text(json.dumps({**metrics, "test_accuracy": "0.2"}))
    assert main(["evaluate", "--no-progress", str(out)]) == 0
    assert "stored '0.2' (not a number)" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_file_given_as_a_run_folder_is_named_as_a_file(tmp_path, capsys, command):
    f = tmp_path / "file"
    f.write_text("x")
    argv = [command, str(f)] + (["--out", str(tmp_path / "r.md")] if command == "report" else [])
    assert main(argv) == 2
    assert "is a file, not a folder" in _one_sentence(capsys.readouterr().err)


def test_resuming_a_search_that_does_not_exist_is_refused(tmp_path, capsys):
    out = tmp_path / "nowhere"
    assert main(["search", "--out", str(out), "--resume", "--no-progress"]) == 2
    assert "no search to resume" in _one_sentence(capsys.readouterr().err)
    assert not out.exists()


def test_a_run_and_a_search_do_not_share_a_folder(finished_run, tmp_path, capsys):
    cfg, out = finished_run
    before = sorted(p.name for p in out.iterdir())
    assert main(["search", "--out", str(out), "--no-progress"]) == 2
    assert "holds a training run" in _one_sentence(capsys.readouterr().err)
    assert sorted(p.name for p in out.iterdir()) == before
    search = tmp_path / "search"
    search.mkdir()
    (search / "journal.jsonl").write_text("")
    assert _train(cfg, search) == 2
    assert "holds a search" in _one_sentence(capsys.readouterr().err)
    assert sorted(p.name for p in search.iterdir()) == ["journal.jsonl"]


def test_a_checkpoint_of_another_network_names_what_differs(finished_run, tmp_path, capsys):
    cfg, out = finished_run
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    key = next(iter(state["model"]))
    state["model"][key] = torch.zeros(1)
    torch.save(state, out / "checkpoint.pt")
    assert main(["evaluate", "--no-progress", str(out)]) == 2
    err = _one_sentence(capsys.readouterr().err)
    assert "does not fit this run" in err and key in err


def test_a_text_file_as_checkpoint_says_what_it_is_not(finished_run, capsys):
    _, out = finished_run
    (out / "checkpoint.pt").write_text("hello world\n")
    assert main(["evaluate", "--no-progress", str(out)]) == 2
    assert "not a file written by torch.save" in _one_sentence(capsys.readouterr().err)


def test_an_unwritable_output_file_is_named_not_its_temporary(tmp_path, monkeypatch):
    import errno
    import tempfile

    from skipsnn.atomic import write_text

    def refuse(dir, prefix, suffix):
        raise PermissionError(errno.EACCES, "Permission denied", f"{dir}/{prefix}x{suffix}")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "report.md"
    with pytest.raises(PermissionError) as e:
        write_text(target, "x")
    assert e.value.filename == str(target)


def test_a_folder_under_an_output_files_name_is_named_not_the_temporary(tmp_path, capsys):
    # Found by `train --resume` on a run whose metrics.json had become a folder: the
    # error named ".metrics.json.<random>.tmp".
    from skipsnn.atomic import write_json

    target = tmp_path / "metrics.json"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as e:
        write_json(target, {"a": 1})
    assert e.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no temporary left


def test_an_unknown_dataset_lists_tonic_names_too(capsys):
    assert main(["data", "prepare", "zzz"]) == 2
    assert "tonic:NAME" in _one_sentence(capsys.readouterr().err)


@pytest.mark.parametrize("epoch", [-3, "1", 1.5, True, None])
def test_a_checkpoint_with_a_bad_epoch_is_not_resumed(finished_run, capsys, epoch):
    cfg, out = finished_run
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state["epoch"] = epoch
    torch.save(state, out / "checkpoint.pt")
    before = (out / "metrics.json").read_bytes()
    assert _train(cfg, out, "--resume", "--epochs", "2") == 2
    err = _one_sentence(capsys.readouterr().err)
    assert f"checkpoint.pt stores epoch {epoch!r}, not a number of epochs trained" in err
    assert str(out / "checkpoint.pt") in err
    assert (out / "metrics.json").read_bytes() == before


@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_a_pipe_as_checkpoint_is_one_sentence_not_a_hang(tmp_path, capsys, command):
    # torch.load waited forever for a writer on a FIFO named checkpoint.pt.
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("{}\n")
    os.mkfifo(out / "checkpoint.pt")
    extra = ["--out", str(tmp_path / "n.nir")] if command == "export" else ["--no-progress"]
    assert main([command, str(out), *extra]) == 2
    assert "checkpoint.pt is not a readable checkpoint (not a regular file)" in _one_sentence(
        capsys.readouterr().err
    )
