"""Issue #11, item 4: event readers refuse bad files with one sentence, accept nothing silly.

Each test builds the damaged input named in the issue and checks the `DataError` names
the file and the problem (and, through the CLI, exit status 2 and no traceback).
"""

from __future__ import annotations

import builtins
import errno
import io
import struct
import tracemalloc

import numpy as np
import pytest

from skipsnn.cli import main
from skipsnn.data import read_aedat31, read_events, read_nmnist, read_tonic_gesture_npy
from skipsnn.data.readers import decode_nmnist
from skipsnn.errors import DataError


def _npy_with_header(path, header: str, body: bytes = b"") -> None:
    h = header.encode("latin-1")
    pad = 64 - (10 + len(h) + 1) % 64
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h) + pad + 1) + h + b" " * pad + b"\n" + body)


def _cli(argv, capsys) -> tuple[int, str]:
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


# ---- file-system errors ----------------------------------------------------------------


@pytest.mark.parametrize("err", [errno.EACCES, errno.EIO])
def test_permission_and_io_errors_name_the_file(tmp_path, monkeypatch, capsys, err):
    f = tmp_path / "rec.bin"
    f.write_bytes(bytes(10))
    real_open = builtins.open

    def failing_open(file, mode="r", *a, **k):
        if str(file) == str(f):
            raise OSError(err, __import__("os").strerror(err), str(file))
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", failing_open)
    with pytest.raises(DataError, match=r"rec\.bin: cannot be read") as e:
        read_nmnist(f)
    assert "\n" not in str(e.value)
    rc, out = _cli(["data", "inspect", str(f)], capsys)
    assert rc == 2 and "Traceback" not in out and "cannot be read" in out


def test_io_error_while_reading_a_chunk(tmp_path, monkeypatch):
    f = tmp_path / "rec.bin"
    f.write_bytes(bytes(10))
    real_open = builtins.open

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise OSError(errno.EIO, "Input/output error")

    def open_(file, mode="r", *a, **k):
        return io.BufferedReader(Broken()) if str(file) == str(f) else real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", open_)
    with pytest.raises(DataError, match="Input/output error"):
        read_nmnist(f)


def test_over_long_file_names(tmp_path, capsys):
    long = tmp_path / ("a" * 5000 + ".bin")
    with pytest.raises(DataError) as e:
        read_nmnist(long)
    assert len(str(e.value)) < 400  # the name is shortened in the message
    rc, out = _cli(["data", "inspect", str(long)], capsys)
    assert rc == 2 and "Traceback" not in out and out.count("\n") == 1
    rc, out = _cli(["data", "inspect", str(tmp_path / "x\0y.npy")], capsys)
    assert rc == 2 and "Traceback" not in out


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="not a file"):
        read_events(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        read_events(tmp_path / "nope" / "a.npy")


# ---- .npy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), ",  # unterminated: tokenizer
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4)) }",  # syntax error
        "{'descr': 'nonsense', 'fortran_order': False, 'shape': (3, 4), }",
        "{'descr': '<i8', 'shape': (3, 4), }",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" * 60,
        "\udcff",
    ],
)
def test_corrupt_npy_headers(tmp_path, header, capsys):
    f = tmp_path / "bad.npy"
    try:
        _npy_with_header(f, header, bytes(96))
    except UnicodeEncodeError:
        f.write_bytes(b"\x93NUMPY\x01\x00\x10\x00\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\n")
    with pytest.raises(DataError, match=r"bad\.npy: not a readable \.npy file"):
        read_tonic_gesture_npy(f)
    rc, out = _cli(["data", "inspect", str(f)], capsys)
    assert rc == 2 and "Traceback" not in out


