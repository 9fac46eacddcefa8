"""tonic interop (skipsnn.data.tonic) on fixtures written in tonic's own layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

tonic = pytest.importorskip("tonic", reason="tonic is an optional extra (pip install tonic)")

from skipsnn.data import load_frames  # noqa: E402
from skipsnn.data.binning import frame_sample  # noqa: E402
from skipsnn.data.tonic import from_tonic, tonic_dataset  # noqa: E402
from skipsnn.errors import DataError  # noqa: E402


def _gesture_npy(c: int, k: int, rng) -> np.ndarray:
    """Events of class ``c`` as tonic stores DVS128 Gesture: [N, 4] ints x, y, p, t (ms)."""
    n = 300
    x = (c * 11 + rng.integers(0, 8, n)) % 128
    y = rng.integers(40 + 5 * (k % 3), 80, n)
    t = np.sort(rng.integers(0, 1000, n))
    p = (rng.random(n) < 0.3 + 0.04 * c).astype(np.int64)
    return np.stack([x, y, p, t], axis=1).astype(np.int64)


@pytest.fixture(scope="module")
def tonic_root(tmp_path_factory):
    """``<root>/DVSGesture/ibmGesture{Train,Test}/userNN_<light>/<label>.npy`` + archives."""
    root = tmp_path_factory.mktemp("tonic")
    rng = np.random.default_rng(0)
    for split, users in (("Train", range(1, 11)), ("Test", range(24, 34))):
        base = root / "DVSGesture"
        base.mkdir(exist_ok=True)
        (base / f"ibmGesture{split}.tar.gz").write_bytes(b"")  # tonic checks it is present
        for k, u in enumerate(users):
            d = base / f"ibmGesture{split}" / f"user{u:02d}_led"
            d.mkdir(parents=True)
            for c in range(11):
                np.save(d / f"{c}.npy", _gesture_npy(c, k, rng))
    return root


def test_from_tonic_frames_what_tonic_reads(tonic_root, tmp_path):
    ds = tonic.datasets.DVSGesture(save_to=str(tonic_root), train=True)
    fr = from_tonic(ds, n_bins=4, size=32, cache_dir=tmp_path, progress=False, workers=2)
    assert fr.x.shape == (110, 4, 2, 32, 32) and len(fr.classes) == 11
    assert fr.y.tolist() == list(ds.targets) and fr.classes[3] == "Right arm cw"
    for i in (0, 57, 109):
        events, target = ds[i]
        want = frame_sample(events, (128, 128), 4, 32, "aspect")
        assert torch.equal(fr.x[i], torch.from_numpy(want)) and int(fr.y[i]) == target
    again = from_tonic(ds, n_bins=4, size=32, cache_dir=tmp_path, progress=False)
    assert again.meta["cache_file"] == fr.meta["cache_file"]


def test_tonic_event_transforms_are_applied_and_keyed(tonic_root, tmp_path):
    ds = tonic.datasets.DVSGesture(save_to=str(tonic_root), train=False)
    kw = dict(n_bins=2, size=16, cache_dir=tmp_path, progress=False)
    plain = from_tonic(ds, **kw)
    flipped = from_tonic(ds, event_transform=tonic.transforms.RandomFlipPolarity(p=1.0), **kw)
    assert flipped.meta["cache_file"] != plain.meta["cache_file"]
    assert torch.equal(flipped.x[:], plain.x[:].flip(2))  # ON and OFF swapped
    denoised = from_tonic(ds, event_transform=tonic.transforms.Denoise(filter_time=1), **kw)
    assert denoised.x[:].sum() < plain.x[:].sum()
    # the frame transform of the result runs per sample (in DataLoader workers)
    shifted = from_tonic(ds, transform=lambda f: f + 1, **kw)
    frames, _ = shifted[0]
    assert torch.equal(frames, plain.x[0] + 1)


def test_tonic_dataset_trains_through_from_tonic(tonic_root, tmp_path):
    from skipsnn.config import Config
    from skipsnn.train.run import run_training

    kw = dict(n_bins=4, size=16, cache_dir=tmp_path, progress=False)
    train = from_tonic(tonic_dataset("DVSGesture", tonic_root, "train"), **kw)
    test = load_frames("tonic:DVSGesture", "test", root=tonic_root, **kw)
    assert test.x.shape == (110, 4, 2, 16, 16)
    cfg = Config().replace(
        dataset={"name": "gestures", "n_bins": 4, "size": 16},
        network={"layers": [{"channels": 8, "kernel": 3, "stride": 2}] * 2,
                 "skip": {"n_skip": 0, "l_start": 1, "l_end": 2}},
        train={"epochs": 2, "batch_size": 16, "num_threads": 1, "val_fraction": 0.2},
    )  # fmt: skip
    m = run_training(cfg, tmp_path / "run", data=(train, test), progress=False)
    assert m["finished"] and m["n_test"] == 110 and m["n_train"] == 88
    assert 0.0 <= m["test_accuracy"] <= 1.0 and np.isfinite(m["test_loss"])
    assert (tmp_path / "run" / "metrics.json").exists()


def test_tonic_never_downloads(tmp_path, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("tried to download")

    monkeypatch.setattr(tonic.dataset, "download_and_extract_archive", no_network)
    with pytest.raises(DataError, match="skipsnn does not download"):
        tonic_dataset("DVSGesture", tmp_path, "train")
    with pytest.raises(DataError, match="skipsnn does not download"):
        tonic_dataset("POKERDVS", tmp_path, "train")  # tonic copies a bundled archive
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="tonic has no dataset 'NOPE'"):
        load_frames("tonic:NOPE", root=tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        load_frames("tonic:NMNIST", root=tmp_path / "missing")


class _Listed:
    """tonic's interface without files: string targets, no sensor size (as NCALTECH101)."""

    sensor_size = None

    def __init__(self):
        rng = np.random.default_rng(1)
        self.targets = ["cat", "ant", "cat", "bee"]
        self.events = []
        for _ in self.targets:
            ev = np.zeros(50, dtype=[("x", int), ("y", int), ("t", int), ("p", int)])
            ev["x"], ev["y"] = rng.integers(0, 40, 50), rng.integers(0, 30, 50)
            ev["t"], ev["p"] = np.arange(50) * 10, rng.integers(0, 2, 50)
            self.events.append(ev)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.events[i], self.targets[i]


