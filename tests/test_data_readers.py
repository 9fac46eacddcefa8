"""Readers on fixtures written from the format specifications, and on a real N-MNIST file."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from skipsnn.data import (
    DVSGesture,
    NCaltech101,
    detect_format,
    read_aedat31,
    read_events,
    read_gesture_labels,
    read_nmnist,
    read_tonic_gesture_npy,
)
from skipsnn.errors import DataError

NMNIST_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "nmnist_sample.bin"


# ---- writers built from the specifications, independent of the readers --------------


def nmnist_bytes(rows) -> bytes:
    """rows of (x, y, p, t): x, y bytes; p in bit 7 of byte 2; 23-bit t big-endian."""
    out = bytearray()
    for x, y, p, t in rows:
        out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def aedat_packet(
    ev_type: int, events: list[tuple[int, int]], ts_overflow: int = 0, size: int = 8, spare: int = 0
) -> bytes:
    """A packet: 28-byte header, then capacity = len(events) + spare slots of ``size`` bytes."""
    n = len(events)
    header = struct.pack("<hhiiiiii", ev_type, 1, size, 4, ts_overflow, n + spare, n, n)
    body = b"".join(struct.pack("<Ii", d, ts) for d, ts in events)
    return header + body + b"\xff" * (size * spare)


def polarity_word(x: int, y: int, p: int, valid: int = 1) -> int:
    return (x << 17) | (y << 2) | (p << 1) | valid


AEDAT_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"


def write_aedat(path: Path, packets: list[bytes]) -> Path:
    path.write_bytes(AEDAT_HEADER + b"".join(packets))
    return path


# ---- N-MNIST / N-Caltech101 ----------------------------------------------------------


def test_nmnist_fixture_decodes_fields(tmp_path):
    rows = [(3, 4, 1, 10), (33, 0, 0, 2**23 - 1 - 5), (0, 33, 1, 2**23 - 2)]
    f = tmp_path / "a.bin"
    f.write_bytes(nmnist_bytes(rows))
    ev = read_nmnist(f)
    assert ev.dtype.names == ("x", "y", "t", "p")
    assert ev["t"].dtype == np.int64
    assert ev["x"].tolist() == [3, 33, 0]
    assert ev["y"].tolist() == [4, 0, 33]
    assert ev["p"].tolist() == [1, 0, 1]
    assert ev["t"].tolist() == [10, 2**23 - 6, 2**23 - 2]


def test_nmnist_overflow_marker_shifts_later_times_and_is_dropped(tmp_path):
    rows = [(1, 1, 1, 100), (0, 240, 0, 0), (2, 2, 0, 50), (0, 240, 0, 0), (3, 3, 1, 60)]
    f = tmp_path / "ov.bin"
    f.write_bytes(nmnist_bytes(rows))
    ev = read_nmnist(f)
    assert ev["x"].tolist() == [1, 2, 3]
    assert ev["t"].tolist() == [100, 50 + 2**13, 60 + 2**14]


def test_nmnist_23bit_wrap_keeps_time_monotonic(tmp_path):
    rows = [(1, 1, 1, 2**23 - 10), (2, 2, 0, 5)]
    f = tmp_path / "wrap.bin"
    f.write_bytes(nmnist_bytes(rows))
    assert read_nmnist(f)["t"].tolist() == [2**23 - 10, 2**23 + 5]


def test_nmnist_truncated_and_empty_files_name_the_file(tmp_path):
    f = tmp_path / "trunc.bin"
    f.write_bytes(nmnist_bytes([(1, 1, 1, 1), (2, 2, 0, 3)])[:-2])
    with pytest.raises(DataError, match="trunc.bin.*multiple of the 5 bytes"):
        read_nmnist(f)
    e = tmp_path / "empty.bin"
    e.write_bytes(b"")
    with pytest.raises(DataError, match="empty.bin.*empty"):
        read_nmnist(e)
    with pytest.raises(DataError, match="no such file"):
        read_nmnist(tmp_path / "missing.bin")


@pytest.mark.skipif(
    not NMNIST_SAMPLE.exists(), reason=f"real N-MNIST sample {NMNIST_SAMPLE} not present"
)
def test_real_nmnist_sample():
    ev = read_nmnist(NMNIST_SAMPLE)
    assert len(ev) == NMNIST_SAMPLE.stat().st_size // 5  # the sample has no overflow markers
    assert ev["x"].max() < 34 and ev["y"].max() < 34  # N-MNIST's 34x34 sensor
    assert set(np.unique(ev["p"]).tolist()) == {0, 1}
    assert np.all(np.diff(ev["t"]) >= 0)
    assert 0 < ev["t"].min() and ev["t"].max() < 400_000  # three saccades, ~300 ms
    assert detect_format(NMNIST_SAMPLE) == "nmnist-bin"


# ---- AEDAT 3.1 --------------------------------------------------------------------------


def test_aedat31_polarity_events_overflow_and_other_packets(tmp_path):
    p1 = aedat_packet(1, [(polarity_word(5, 7, 1), 100), (polarity_word(127, 0, 0), 200)], spare=1)
    other = aedat_packet(2, [(0xDEAD, 150)])  # a special-event packet: skipped
    p2 = aedat_packet(  # two unused slots after eventNumber events: skipped
        1,
        [(polarity_word(0, 127, 1), 50), (polarity_word(9, 9, 1, valid=0), 60)],
        ts_overflow=1,
        spare=2,
    )
    ev = read_aedat31(write_aedat(tmp_path / "user01_led.aedat", [p1, other, p2]))
    assert ev["x"].tolist() == [5, 127, 0]
    assert ev["y"].tolist() == [7, 0, 127]
    assert ev["p"].tolist() == [1, 0, 1]
    assert ev["t"].tolist() == [100, 200, (1 << 31) + 50]
    assert detect_format(tmp_path / "user01_led.aedat") == "aedat3.1"


@pytest.mark.parametrize(
    "content, message",
    [
        (
            AEDAT_HEADER + aedat_packet(1, [(polarity_word(1, 1, 1), 5)])[:20],
            "truncated AEDAT packet header",
        ),
        (
            AEDAT_HEADER + aedat_packet(1, [(polarity_word(1, 1, 1), 5)] * 3)[:-4],
            "truncated AEDAT packet",
        ),
        (
            AEDAT_HEADER + aedat_packet(1, [(1, 5)], size=12)[:28] + b"\0" * 12,
            "polarity events of 12 bytes",
        ),
        (b"#!AER-DAT2.0\r\n#!END-HEADER\r\n", "version 2.0 is not supported"),
        (b"#!AER-DAT3.1\r\n#Format: RAW\r\n", "no '#!END-HEADER'"),
        (b"hello", "not an AEDAT file"),
    ],
)
def test_aedat31_malformed_files_raise_naming_the_file(tmp_path, content, message):
    f = tmp_path / "bad.aedat"
    f.write_bytes(content)
    with pytest.raises(DataError, match=message) as e:
        read_aedat31(f)
    assert "bad.aedat" in str(e.value)


def test_gesture_labels_csv(tmp_path):
    f = tmp_path / "user01_led_labels.csv"
    f.write_text("class,startTime_usec,endTime_usec\n1,100,200\n11,300,450\n")
    assert read_gesture_labels(f).tolist() == [[1, 100, 200], [11, 300, 450]]
    f.write_text("class,startTime_usec,endTime_usec\n12,100,200\n")
    with pytest.raises(DataError, match="user01_led_labels.csv: line 2"):
        read_gesture_labels(f)
    f.write_text("class,startTime_usec,endTime_usec\n1,abc,200\n")
    with pytest.raises(DataError, match="not 'class,startTime_usec,endTime_usec'"):
        read_gesture_labels(f)


# ---- tonic .npy ----------------------------------------------------------------------------


def test_tonic_gesture_npy_columns_and_ms_to_us(tmp_path):
    a = np.array([[1, 2, 1, 5], [3, 4, 0, 7]], dtype=np.int32)  # x, y, p, t (ms)
    f = tmp_path / "3.npy"
    np.save(f, a)
    fmt, ev = read_events(f)
    assert fmt == "tonic-npy"
    assert ev["x"].tolist() == [1, 3] and ev["y"].tolist() == [2, 4]
    assert ev["p"].tolist() == [1, 0] and ev["t"].tolist() == [5000, 7000]
    np.save(f, np.zeros((3, 5)))
    with pytest.raises(DataError, match=r"3.npy.*\[N, 4\]"):
        read_tonic_gesture_npy(f)
    bad = tmp_path / "x.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="x.npy"):
        read_tonic_gesture_npy(bad)


def test_unknown_format(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with pytest.raises(DataError, match="notes.txt: unknown event file format"):
        detect_format(f)


# ---- dataset folders ---------------------------------------------------------------------


def _gesture_recording(folder: Path, user: int, rows) -> None:
    events = [(polarity_word(u % 128, (2 * u) % 128, u % 2), 1000 + 10 * u) for u in range(200)]
    write_aedat(folder / f"user{user:02d}_fluorescent.aedat", [aedat_packet(1, events)])
    lines = "".join(f"{c},{s},{e}\n" for c, s, e in rows)
    (folder / f"user{user:02d}_fluorescent_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n" + lines
    )


def test_dvsgesture_published_layout_split_by_user(tmp_path):
    root = tmp_path / "DvsGesture"
    root.mkdir()
    _gesture_recording(root, 1, [(1, 1000, 1500), (4, 1500, 2000)])
    _gesture_recording(root, 24, [(11, 1200, 2900)])
    train, test = DVSGesture(tmp_path, train=True), DVSGesture(tmp_path, train=False)
    assert (len(train), len(test)) == (2, 1)
    assert train.targets == [0, 3] and test.targets == [10]
    ev, target = train[1]
    assert target == 3 and len(ev) == 50  # events at t = 1500..1990 us
    assert ev["t"].min() == 0 and ev["t"].max() == 490
    ds = DVSGesture(tmp_path, train=False, transform=len, target_transform=lambda c: -c)
    assert ds[0] == (170, -10)
    assert train.sensor_size == (128, 128, 2) and len(train.classes) == 11


def test_dvsgesture_tonic_layout(tmp_path):
    d = tmp_path / "ibmGestureTest" / "user24_led"
    d.mkdir(parents=True)
    np.save(d / "7.npy", np.array([[1, 2, 1, 5]], dtype=np.int32))
    ds = DVSGesture(tmp_path, train=False)
    ev, target = ds[0]
    assert target == 7 and ev["t"].tolist() == [5000]


def test_dataset_roots_explain_where_data_comes_from(tmp_path):
    with pytest.raises(DataError, match="research.ibm.com/dvsgesture"):
        DVSGesture(tmp_path)
    with pytest.raises(DataError, match="garrickorchard.com"):
        NCaltech101(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        DVSGesture(tmp_path / "nowhere")


def test_ncaltech101_folder_stratified_split(tmp_path):
    base = tmp_path / "Caltech101"
    for name, n in (("airplanes", 10), ("ant", 5), ("BACKGROUND_Google", 3)):
        (base / name).mkdir(parents=True)
        for i in range(n):
            (base / name / f"image_{i:04d}.bin").write_bytes(nmnist_bytes([(i, 1, 1, 10 * i + 1)]))
    train, test = NCaltech101(tmp_path), NCaltech101(tmp_path, train=False)
    assert train.classes == ["airplanes", "ant"]
    assert sorted(test.targets) == [0, 0, 1]  # 20 % of 10 and of 5
    assert len(train) == 12
    assert not set(train.samples) & set(test.samples)
    ev, target = test[0]
    assert len(ev) == 1 and target in (0, 1)
    assert NCaltech101(tmp_path, split_seed=1).samples != train.samples


def test_load_frames_on_real_layouts(tmp_path):
    from skipsnn.data import load_frames

    root = tmp_path / "DvsGesture"
    root.mkdir()
    _gesture_recording(root, 2, [(1, 1000, 1500), (4, 1500, 2990)])
    ds = load_frames(
        "dvsgesture", "train", root=root, n_bins=2, size=32, cache_dir=tmp_path / "c", seed=5
    )
    assert ds.x.shape == (2, 2, 2, 32, 32) and ds.y.tolist() == [0, 3]
    assert ds.x[0].sum() == 50 and ds.x[1].sum() == 149  # events at 1000 + 10 u us
    assert ds.meta["seed"] is None  # DVS128 Gesture has nothing random: one cache for all seeds
    again = load_frames(
        "dvsgesture", "train", root=root, n_bins=2, size=32, cache_dir=tmp_path / "c"
    )
    assert again.meta["cache_file"] == ds.meta["cache_file"]

    cal = tmp_path / "cal"
    for name in ("a", "b"):
        (cal / name).mkdir(parents=True)
        for i in range(5):
            (cal / name / f"image_{i:04d}.bin").write_bytes(
                nmnist_bytes([(200, 150, 1, 5), (0, 0, 0, 9)])
            )
    kw = dict(root=cal, n_bins=1, size=24, cache_dir=tmp_path / "c")
    test = load_frames("ncaltech101", "test", geometry="stretch", **kw)
    assert test.x.shape == (2, 1, 2, 24, 24) and test.classes == ["a", "b"]
    assert test.x[0, 0, 1, 150 * 24 // 180, 200 * 24 // 240] == 1 and test.x[0, 0, 0, 0, 0] == 1
    test = load_frames("ncaltech101", "test", **kw)  # default: the sensor's aspect, 24x18
    assert test.x.shape == (2, 1, 2, 18, 24) and test.meta["frame_size"] == [24, 18]
    assert test.x[0, 0, 1, 150 * 18 // 180, 200 * 24 // 240] == 1
