"""Framing real layouts into the cache: worker processes, the source digest in the key,
errors from workers, frame geometry, ``skipsnn data prepare``; on small stand-ins
written by benchmarks/make_standin.py (the published layouts, scaled down)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import skipsnn.data.framed as framed
import skipsnn.data.framing as framing
from skipsnn.cli import main
from skipsnn.data import load_frames, make_events
from skipsnn.data.binning import frame_geometry, frame_sample
from skipsnn.errors import DataError

_SPEC = importlib.util.spec_from_file_location(
    "make_standin", Path(__file__).parent.parent / "benchmarks" / "make_standin.py"
)
standin = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(standin)


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("standin")
    quiet = lambda s: None  # noqa: E731
    g = standin.make_dvsgesture(base / "dvs", scale=0.02, seed=1, log=quiet)
    c = standin.make_ncaltech101(base / "cal", scale=0.01, seed=1, log=quiet)
    assert g["gestures"] == 11 * g["recordings"] and c["classes"] == 101
    return base / "dvs", base / "cal"


def test_standin_layout_at_full_scale_counts():
    recs = standin.gesture_recordings(1.0)
    users = {u for u, _ in recs}
    assert len(recs) == 122 and users == set(range(1, 30))
    assert 11 * sum(u <= 23 for u, _ in recs) == 1078 and 11 * sum(u > 23 for u, _ in recs) == 264
    sizes = standin.caltech_class_sizes(1.0)
    assert len(sizes) == 102 and sizes.pop("BACKGROUND_Google") == 468
    assert sum(sizes.values()) == 8246 and min(sizes.values()) >= 31


@pytest.mark.parametrize("name", ["dvsgesture", "ncaltech101"])
def test_workers_frame_the_same_bytes(roots, tmp_path, name):
    root = roots[0] if name == "dvsgesture" else roots[1]
    kw = dict(root=root, n_bins=4, size=32, progress=False)
    one = load_frames(name, "train", cache_dir=tmp_path / "a", workers=1, **kw)
    two = load_frames(name, "train", cache_dir=tmp_path / "b", workers=2, **kw)
    assert torch.equal(one.x[:], two.x[:]) and torch.equal(one.y, two.y)
    assert one.x[:].sum() > 0 and len(one.classes) == (11 if name == "dvsgesture" else 101)
    # what the dataset object reads, framed by hand
    ds = framing.open_real_dataset(name, Path(root), "train", 0)
    events, target = ds[3]
    frame = frame_sample(events, ds.sensor_size[:2], 4, 32, "aspect" if "cal" in name else "stretch")
    assert torch.equal(one.x[3], torch.from_numpy(frame)) and int(one.y[3]) == target


def test_cache_key_follows_the_source_files(roots, tmp_path, monkeypatch):
    src = tmp_path / "dvs"
    src.mkdir()
    for f in roots[0].iterdir():
        os.link(f, src / f.name)  # same files; mtimes are shared, so copy the one we touch
    kw = dict(root=src, n_bins=3, size=16, cache_dir=tmp_path / "c", progress=False)
    first = load_frames("dvsgesture", "test", **kw)
    calls = []
    real = framed.frame_into
    monkeypatch.setattr(framed, "frame_into", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = load_frames("dvsgesture", "test", **kw)
    assert calls == [] and again.meta["cache_file"] == first.meta["cache_file"]
    labels = sorted(src.glob("user2*_labels.csv"))[0]
    text = labels.read_text()
    labels.unlink()
    labels.write_text(text.replace("\n", "\n", 1))  # same content, a new file (mtime)
    os.utime(labels, ns=(10**18, 10**18))
    changed = load_frames("dvsgesture", "test", **kw)
    assert calls == [1] and changed.meta["cache_file"] != first.meta["cache_file"]
    assert torch.equal(changed.x[:], first.x[:])
    # The training split reads other files: unaffected by a test recording's change.
    assert first.meta["source"] != load_frames("dvsgesture", "train", **kw).meta["source"]


def test_a_broken_file_stops_the_workers_and_leaves_no_cache(roots, tmp_path):
    src = tmp_path / "cal"
    for f in roots[1].rglob("*.bin"):
        (src / f.parent.relative_to(roots[1])).mkdir(parents=True, exist_ok=True)
        os.link(f, src / f.relative_to(roots[1]))
    victim = sorted((src / "Caltech101" / "airplanes").glob("*.bin"))[0]
    victim.unlink()
    victim.write_bytes(b"\x00" * 7)  # not a multiple of 5 bytes
    with pytest.raises(DataError, match=f"{victim.name}: truncated"):
        load_frames(
            "ncaltech101", "train", root=src, cache_dir=tmp_path / "c", workers=2,
            seed=0, progress=False,
        )  # fmt: skip
    assert not list((tmp_path / "c" / "frames").iterdir())


def test_frame_geometry():
    assert frame_geometry((240, 180), 64, "aspect") == ((64, 48), (0, 0), (240, 180))
    assert frame_geometry((180, 240), 64, "aspect") == ((48, 64), (0, 0), (180, 240))
    assert frame_geometry((240, 180), 64, "pad") == ((64, 64), (0, 30), (240, 240))
    assert frame_geometry((240, 180), 64, "stretch") == ((64, 64), (0, 0), (240, 180))
    assert frame_geometry((128, 128), 32, "aspect") == ((32, 32), (0, 0), (128, 128))
    ev = make_events([239, 0, 120], [179, 0, 90], [0, 1, 2], [1, 0, 1])
    a = frame_sample(ev, (240, 180), 1, 64, "aspect")
    assert a.shape == (1, 2, 48, 64) and a[0, 1, 47, 63] == 1 and a[0, 0, 0, 0] == 1
    assert a[0, 1, 90 * 48 // 180, 120 * 64 // 240] == 1
    p = frame_sample(ev, (240, 180), 1, 64, "pad")
    assert p.shape == (1, 2, 64, 64) and p[0, 0, 30 * 64 // 240, 0] == 1
    assert p[0, 1, (179 + 30) * 64 // 240, 63] == 1 and p[0, 0, 0, 0] == 0


def test_ncaltech_geometry_in_load_frames(roots, tmp_path):
    kw = dict(root=roots[1], n_bins=2, size=32, cache_dir=tmp_path, progress=False)
    shapes = {g: load_frames("ncaltech101", "test", geometry=g, **kw).x.shape for g in ("aspect", "pad", "stretch")}
    assert shapes["aspect"][3:] == (24, 32) and shapes["pad"][3:] == (32, 32)
    assert shapes["stretch"][3:] == (32, 32)
    assert load_frames("ncaltech101", "test", **kw).x.shape[3:] == (24, 32)
    with pytest.raises(DataError, match="unknown frame geometry 'round'"):
        load_frames("ncaltech101", "test", geometry="round", **kw)


def test_prepare_command_frames_both_splits_then_training_reuses_them(roots, tmp_path, capsys):
    argv = ["data", "prepare", "dvsgesture", "--root", str(roots[0]), "--n-bins", "3",
            "--size", "16", "--workers", "2", "--cache-dir", str(tmp_path), "--json",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert [s["split"] for s in r["splits"]] == ["train", "test"]
    assert all(s["classes"] == 11 and s["shape"] == [3, 2, 16, 16] for s in r["splits"])
    folders = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert len(folders) == 2
    from skipsnn.config import Config
    from skipsnn.train.setup import load_data

    cfg = Config().replace(dataset={"name": "dvsgesture", "root": str(roots[0]), "n_bins": 3, "size": 16})
    os.environ["SKIPSNN_CACHE"] = str(tmp_path)
    try:
        train, test = load_data(cfg, None, progress=False)
    finally:
        del os.environ["SKIPSNN_CACHE"]
    assert {Path(train.meta["cache_file"]).name, Path(test.meta["cache_file"]).name} == set(folders)
    assert np.isclose(r["splits"][0]["mean_events_per_sample"], float(train.x[:].sum()) / len(train))
