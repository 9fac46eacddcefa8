r"""Readers of event-camera files, each validating what it reads.

Every reader returns an `EVENT_DTYPE` array and raises `DataError` naming the file and
the problem for a missing, empty, truncated or malformed file.

**N-MNIST / N-Caltech101 binary** (``.bin``): 5 bytes per event, big-endian bit
fields: byte 0 = x, byte 1 = y, byte 2 bit 7 = polarity (1 = ON), then 23 bits of
timestamp in microseconds (byte 2 bits 6-0, byte 3, byte 4). As in the datasets' own
MATLAB reader (and tonic), an event with ``y == 240`` is a timestamp-overflow marker:
it adds ``2**13`` us to every later timestamp and is dropped. A timestamp that falls by
more than half the 23-bit range is taken as a wrap of the 23-bit counter and ``2**23``
us are added from there on, so times stay monotonic.

**AEDAT 3.1** (DVS128 Gesture as published): ASCII header lines starting with ``#``
(the first ``#!AER-DAT3.1``, the last ``#!END-HEADER``), then packets. Each packet has a
28-byte little-endian header: int16 eventType, int16 eventSource, int32 eventSize,
int32 eventTSOffset, int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber,
int32 eventValid, followed by ``eventCapacity * eventSize`` bytes of which the first
``eventNumber`` events are used (files normally have capacity == number; tonic's and
SpikingJelly's DVS128 Gesture readers also step by the capacity). Polarity
events (type 1, 8 bytes) are a uint32 ``data`` and an int32 timestamp (us); following
libcaer, ``x = (data >> 17) & 0x7FFF``, ``y = (data >> 2) & 0x7FFF``,
``p = (data >> 1) & 1`` and bit 0 marks a valid event (invalid ones are dropped). The
full time is ``(eventTSOverflow << 31) | timestamp``. Packets of other types are skipped.
A recording's ``<name>_labels.csv`` has a header line and rows
``class,startTime_usec,endTime_usec`` with classes 1-11.

**tonic's DVS128 Gesture ``.npy``**: an integer array of shape ``[N, 4]`` with columns
``x, y, p, t`` and ``t`` in milliseconds (converted here to microseconds).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .events import EVENT_DTYPE, make_events, summarize

NMNIST_OVERFLOW_Y = 240
NMNIST_OVERFLOW_US = 2**13
AEDAT_PACKET_HEADER = np.dtype(
    [
        ("type", "<i2"),
        ("source", "<i2"),
        ("size", "<i4"),
        ("ts_offset", "<i4"),
        ("ts_overflow", "<i4"),
        ("capacity", "<i4"),
        ("number", "<i4"),
        ("valid", "<i4"),
    ]
)
AEDAT_POLARITY_TYPE = 1


def _read_bytes(path) -> tuple[Path, bytes]:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror})") from e
    if not data:
        raise DataError(f"{path}: the file is empty")
    return path, data


# ---------------------------------------------------------------------------------------
# N-MNIST / N-Caltech101
# ---------------------------------------------------------------------------------------


def decode_nmnist(raw: np.ndarray) -> np.ndarray:
    """Decode N-MNIST/N-Caltech101 bytes (length a multiple of 5) into events."""
    r = raw.reshape(-1, 5).astype(np.int64)
    x, y = r[:, 0], r[:, 1]
    p = r[:, 2] >> 7
    t = ((r[:, 2] & 0x7F) << 16) | (r[:, 3] << 8) | r[:, 4]
    overflow = y == NMNIST_OVERFLOW_Y
    t = t + NMNIST_OVERFLOW_US * np.cumsum(overflow)
    wraps = np.concatenate([[0], np.diff(t) < -(2**22)])
    t = t + (2**23) * np.cumsum(wraps)
    keep = ~overflow
    return make_events(x[keep], y[keep], t[keep], p[keep])


def read_nmnist(path) -> np.ndarray:
    """Events of one N-MNIST or N-Caltech101 ``.bin`` file."""
    path, data = _read_bytes(path)
    if len(data) % 5:
        raise DataError(
            f"{path}: truncated N-MNIST/N-Caltech101 file ({len(data)} bytes is not a "
            "multiple of the 5 bytes of one event)"
        )
    return decode_nmnist(np.frombuffer(data, dtype=np.uint8))


# ---------------------------------------------------------------------------------------
# AEDAT 3.1 and DVS128 Gesture labels
# ---------------------------------------------------------------------------------------


def _split_aedat_header(path: Path, data: bytes) -> int:
    """Byte offset of the first packet after the ``#`` header lines."""
    if not data.startswith(b"#!AER-DAT"):
        raise DataError(f"{path}: not an AEDAT file (it does not start with '#!AER-DAT')")
    version = data[9:12]
    if version != b"3.1":
        raise DataError(
            f"{path}: AEDAT version {version.decode(errors='replace')} is not supported (need 3.1)"
        )
    pos = 0
    while pos < len(data) and data[pos : pos + 1] == b"#":
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise DataError(f"{path}: the AEDAT header never ends (no '#!END-HEADER' line)")
        line = data[pos:nl].strip()
        pos = nl + 1
        if line == b"#!END-HEADER":
            return pos
    raise DataError(f"{path}: the AEDAT header has no '#!END-HEADER' line")


