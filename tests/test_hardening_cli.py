"""Issue #11, items 6 and 9 on the command line: bounded options, and a light start-up.

``skipsnn --help``, ``skipsnn data inspect`` and the theory commands must not import
torch, botorch or ray (torch alone takes seconds to import); out-of-range options are
usage errors (exit 2) and write nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from skipsnn.cli import main

HEAVY = ("torch", "botorch", "gpytorch", "ray", "matplotlib")

PROBE = """
import json, sys
from skipsnn.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit as e:
    rc = e.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print(json.dumps({{"rc": rc, "heavy": heavy}}), file=sys.stderr)
"""


def _probe(*argv: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(r.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["theory", "cutoff", "--g", "0.5", "--json"],
        ["theory", "response-rate", "--period", "5", "--g", "10"],
        ["theory", "pathways", "--dynamics", "2,3,2", "--skip", "1:3"],
        ["theory", "simulate", "--period", "5", "--duration", "50"],
        ["data", "list"],
        ["train", "--help"],
    ],
)
def test_light_commands_do_not_import_torch(argv):
    r = _probe(*argv)
    assert r["rc"] == 0 and r["heavy"] == [], r


def test_data_inspect_does_not_import_torch(tmp_path):
    f = tmp_path / "3.npy"
    np.save(f, np.array([[1, 2, 1, 5], [3, 4, 0, 7]], dtype=np.int32))
    r = _probe("data", "inspect", str(f), "--json")
    assert r["rc"] == 0 and r["heavy"] == [], r


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["data", "prepare", "gestures", "--n-bins", "0"],
            "--n-bins: must be between 1 and 10000, got 0",
        ),
        (
            ["data", "prepare", "gestures", "--size", "0"],
            "--size: must be between 1 and 4096, got 0",
        ),
        (["data", "prepare", "digits", "--size", "-2"], "--size: must be between 1 and 4096"),
        (
            ["data", "prepare", "gestures", "--seed", "-1"],
            "--seed: must be between 0 and 4294967295",
        ),
        (
            ["data", "prepare", "gestures", "--n-bins", "9" * 5000],
            "--n-bins: must be a whole number",
        ),
        (["data", "prepare", "gestures", "--n-bins", "10000", "--size", "4096"], "GiB"),
        (["data", "preview", "gestures", "--out", "p.png", "--per-class", "0"], "--per-class"),
        (
            ["search", "--out", "S", "--seed", str(2**32)],
            "--seed: must be between 0 and 4294967295",
        ),
        (["search", "--out", "S", "--budget-v", "100000"], "--budget-v: must be at most 1000"),
        (["search", "--out", "S", "--trial-epochs", str(2**70)], "--trial-epochs: must be between"),
        (
            ["reproduce", "table3", "--out", "S", "--epochs", str(2**70)],
            "--epochs: must be between",
        ),
        (["reproduce", "table3", "--out", "S", "--fractions", "0.5,nan"], "--fractions"),
        (["demo", "--out", "S", "--seed", "-1"], "--seed"),
        (["search", "--out", "S", "--gpus-per-trial", "-1e0"], "--gpus-per-trial: must be"),
        (["search", "--out", "S", "--gpus-per-trial", "nan"], "--gpus-per-trial: must be"),
        (["train", "--out", "S", "--label-fraction", "-1e-3"], "label_fraction must be in (0, 1]"),
        # below 1e-6 no plain percentage names the run folder (1e-300 made f1e-298)
        (["train", "--out", "S", "--label-fraction", "1e-300"], "must be between 1e-06 and 1"),
        (["reproduce", "table3", "--out", "S", "--fractions", "1e-300"], "--fractions: must"),
        (["reproduce", "compare", "--out", "S", "--fractions", "0.5,9e-7"], "from 1e-06 to 1"),
    ],
)
def test_out_of_range_options_are_usage_errors(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].count("error:") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no cache, no output folder


def test_zero_bins_and_size_are_not_silently_the_defaults(tmp_path, monkeypatch, capsys):
    """Before #11 ``--n-bins 0`` framed with the dataset's default instead."""
    import skipsnn.data.framing as framing

    called = []
    monkeypatch.setattr(framing, "load_frames", lambda *a, **k: called.append(k))
    for opt in ("--n-bins", "--size"):
        with pytest.raises(SystemExit) as e:
            main(["data", "prepare", "gestures", opt, "0", "--cache-dir", str(tmp_path)])
        assert e.value.code == 2
    assert called == []


@pytest.mark.parametrize("kind", ["events", "frames"])
def test_a_file_where_a_cache_folder_goes_is_named(tmp_path, capsys, kind):
    # Before, "File exists: <cache>/frames" or, for events, the name of a file inside it.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / kind).write_text("not a folder")
    argv = ["data", "prepare", "gestures", "--split", "train", "--n-bins", "4", "--size", "8"]
    rc = main([*argv, "--cache-dir", str(cache)])
    err = capsys.readouterr().err
    assert rc != 0 and "Traceback" not in err
    assert f"the cache folder {cache / kind} is a file, not a folder" in err
    assert (cache / kind).read_text() == "not a folder"  # left as it was