def test_declared_shape_larger_than_the_file_is_refused_before_allocating(tmp_path):
    f = tmp_path / "huge.npy"
    _npy_with_header(f, "{'descr': '<i8', 'fortran_order': False, 'shape': (1000000000000, 4), }", bytes(64))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"declares shape \(1000000000000, 4\).*holds 64 bytes"):
            read_tonic_gesture_npy(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    np.save(f, np.zeros((3, 4), dtype=np.int64))
    f.write_bytes(f.read_bytes() + b"\0" * 8)  # trailing bytes: also a mismatch
    with pytest.raises(DataError, match="declares shape"):
        read_tonic_gesture_npy(f)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros(3, dtype=[("x", "i2"), ("y", "i2"), ("t", "i8")]), "without the fields"),
        (np.zeros(3, dtype=[("x", "i2", (2,)), ("y", "i2"), ("t", "i8"), ("p", "i1")]), "field 'x'"),
        (np.zeros(3, dtype=[("x", "U3"), ("y", "i2"), ("t", "i8"), ("p", "i1")]), "field 'x'"),
        (np.zeros((2, 2), dtype=[("x", "i2"), ("y", "i2"), ("t", "i8"), ("p", "i1")]), "1-D"),
        (np.zeros(2, dtype=[("x", "i2"), ("y", "i2"), ("t", "c8"), ("p", "i1")]), "field 't'"),
        (np.zeros((3, 4), dtype=np.complex64), "numeric"),
        (np.array([["1", "2", "3", "4"]]), "numeric"),
    ],
)
def test_malformed_arrays(tmp_path, array, message):
    f = tmp_path / "s.npy"
    np.save(f, array)
    with pytest.raises(DataError, match=message):
        read_tonic_gesture_npy(f)


