"""``skipsnn data``: inspect (--json keys, exit 2 on a bad file), list, prepare, preview."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from skipsnn.cli import main
from skipsnn.data import catalog

NMNIST_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nmnist_sample.bin"
INSPECT_KEYS = {"format", "events", "x_max", "y_max", "t_min", "t_max", "on_events"}


def _nmnist_fixture(path: Path) -> Path:
    rows = [(3, 4, 1, 10), (5, 9, 0, 20), (2, 7, 1, 35)]
    path.write_bytes(
        b"".join(
            bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 255, t & 255]) for x, y, p, t in rows
        )
    )
    return path


def test_inspect_json_keys_and_values(tmp_path, capsys):
    assert main(["data", "inspect", str(_nmnist_fixture(tmp_path / "s.bin")), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert INSPECT_KEYS <= set(r)
    assert r == {
        **r,
        "format": "nmnist-bin",
        "events": 3,
        "x_max": 5,
        "y_max": 9,
        "t_min": 10,
        "t_max": 35,
        "on_events": 2,
    }


def test_inspect_aedat_fixture(tmp_path, capsys):
    header = b"#!AER-DAT3.1\r\n#!END-HEADER\r\n"
    body = struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, 1, 1, 1) + struct.pack(
        "<Ii", (7 << 17) | (3 << 2) | 1, 42
    )
    f = tmp_path / "rec.aedat"
    f.write_bytes(header + body)
    assert main(["data", "inspect", str(f), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["format"], r["events"], r["x_max"], r["y_max"], r["t_max"], r["on_events"]) == (
        "aedat3.1",
        1,
        7,
        3,
        42,
        0,
    )


def test_inspect_an_empty_recording_shows_no_ranges(tmp_path, capsys):
    f = tmp_path / "empty.aedat"
    f.write_bytes(b"#!AER-DAT3.1\r\n#!END-HEADER\r\n")
    assert main(["data", "inspect", str(f)]) == 0
    assert capsys.readouterr().out.strip() == f"{f}: aedat3.1, 0 events"


@pytest.mark.skipif(
    not NMNIST_SAMPLE.exists(), reason=f"real N-MNIST sample {NMNIST_SAMPLE} not present"
)
def test_inspect_real_sample_text(capsys):
    assert main(["data", "inspect", str(NMNIST_SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "nmnist-bin" in out and f"{NMNIST_SAMPLE.stat().st_size // 5} events" in out
    assert "warning" not in out  # a real recording is in time order


def test_inspect_warns_that_random_bytes_are_probably_not_a_recording(tmp_path, capsys):
    """A .bin file has no header, so any bytes decode; out-of-order times give it away."""
    import numpy as np

    f = tmp_path / "noise.bin"
    f.write_bytes(np.random.default_rng(0).integers(0, 256, 5 * 2000, dtype=np.uint8).tobytes())
    assert main(["data", "inspect", str(f), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["t_backwards"] > 0.2 * r["events"] and len(r["warnings"]) == 1
    assert "probably not" in r["warnings"][0]
    assert main(["data", "inspect", str(f)]) == 0
    assert "\nwarning: " in capsys.readouterr().out


def test_inspect_a_recording_in_time_order_has_no_warning(tmp_path, capsys):
    assert main(["data", "inspect", str(_nmnist_fixture(tmp_path / "s.bin")), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["t_backwards"] == 0 and r["warnings"] == []
    f = tmp_path / "one_late.bin"  # one event out of order in 200 stays under the 1% line
    rows = [(1, 1, 0, 100 * k) for k in range(200)]
    rows[50] = (1, 1, 0, 1)
    f.write_bytes(b"".join(bytes([x, y, t >> 16, (t >> 8) & 255, t & 255]) for x, y, p, t in rows))
    assert main(["data", "inspect", str(f), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["t_backwards"] == 1 and r["warnings"] == []


def test_inspect_bad_file_exits_2_with_one_sentence(tmp_path, capsys):
    bad = tmp_path / "broken.bin"
    bad.write_bytes(b"\x01\x02\x03\x04\x05\x06\x07")
    assert main(["data", "inspect", str(bad), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert "broken.bin" in err and "truncated" in err and len(err.strip().splitlines()) == 1


def test_inspect_folder_or_missing_file_exits_2(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err
    assert main(["data", "inspect", str(tmp_path / "nope.bin")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_list_names_all_datasets(capsys):
    assert main(["data", "list", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)["datasets"]]
    assert names == ["gestures", "digits", "rhythms", "dvsgesture", "ncaltech101"]


def test_prepare_and_preview_tiny_gestures(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "test", 1)
    common = [
        "--split",
        "test",
        "--n-bins",
        "4",
        "--size",
        "16",
        "--cache-dir",
        str(tmp_path),
        "--json",
    ]
    assert main(["data", "prepare", "gestures", *common]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["samples"] == 11 and r["shape"] == [4, 2, 16, 16] and r["mean_events_per_sample"] > 0
    out = tmp_path / "preview.png"
    assert (
        main(["data", "preview", "gestures", *common, "--out", str(out), "--per-class", "1"]) == 0
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["data", "preview", "gestures", *common, "--out", str(tmp_path / "p.jpg")]) == 2
    assert not (tmp_path / "p.jpg").exists()
    assert "must end in .png" in capsys.readouterr().err
    # ".png" alone is a hidden file without a suffix: refused before any work, saying why
    bare = tmp_path / ".png"
    assert main(["data", "preview", "gestures", *common, "--out", str(bare)]) == 2
    assert "a name is missing before .png" in capsys.readouterr().err and not bare.exists()


def test_real_dataset_without_root_exits_2(tmp_path, capsys):
    assert main(["data", "prepare", "ncaltech101", "--cache-dir", str(tmp_path)]) == 2
    assert "garrickorchard.com" in capsys.readouterr().err
