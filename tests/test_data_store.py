"""The frame cache on disk (skipsnn.data.store): plain arrays + a JSON index, lazy rows,
never unpickled, damaged entries rebuilt."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

from skipsnn.data import FramedDataset, catalog, load_frames
from skipsnn.data.store import (
    DamagedCache,
    FrameArray,
    StoreWriter,
    read_store,
)


def _store(tmp_path, n=7, shape=(3, 2, 4, 5), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = np.arange(n) % 3
    w = StoreWriter(tmp_path / "entry", x.shape)
    w.write_rows(np.arange(n)[::-1], x[::-1])  # any order: rows land at their offsets
    w.commit(y, ["a", "b", "c"], {"note": "test"})
    return tmp_path / "entry", x, y


def test_store_round_trip_and_indexing(tmp_path):
    folder, x, y = _store(tmp_path)
    fx, fy, classes, meta = read_store(folder)
    assert isinstance(fx, FrameArray) and fx.shape == x.shape and len(fx) == 7
    assert fx.dtype == torch.uint8 and fy.tolist() == y.tolist() and classes == ["a", "b", "c"]
    assert meta == {"note": "test"}
    t = torch.from_numpy(x)
    assert torch.equal(fx[2], t[2]) and torch.equal(fx[-1], t[-1])
    assert torch.equal(fx[np.int64(3)], t[3]) and torch.equal(fx[torch.tensor(4)], t[4])
    assert torch.equal(fx[1:6:2], t[1:6:2]) and torch.equal(fx[:], t)
    idx = [5, 0, 1, 2, 6, 6]
    assert torch.equal(fx[np.array(idx)], t[idx])
    assert torch.equal(fx[torch.tensor(idx)], t[idx]) and torch.equal(fx[idx], t[idx])
    mask = torch.tensor(y == 1)
    assert torch.equal(fx[mask], t[mask]) and torch.equal(fx[np.array([], int)], t[:0])
    assert torch.equal(fx[2, 1, 0], t[2, 1, 0]) and torch.equal(fx[[1, 2], 0], t[[1, 2], 0])
    assert torch.equal(fx.to(torch.float32), t.float()) and np.array_equal(np.asarray(fx), x)
    out = fx[[1, 2]]
    out += 1  # a copy, not a view of the file
    assert torch.equal(fx[[1, 2]], t[[1, 2]])
    for bad in (7, -8, [0, 7], np.array([0.5])):
        with pytest.raises(IndexError):
            fx[bad]


def test_rows_are_read_on_demand(tmp_path, monkeypatch):
    """x[rows] reads those rows' bytes only, one call per run of consecutive rows."""
    folder, x, _ = _store(tmp_path, n=50)
    fx, *_ = read_store(folder)
    calls = []
    real = os.preadv

    def spy(fd, buffers, offset):
        calls.append((offset, sum(len(b) for b in buffers)))
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", spy)
    row = fx.row_bytes
    got = fx[[10, 11, 12, 40]]
    assert torch.equal(got, torch.from_numpy(x[[10, 11, 12, 40]]))
    assert calls == [(10 * row, 3 * row), (40 * row, row)]


def test_subset_and_pickling_reopen_the_file(tmp_path):
    folder, x, y = _store(tmp_path)
    fx, fy, classes, meta = read_store(folder)
    ds = FramedDataset(fx, torch.from_numpy(fy), classes, meta, transform=lambda f: f.flip(1))
    sub = ds.subset([6, 1, 3])
    assert isinstance(sub.x, FrameArray) and sub.y.tolist() == y[[6, 1, 3]].tolist()
    assert torch.equal(sub.x[:], torch.from_numpy(x[[6, 1, 3]]))
    assert torch.equal(sub.x.subset([2, 0])[:], torch.from_numpy(x[[3, 6]]))
    frames, label = sub[0]
    assert torch.equal(frames, torch.from_numpy(x[6]).flip(1)) and int(label) == y[6]
    fx[0]  # opens the file
    state = pickle.dumps(fx)
    assert b"_fd" not in state and len(state) < 1000
    back = pickle.loads(state)
    assert back._fd is None and torch.equal(back[:], fx[:])


def _payload_marker(tmp_path):
    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    return marker, pickle.dumps(Payload())