def test_object_arrays_are_not_unpickled(tmp_path):
    f = tmp_path / "o.npy"
    np.save(f, np.array([[1, 2, 3, {}]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        read_tonic_gesture_npy(f)


def test_plain_uint8_and_uint16_ms_convert_without_wrapping(tmp_path):
    f = tmp_path / "u.npy"
    np.save(f, np.array([[1, 2, 1, 200]], dtype=np.uint8))  # 200 ms
    assert read_tonic_gesture_npy(f)["t"].tolist() == [200_000]
    np.save(f, np.array([[1, 2, 1, 100]], dtype=np.uint16))  # was 3392 us
    assert read_tonic_gesture_npy(f)["t"].tolist() == [100_000]
    np.save(f, np.array([[1, 2, 1, 3_000_000]], dtype=np.int32))  # was negative
    assert read_tonic_gesture_npy(f)["t"].tolist() == [3_000_000_000]
    np.save(f, np.array([[1, 2, 1, 2.5004]], dtype=np.float64))  # rounded to the microsecond
    assert read_tonic_gesture_npy(f)["t"].tolist() == [2500]
    np.save(f, np.array([[1, 2, 1, 2**62]], dtype=np.int64))  # 2**62 ms does not fit in us
    with pytest.raises(DataError, match="too large for 64-bit microseconds"):
        read_tonic_gesture_npy(f)


@pytest.mark.parametrize(
    "row, message",
    [
        ([1, 2, 1, np.nan], "t = nan at event 1 is not a finite time"),
        ([1, 2, 1, np.inf], "not a finite time"),
        ([1, 2, 1, -5], "is negative"),
        ([1000, 2, 1, 5], "x = 1000 at event 1 is beyond the 128 x 128 sensor"),
        ([1, 128, 1, 5], "y = 128 at event 1 is beyond"),
        ([-1, 2, 1, 5], "x = -1 at event 1 is negative"),
        ([1.5, 2, 1, 5], "x = 1.5 at event 1 is not a whole number"),
        ([1, 2, 7, 5], "polarity = 7 at event 1 is not 0 \\(OFF\\) or 1 \\(ON\\)"),
        ([1, 2, -1, 5], "polarity = -1"),
    ],
)
def test_nonsense_values_are_refused(tmp_path, row, message):
    f = tmp_path / "v.npy"
    np.save(f, np.array([[1, 2, 0, 1], row], dtype=np.float64))
    with pytest.raises(DataError, match=message):
        read_tonic_gesture_npy(f)


def test_structured_values_are_checked_too(tmp_path):
    f = tmp_path / "s.npy"
    a = np.zeros(2, dtype=[("x", "<i4"), ("y", "<i4"), ("t", "<f8"), ("p", "<i1")])
    a["t"] = [0, np.nan]
    np.save(f, a)
    with pytest.raises(DataError, match="not a finite time"):
        read_tonic_gesture_npy(f)
    a["t"], a["p"] = [0, 1], [0, 7]
    np.save(f, a)
    with pytest.raises(DataError, match="polarity = 7"):
        read_tonic_gesture_npy(f)
    a["p"], a["x"] = [0, 1], [0, 70000]
    np.save(f, a)
    with pytest.raises(DataError, match="x = 70000"):
        read_tonic_gesture_npy(f)


# ---- AEDAT -----------------------------------------------------------------------------


def _aedat(ts: int, x: int = 5, ts_overflow: int = 0, source: bytes = b"DVS128") -> bytes:
    header = b"#!AER-DAT3.1\r\n#Source 1: " + source + b"\r\n#!END-HEADER\r\n"
    word = (x << 17) | (3 << 2) | (1 << 1) | 1
    return header + struct.pack("<hhiiiiii", 1, 1, 8, 4, ts_overflow, 1, 1, 1) + struct.pack("<Ii", word, ts)


def test_negative_aedat_timestamps_are_refused(tmp_path):
    f = tmp_path / "neg.aedat"
    f.write_bytes(_aedat(-5))
    with pytest.raises(DataError, match=r"neg\.aedat: negative timestamp -5"):
        read_aedat31(f)
    f.write_bytes(_aedat(5, ts_overflow=-1))
    with pytest.raises(DataError, match="negative timestamp overflow counter"):
        read_aedat31(f)
    f.write_bytes(_aedat(5, ts_overflow=2))
    assert read_aedat31(f)["t"].tolist() == [(2 << 31) + 5]


def test_aedat_x_beyond_the_named_sensor(tmp_path):
    f = tmp_path / "wide.aedat"
    f.write_bytes(_aedat(5, x=200))
    with pytest.raises(DataError, match="x = 200 at event 0 is beyond the 128 x 128 sensor"):
        read_aedat31(f)
    f.write_bytes(_aedat(5, x=200, source=b"DAVIS240C"))
    assert read_aedat31(f)["x"].tolist() == [200]


# ---- N-MNIST .bin memory ------------------------------------------------------------------


def test_nmnist_chunked_decoding_matches_one_pass_and_stays_within_3x(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n = 1_200_000  # 6 MB: the output (2.6x) plus about 1 MB of chunk temporaries
    raw = rng.integers(0, 256, size=(n, 5), dtype=np.uint8)
    raw[::5000, 1] = 240  # overflow markers
    f = tmp_path / "big.bin"
    f.write_bytes(raw.tobytes())
    whole = decode_nmnist(raw.reshape(-1))  # one pass, the reference
    import skipsnn.data.readers as readers

    monkeypatch.setattr(readers, "NMNIST_CHUNK_EVENTS", 7919)  # chunks that cut everything
    np.testing.assert_array_equal(read_nmnist(f), whole)
    monkeypatch.undo()
    tracemalloc.start()
    try:
        ev = read_nmnist(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(ev, whole)
    assert peak <= 3 * f.stat().st_size, f"peak {peak / f.stat().st_size:.1f}x the file size"


def test_aedat_memory_stays_within_3x(tmp_path):
    rng = np.random.default_rng(0)
    parts = [b"#!AER-DAT3.1\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"]
    for _ in range(50):
        n = 5000
        body = np.empty((n, 2), "<u4")
        body[:, 0] = (rng.integers(0, 128, n) << 17) | (rng.integers(0, 128, n) << 2) | 3
        body[:, 1] = np.sort(rng.integers(0, 2**31, n))
        parts.append(struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, n, n, n) + body.tobytes())
    f = tmp_path / "big.aedat"
    f.write_bytes(b"".join(parts))
    tracemalloc.start()
    try:
        ev = read_aedat31(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(ev) == 250_000 and ev["p"].min() == 1
    assert peak <= 3.2 * f.stat().st_size, f"peak {peak / f.stat().st_size:.1f}x the file size"