def read_aedat31(path) -> np.ndarray:
    """Polarity events of one AEDAT 3.1 file, with 64-bit microsecond timestamps."""
    path, data = _read_bytes(path)
    pos = _split_aedat_header(path, data)
    buf = np.frombuffer(data, dtype=np.uint8)
    chunks = []
    hsize = AEDAT_PACKET_HEADER.itemsize
    while pos < len(data):
        if pos + hsize > len(data):
            raise DataError(f"{path}: truncated AEDAT packet header at byte {pos}")
        h = np.frombuffer(data, dtype=AEDAT_PACKET_HEADER, count=1, offset=pos)[0]
        size, number = int(h["size"]), int(h["number"])
        if size <= 0 or number < 0 or int(h["capacity"]) < number or int(h["valid"]) > number:
            raise DataError(f"{path}: malformed AEDAT packet header at byte {pos}")
        body = pos + hsize
        end = body + size * int(h["capacity"])
        if end > len(data):
            raise DataError(
                f"{path}: truncated AEDAT packet at byte {pos} "
                f"(needs {end - body} bytes, {len(data) - body} left)"
            )
        if int(h["type"]) == AEDAT_POLARITY_TYPE and number:
            if size != 8:
                raise DataError(
                    f"{path}: polarity events of {size} bytes at byte {pos} (expected 8)"
                )
            words = buf[body : body + 8 * number].view("<u4").reshape(number, 2)
            d, ts = words[:, 0].astype(np.int64), words[:, 1].view("<i4").astype(np.int64)
            valid = (d & 1) == 1
            t = (int(h["ts_overflow"]) << 31) | ts
            chunks.append(
                make_events((d >> 17) & 0x7FFF, (d >> 2) & 0x7FFF, t, (d >> 1) & 1)[valid]
            )
        pos = end
    if not chunks:
        return np.zeros(0, dtype=EVENT_DTYPE)
    return np.concatenate(chunks)


def read_gesture_labels(path) -> np.ndarray:
    """Rows ``(class, start_us, end_us)`` of a DVS128 Gesture ``_labels.csv`` (class 1-11)."""
    path, data = _read_bytes(path)
    lines = [ln.strip() for ln in data.decode(errors="replace").splitlines() if ln.strip()]
    rows = []
    for i, line in enumerate(lines):
        parts = [s.strip() for s in line.split(",")]
        if i == 0 and not parts[0].lstrip("-").isdigit():
            continue  # the header line
        try:
            c, start, end = (int(v) for v in parts)
        except ValueError:
            raise DataError(
                f"{path}: line {i + 1} is not 'class,startTime_usec,endTime_usec'"
            ) from None
        if not 1 <= c <= 11 or end <= start:
            raise DataError(
                f"{path}: line {i + 1} has class {c} or times {start}-{end} out of range"
            )
        rows.append((c, start, end))
    if not rows:
        raise DataError(f"{path}: no labelled gestures")
    return np.asarray(rows, dtype=np.int64)


def cut_gestures(events: np.ndarray, labels: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """One ``(events, target)`` per labelled row, time shifted to start at 0, target 0-10."""
    out = []
    t = events["t"]
    for c, start, end in labels:
        ev = events[(t >= start) & (t < end)]  # a mask, not a search: order is not assumed
        ev["t"] -= start
        out.append((ev, int(c) - 1))
    return out


# ---------------------------------------------------------------------------------------
# tonic's preprocessed DVS128 Gesture
# ---------------------------------------------------------------------------------------


def read_tonic_gesture_npy(path) -> np.ndarray:
    """Events of one tonic ``ibmGesture*/<user>/<label>.npy`` file (columns x, y, p, t in ms)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy array ({e})") from e
    if a.dtype.names:  # already structured (e.g. saved by skipsnn or tonic >= 1.0 users)
        if not {"x", "y", "t", "p"} <= set(a.dtype.names):
            raise DataError(f"{path}: a structured array without the fields x, y, t, p")
        return make_events(a["x"], a["y"], a["t"], a["p"])
    if a.ndim != 2 or a.shape[1] != 4 or not np.issubdtype(a.dtype, np.number):
        raise DataError(
            f"{path}: expected a numeric [N, 4] array (x, y, p, t), got shape {a.shape}"
        )
    return make_events(a[:, 0], a[:, 1], (a[:, 3] * 1000).astype(np.int64), a[:, 2])


# ---------------------------------------------------------------------------------------
# format detection (for `skipsnn data inspect`)
# ---------------------------------------------------------------------------------------


def detect_format(path) -> str:
    """``'aedat3.1'``, ``'nmnist-bin'`` or ``'tonic-npy'`` from the file's head and suffix."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"#!AER-DAT"):
        return "aedat3.1"
    if head.startswith(b"\x93NUMPY"):
        return "tonic-npy"
    if path.suffix.lower() == ".bin":
        return "nmnist-bin"
    raise DataError(
        f"{path}: unknown event file format (expected an N-MNIST/N-Caltech101 .bin, "
        "an AEDAT 3.1 .aedat or a tonic DVS128 Gesture .npy)"
    )


READERS = {"aedat3.1": read_aedat31, "nmnist-bin": read_nmnist, "tonic-npy": read_tonic_gesture_npy}


def read_events(path) -> tuple[str, np.ndarray]:
    """``(format, events)`` of any supported file."""
    fmt = detect_format(path)
    return fmt, READERS[fmt](path)


def inspect_file(path) -> dict:
    """The summary `skipsnn data inspect` prints (see `summarize`), plus the file name."""
    fmt, events = read_events(path)
    return {**summarize(events, fmt), "file": os.fspath(path)}
