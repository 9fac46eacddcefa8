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
``x, y, p, t`` and ``t`` in milliseconds (converted here to microseconds), or a
structured array with fields ``x, y, t, p`` and ``t`` in microseconds (as skipsnn saves).

**What is refused.** Every reader raises `DataError` naming the file for: a missing,
unreadable or empty file; a truncated one; a damaged header (AEDAT or ``.npy``); a
``.npy`` whose header declares more (or less) data than the file holds, or that holds
objects; x or y beyond the sensor (DVS128: 128 x 128; for AEDAT files the sensor is
read from the ``#Source`` header line when it names a known camera); a polarity other
than 0 or 1; a time that is negative, not finite, or that does not fit 64-bit
microseconds after the ms -> us conversion (done in 64-bit arithmetic whatever the
column's type; float times are rounded to the nearest microsecond). N-MNIST files are
decoded in bounded chunks: memory stays within about 3x the file size.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .events import EVENT_DTYPE, checked_events, make_events, summarize
from .npyfile import open_checked, read_npy, show_path

NMNIST_OVERFLOW_Y = 240
NMNIST_OVERFLOW_US = 2**13
NMNIST_CHUNK_EVENTS = 1 << 14  # events decoded at a time: temporaries stay near 1 MB
DVS128_SENSOR = (128, 128)
# Sensor (width, height) of the cameras an AEDAT 3.1 '#Source N: NAME' line may name.
AEDAT_SENSORS = {"DVS128": (128, 128), "DAVIS240": (240, 180), "DAVIS346": (346, 260)}
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
    path, size = open_checked(path)
    if size == 0:
        raise DataError(f"{show_path(path)}: the file is empty")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{show_path(path)}: cannot be read ({e.strerror or e})") from None
    if not data:
        raise DataError(f"{show_path(path)}: the file is empty")
    return path, data


# ---------------------------------------------------------------------------------------
# N-MNIST / N-Caltech101
# ---------------------------------------------------------------------------------------


class _NmnistClock:
    """The timestamp state carried from one chunk of a file to the next."""

    def __init__(self) -> None:
        self.overflows = 0  # overflow markers seen so far
        self.wraps = 0  # 23-bit counter wraps seen so far
        self.last: int | None = None  # the previous event's time (markers included, unwrapped)

    def decode(self, raw: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(x, y, t, p)`` of the real events in ``raw`` (a multiple of 5 bytes)."""
        r = raw.reshape(-1, 5)
        y = r[:, 1]
        t = (
            ((r[:, 2].astype(np.int64) & 0x7F) << 16)
            | (r[:, 3].astype(np.int64) << 8)
            | r[:, 4].astype(np.int64)
        )
        overflow = y == NMNIST_OVERFLOW_Y
        t += NMNIST_OVERFLOW_US * (self.overflows + np.cumsum(overflow))
        self.overflows += int(np.count_nonzero(overflow))
        prev = np.empty_like(t)
        prev[1:] = t[:-1]
        prev[0] = t[0] if self.last is None else self.last
        self.last = int(t[-1])
        wraps = (t - prev) < -(2**22)
        t += (2**23) * (self.wraps + np.cumsum(wraps))
        self.wraps += int(np.count_nonzero(wraps))
        keep = ~overflow
        return r[keep, 0], y[keep], t[keep], r[keep, 2] >> 7


def decode_nmnist(raw: np.ndarray) -> np.ndarray:
    """Decode N-MNIST/N-Caltech101 bytes (length a multiple of 5) into events."""
    raw = np.asarray(raw, dtype=np.uint8)
    if len(raw) == 0:
        return np.zeros(0, dtype=EVENT_DTYPE)
    return make_events(*_NmnistClock().decode(raw))


def read_nmnist(path, sensor: tuple[int, int] | None = None) -> np.ndarray:
    """Events of one N-MNIST or N-Caltech101 ``.bin`` file, decoded in bounded chunks.

    With ``sensor = (width, height)``, an event beyond it is a `DataError`.
    """
    path, size = open_checked(path)
    name = show_path(path)
    if size == 0:
        raise DataError(f"{name}: the file is empty")
    if size % 5:
        raise DataError(
            f"{name}: truncated N-MNIST/N-Caltech101 file ({size} bytes is not a "
            "multiple of the 5 bytes of one event)"
        )
    out = np.empty(size // 5, dtype=EVENT_DTYPE)
    clock, n, read = _NmnistClock(), 0, 0
    try:
        with open(path, "rb") as f:
            while read < size:
                chunk = f.read(min(5 * NMNIST_CHUNK_EVENTS, size - read))
                if not chunk or len(chunk) % 5:
                    raise DataError(f"{name}: the file changed while it was being read")
                read += len(chunk)
                x, y, t, p = clock.decode(np.frombuffer(chunk, dtype=np.uint8))
                if sensor is not None:
                    checked_events(name, x, y, t, p, sensor)
                k = len(x)
                part = out[n : n + k]
                part["x"], part["y"], part["t"], part["p"] = x, y, t, p
                n += k
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None
    return out[:n]


# ---------------------------------------------------------------------------------------
# AEDAT 3.1 and DVS128 Gesture labels
# ---------------------------------------------------------------------------------------


def _split_aedat_header(path: Path, data: bytes) -> tuple[int, tuple[int, int] | None]:
    """Byte offset of the first packet after the ``#`` header lines, and the sensor size
    if a ``#Source`` line names a known camera."""
    name = show_path(path)
    if not data.startswith(b"#!AER-DAT"):
        raise DataError(f"{name}: not an AEDAT file (it does not start with '#!AER-DAT')")
    version = data[9:12]
    if version != b"3.1":
        shown = version.decode("latin-1")
        shown = shown if shown.isprintable() else repr(shown)
        raise DataError(f"{name}: AEDAT version {shown} is not supported (need 3.1)")
    pos, sensor = 0, None
    while pos < len(data) and data[pos : pos + 1] == b"#":
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise DataError(f"{name}: the AEDAT header never ends (no '#!END-HEADER' line)")
        line = data[pos:nl].strip()
        pos = nl + 1
        m = re.match(rb"#Source \d+: *([A-Za-z]+\d+)", line)
        if m:
            sensor = AEDAT_SENSORS.get(m.group(1).decode("ascii").upper(), sensor)
        if line == b"#!END-HEADER":
            return pos, sensor
    raise DataError(f"{name}: the AEDAT header has no '#!END-HEADER' line")


def _aedat_packets(name: str, data: bytes, pos: int):
    """``(offset, header)`` of every packet, each checked against the file's length."""
    hsize = AEDAT_PACKET_HEADER.itemsize
    while pos < len(data):
        if pos + hsize > len(data):
            raise DataError(f"{name}: truncated AEDAT packet header at byte {pos}")
        h = np.frombuffer(data, dtype=AEDAT_PACKET_HEADER, count=1, offset=pos)[0]
        size, number, capacity = int(h["size"]), int(h["number"]), int(h["capacity"])
        if size <= 0 or number < 0 or capacity < number or not 0 <= int(h["valid"]) <= number:
            raise DataError(f"{name}: malformed AEDAT packet header at byte {pos}")
        end = pos + hsize + size * capacity
        if end > len(data):
            raise DataError(
                f"{name}: truncated AEDAT packet at byte {pos} "
                f"(needs {end - pos - hsize} bytes, {len(data) - pos - hsize} left)"
            )
        if int(h["type"]) == AEDAT_POLARITY_TYPE and number:
            if size != 8:
                raise DataError(
                    f"{name}: polarity events of {size} bytes at byte {pos} (expected 8)"
                )
            if int(h["ts_overflow"]) < 0:
                raise DataError(f"{name}: negative timestamp overflow counter at byte {pos}")
        yield pos, h
        pos = end


def read_aedat31(path) -> np.ndarray:
    """Polarity events of one AEDAT 3.1 file, with 64-bit microsecond timestamps."""
    path, data = _read_bytes(path)
    name = show_path(path)
    pos, sensor = _split_aedat_header(path, data)
    packets = [
        (p, h)
        for p, h in _aedat_packets(name, data, pos)
        if int(h["type"]) == AEDAT_POLARITY_TYPE and int(h["number"])
    ]
    out = np.empty(sum(int(h["number"]) for _, h in packets), dtype=EVENT_DTYPE)
    buf = np.frombuffer(data, dtype=np.uint8)
    n = 0
    for p, h in packets:
        number, body = int(h["number"]), p + AEDAT_PACKET_HEADER.itemsize
        words = buf[body : body + 8 * number].view("<u4").reshape(number, 2)
        d, ts = words[:, 0].astype(np.int64), words[:, 1].view("<i4")
        valid = (d & 1) == 1
        d, ts = d[valid], ts[valid].astype(np.int64)
        if len(ts) and ts.min() < 0:
            raise DataError(f"{name}: negative timestamp {int(ts.min())} in the packet at byte {p}")
        part = out[n : n + len(d)]
        part["x"], part["y"], part["p"] = (d >> 17) & 0x7FFF, (d >> 2) & 0x7FFF, (d >> 1) & 1
        part["t"] = (int(h["ts_overflow"]) << 31) | ts  # < 2**62: the counter is an int32 >= 0
        n += len(d)
    out = out[:n]
    if sensor is not None:  # x, y are 15-bit fields, p one bit: only the sensor can be exceeded
        for what, hi in (("x", sensor[0]), ("y", sensor[1])):
            bad = out[what] >= hi
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(
                    f"{name}: {what} = {int(out[what][i])} at event {i} is beyond the "
                    f"{sensor[0]} x {sensor[1]} sensor"
                )
    return out


def read_gesture_labels(path) -> np.ndarray:
    """Rows ``(class, start_us, end_us)`` of a DVS128 Gesture ``_labels.csv`` (class 1-11)."""
    path, data = _read_bytes(path)
    name = show_path(path)
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
                f"{name}: line {i + 1} is not 'class,startTime_usec,endTime_usec'"
            ) from None
        if not 1 <= c <= 11 or not 0 <= start < end <= 2**63 - 1:
            raise DataError(
                f"{name}: line {i + 1} has class {c} or times {start}-{end} out of range"
            )
        rows.append((c, start, end))
    if not rows:
        raise DataError(f"{name}: no labelled gestures")
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


def read_tonic_gesture_npy(path, sensor: tuple[int, int] = DVS128_SENSOR) -> np.ndarray:
    """Events of one tonic ``ibmGesture*/<user>/<label>.npy`` file (columns x, y, p, t in ms),
    or of a structured ``.npy`` with fields x, y, t, p (t in us)."""
    a = read_npy(path)
    name = show_path(path)
    if a.dtype.names:  # already structured (e.g. saved by skipsnn or tonic >= 1.0 users)
        if not {"x", "y", "t", "p"} <= set(a.dtype.names):
            raise DataError(f"{name}: a structured array without the fields x, y, t, p")
        for f in "xytp":
            ft = a.dtype.fields[f][0]
            if ft.shape or ft.kind not in "biuf":
                raise DataError(f"{name}: field {f!r} is {ft}, not a number per event")
        if a.ndim != 1:
            raise DataError(f"{name}: expected a 1-D array of events, got shape {a.shape}")
        return checked_events(name, a["x"], a["y"], a["t"], a["p"], sensor)
    if a.ndim != 2 or a.shape[1] != 4 or a.dtype.kind not in "biuf":
        raise DataError(
            f"{name}: expected a numeric [N, 4] array (x, y, p, t), got {a.dtype} of shape {a.shape}"
        )
    return checked_events(name, a[:, 0], a[:, 1], a[:, 3], a[:, 2], sensor, t_scale=1000)


# ---------------------------------------------------------------------------------------
# format detection (for `skipsnn data inspect`)
# ---------------------------------------------------------------------------------------


def detect_format(path) -> str:
    """``'aedat3.1'``, ``'nmnist-bin'`` or ``'tonic-npy'`` from the file's head and suffix."""
    path, _ = open_checked(path)
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise DataError(f"{show_path(path)}: cannot be read ({e.strerror or e})") from None
    if head.startswith(b"#!AER-DAT"):
        return "aedat3.1"
    if head.startswith(b"\x93NUMPY"):
        return "tonic-npy"
    if path.suffix.lower() == ".bin":
        return "nmnist-bin"
    raise DataError(
        f"{show_path(path)}: unknown event file format (expected an N-MNIST/N-Caltech101 .bin, "
        "an AEDAT 3.1 .aedat or a tonic DVS128 Gesture .npy)"
    )


READERS = {"aedat3.1": read_aedat31, "nmnist-bin": read_nmnist, "tonic-npy": read_tonic_gesture_npy}


def read_events(path) -> tuple[str, np.ndarray]:
    """``(format, events)`` of any supported file."""
    fmt = detect_format(path)
    return fmt, READERS[fmt](path)


# Share of events whose time is earlier than the previous event's above which an
# N-MNIST/N-Caltech101 file is flagged: the cameras write events in time order, and
# random bytes read as this headerless format put about 3 in 8 times backwards.
NMNIST_BACKWARDS_WARN = 0.01


def backwards_times(events: np.ndarray) -> int:
    """How many events have a time earlier than the event before them."""
    return int(np.count_nonzero(np.diff(events["t"]) < 0)) if len(events) > 1 else 0


def inspect_file(path) -> dict:
    """The summary `skipsnn data inspect` prints (see `summarize`), the file name, the
    number of events out of time order, and warnings about a file that may not be in the
    format it was read as (``.bin`` files have no header, so any bytes decode)."""
    fmt, events = read_events(path)
    back = backwards_times(events)
    warnings = []
    if fmt == "nmnist-bin" and back > NMNIST_BACKWARDS_WARN * max(len(events) - 1, 1):
        warnings.append(
            f"{back} of {len(events)} events have a time earlier than the event before them; "
            "N-MNIST/N-Caltech101 recordings are in time order, so this file is probably "
            "not one (the .bin format has no header to check)"
        )
    return {
        **summarize(events, fmt),
        "t_backwards": back,
        "warnings": warnings,
        "file": os.fspath(path),
    }