def test_a_pickle_payload_in_the_cache_is_never_executed(tmp_path, monkeypatch):
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "test", 1)
    kw = dict(n_bins=3, size=8, cache_dir=tmp_path, progress=False)
    good = load_frames("gestures", "test", **kw)
    want, folder = good.x[:], good.meta["cache_file"]
    marker, payload = _payload_marker(tmp_path)
    # A legacy torch.save'd cache next to the new one is never opened.
    torch.save({"x": want}, f"{folder}.pt")
    with open(f"{folder}.pt", "ab") as f:
        f.write(payload)
    for name in ("index.json", "x.u8"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(payload)
        again = load_frames("gestures", "test", **kw)
        assert torch.equal(again.x[:], want) and not marker.exists()
    # A payload inside valid JSON is just a string.
    index = json.loads(open(os.path.join(folder, "index.json")).read())
    index["meta"]["evil"] = payload.decode("latin-1")
    open(os.path.join(folder, "index.json"), "w").write(json.dumps(index))
    again = load_frames("gestures", "test", **kw)
    assert torch.equal(again.x[:], want) and not marker.exists()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f, i: open(f / "x.u8", "r+b").truncate(10), "holds 10 bytes"),
        (lambda f, i: _flip_byte(f / "x.u8"), "checksum"),
        (lambda f, i: (f / "x.u8").unlink(), "missing"),
        (lambda f, i: _edit(f, y=[9] * len(i["y"])), "not a class index"),
        (lambda f, i: _edit(f, y=i["y"][:-1]), "labels do not match"),
        (lambda f, i: _edit(f, shape=[7, 3, 3, 4, 5]), "not \\[N, T, 2, H, W\\]"),
        (lambda f, i: _edit(f, version=1), "format version"),
        (lambda f, i: (f / "index.json").write_text("[" * 100000), "not readable JSON"),
        (lambda f, i: (f / "index.json").write_bytes(b"\xff\xfe"), "not readable JSON"),
    ],
)
def test_damaged_store_is_one_sentence(tmp_path, damage, message):
    folder, *_ = _store(tmp_path)
    damage(folder, json.loads((folder / "index.json").read_text()))
    with pytest.raises(DamagedCache, match=message) as e:
        read_store(folder)
    assert str(e.value).count("\n") == 0 and str(folder) in str(e.value)


def _flip_byte(path):
    with open(path, "r+b") as f:
        f.seek(5)
        b = f.read(1)
        f.seek(5)
        f.write(bytes([b[0] ^ 1]))


def _edit(folder, **changes):
    index = json.loads((folder / "index.json").read_text())
    index.update(changes)
    (folder / "index.json").write_text(json.dumps(index))


def test_dataloader_workers_read_the_file(tmp_path):
    """A FramedDataset over the cache in a DataLoader with worker processes."""
    folder, x, y = _store(tmp_path, n=10)
    fx, fy, classes, meta = read_store(folder)
    fx[0]  # an open file in the parent must not be shared with the workers
    ds = FramedDataset(fx, torch.from_numpy(fy), classes, meta, transform=_double)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=False)
    xs, ys = zip(*loader, strict=True)
    assert torch.equal(torch.cat(xs), torch.from_numpy(x) * 2)
    assert torch.cat(ys).tolist() == y.tolist()


def _double(frames):
    return frames * 2


def test_make_loader_batches_shuffles_and_subsets(tmp_path, monkeypatch):
    from skipsnn.data import make_loader

    folder, x, y = _store(tmp_path, n=20)
    fx, fy, classes, meta = read_store(folder)
    ds = FramedDataset(fx, torch.from_numpy(fy), classes, meta)
    calls = []
    real = os.preadv
    monkeypatch.setattr(os, "preadv", lambda *a: calls.append(1) or real(*a))
    batches = list(make_loader(ds, batch_size=8))
    assert [len(b[0]) for b in batches] == [8, 8, 4] and len(calls) == 3  # one read per batch
    assert torch.equal(torch.cat([b[0] for b in batches]), torch.from_numpy(x))
    idx = np.array([3, 4, 9, 11, 15])
    order = [b[1].tolist() for b in make_loader(ds, idx, batch_size=2, shuffle=True, seed=1)]
    assert sorted(sum(order, [])) == sorted(y[idx].tolist())
    again = [b[1].tolist() for b in make_loader(ds, idx, batch_size=2, shuffle=True, seed=1)]
    assert again == order
    sampler = torch.utils.data.DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    got = torch.cat([b[0] for b in make_loader(ds, batch_size=4, sampler=sampler)])
    assert torch.equal(got, torch.from_numpy(x[1::2]))
    loader = make_loader(ds.with_transform(_double), batch_size=5, workers=2)
    assert torch.equal(torch.cat([b[0] for b in loader]), torch.from_numpy(x) * 2)


def test_a_file_under_the_entry_name_is_replaced_and_no_temporary_folder_stays(tmp_path):
    """A stray file where the entry's folder goes (not a finished entry) is removed like a
    damaged entry; the rename used to fail naming the hidden temporary folder, which stayed."""
    (tmp_path / "entry").write_text("not a cache folder")
    folder, x, _ = _store(tmp_path)
    assert torch.equal(read_store(folder)[0][:], torch.from_numpy(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_an_entry_that_cannot_be_replaced_is_named_in_one_sentence(tmp_path, monkeypatch):
    from skipsnn.data import store
    from skipsnn.errors import DataError

    (tmp_path / "entry").write_text("not a cache folder")
    monkeypatch.setattr(store, "remove_store", lambda folder: None)  # a file we cannot remove
    with pytest.raises(
        DataError, match=rf"^cannot write the frame cache entry {tmp_path / 'entry'}:"
    ):
        _store(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]  # no temporary folder left


def test_open_cached_removes_a_file_under_the_entry_name(tmp_path):
    from skipsnn.data.framed import open_cached

    (tmp_path / "entry").write_text("not a cache folder")
    assert open_cached(tmp_path / "entry") is None
    assert not (tmp_path / "entry").exists()