def test_objects_without_files_need_a_key_and_sizes(tmp_path):
    ds = _Listed()
    kw = dict(n_bins=2, cache_dir=tmp_path, progress=False)
    with pytest.raises(DataError, match="sensor_size=\\(width, height\\)"):
        from_tonic(ds, key="v1", **kw)
    with pytest.raises(DataError, match="pass key="):
        from_tonic(ds, sensor_size=(40, 30), **kw)
    fr = from_tonic(ds, sensor_size=(40, 30), key="v1", **kw)
    assert fr.classes == ["ant", "bee", "cat"] and fr.y.tolist() == [2, 0, 2, 1]
    assert fr.x.shape == (4, 2, 2, 30, 40)  # size: the longer side, aspect kept
    assert fr.meta["cache_file"] != from_tonic(ds, sensor_size=(40, 30), key="v2", **kw).meta["cache_file"]


def test_prepare_command_takes_tonic_names(tonic_root, tmp_path, capsys):
    import json

    from skipsnn.cli import main

    argv = ["data", "prepare", "tonic:DVSGesture", "--root", str(tonic_root), "--split", "test",
            "--n-bins", "2", "--size", "16", "--cache-dir", str(tmp_path), "--json"]  # fmt: skip
    assert main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["samples"] == 110 and r["shape"] == [2, 2, 16, 16] and r["classes"] == 11
    argv[4] = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    assert main(argv) == 2
    assert "skipsnn does not download" in capsys.readouterr().err


def test_train_command_takes_tonic_names(tonic_root, tmp_path, monkeypatch, capsys):
    import json

    import yaml

    from skipsnn.cli import main
    from skipsnn.config import default_config

    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    cfg = default_config("tonic:DVSGesture").replace(
        dataset={"n_bins": 4, "size": 16},
        network={"layers": [{"channels": 4, "kernel": 3, "stride": 2}],
                 "skip": {"n_skip": 0}, "n_dynamic": 1,
                 "dynamics": [{"a": 0.0, "tau_m": 4.0, "r_m": 4.0}]},
        train={"epochs": 1, "batch_size": 16, "num_threads": 1},
    )  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    argv = ["train", "--config", str(path), "--dataset", "tonic:DVSGesture", "--root",
            str(tonic_root), "--out", str(tmp_path / "run"), "--json", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["dataset"] == "tonic:DVSGesture" and m["n_test"] == 110 and m["finished"]
