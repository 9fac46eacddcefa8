"""Event arrays in tonic's layout, and the summary ``skipsnn data inspect`` prints.

An event stream is a numpy structured array with fields ``x``, ``y`` (pixel column and
row, origin top-left), ``t`` (microseconds, int64) and ``p`` (polarity: 1 = ON, a rise
in log intensity; 0 = OFF). Tonic uses the same field names, so its transforms apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError

EVENT_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i1")])


def make_events(x, y, t, p) -> np.ndarray:
    """Build an `EVENT_DTYPE` array from four equally long columns."""
    x = np.asarray(x)
    n = len(x)
    ev = np.empty(n, dtype=EVENT_DTYPE)
    ev["x"] = x
    ev["y"] = y
    ev["t"] = t
    ev["p"] = p
    return ev


INT64_MAX = 2**63 - 1
COORD_MAX = 2**15 - 1  # x and y are int16


def _bad(where: str, what: str, values: np.ndarray, bad: np.ndarray, problem: str) -> DataError:
    i = int(np.flatnonzero(bad)[0])
    v = values[i].item()
    return DataError(f"{where}: {what} = {v!r} at event {i} {problem}")


def _integral(where: str, what: str, v: np.ndarray) -> np.ndarray:
    """``v`` as int64 if every value is a whole number (bool and float columns included)."""
    if v.dtype == bool:
        return v.astype(np.int64)
    if np.issubdtype(v.dtype, np.floating):
        bad = ~np.isfinite(v)
        if bad.any():
            raise _bad(where, what, v, bad, "is not a finite number")
        bad = (v != np.floor(v)) | (np.abs(v) >= 2.0**63)
        if bad.any():
            raise _bad(where, what, v, bad, "is not a whole number that fits 64 bits")
        return v.astype(np.int64)
    if not np.issubdtype(v.dtype, np.integer):
        raise DataError(f"{where}: the {what} column holds {v.dtype}, not numbers")
    if v.dtype == np.uint64 and len(v):
        bad = v > INT64_MAX
        if bad.any():
            raise _bad(where, what, v, bad, "does not fit a 64-bit signed integer")
    return v.astype(np.int64)


def checked_events(
    where: str,
    x,
    y,
    t,
    p,
    sensor: tuple[int, int] | None = None,
    t_scale: int = 1,
) -> np.ndarray:
    """An `EVENT_DTYPE` array from untrusted columns, or `DataError` naming the first bad value.

    ``x``, ``y`` must be whole numbers in ``[0, width)``, ``[0, height)`` of ``sensor``
    (``(width, height)``; without one, in the int16 range), ``p`` 0 or 1 (or bool), ``t``
    finite and >= 0. ``t`` is multiplied by ``t_scale`` (1000 for milliseconds) in 64-bit
    arithmetic, whatever the column's own type, and must then fit int64; float times are
    rounded to the nearest microsecond, the resolution of `EVENT_DTYPE`.
    """
    cols = [np.asarray(c) for c in (x, y, t, p)]
    if any(c.ndim != 1 for c in cols) or len({len(c) for c in cols}) != 1:
        raise DataError(f"{where}: the x, y, t, p columns are not equally long 1-D arrays")
    x, y, t, p = cols
    limits = (COORD_MAX + 1, COORD_MAX + 1) if sensor is None else sensor
    out = []
    for what, v, hi in (("x", x, limits[0]), ("y", y, limits[1])):
        v = _integral(where, what, v)
        bad = (v < 0) | (v >= hi)
        if bad.any():
            if v[bad][0] < 0:
                problem = "is negative"
            elif sensor:
                problem = f"is beyond the {limits[0]} x {limits[1]} sensor"
            else:
                problem = "is out of range"
            raise _bad(where, what, v, bad, problem)
        out.append(v)
    pv = _integral(where, "polarity", p)
    bad = (pv != 0) & (pv != 1)
    if bad.any():
        raise _bad(where, "polarity", pv, bad, "is not 0 (OFF) or 1 (ON)")
    if np.issubdtype(t.dtype, np.floating):
        bad = ~np.isfinite(t)
        if bad.any():
            raise _bad(where, "t", t, bad, "is not a finite time")
        tf = t.astype(np.float64) * t_scale
        bad = (tf < 0) | (tf >= 2.0**63)
        if bad.any():
            raise _bad(where, "t", t, bad, "is negative or too large for 64-bit microseconds")
        tv = np.rint(tf).astype(np.int64)
    else:
        tv = _integral(where, "t", t)
        bad = (tv < 0) | (tv > INT64_MAX // t_scale)
        if bad.any():
            raise _bad(where, "t", tv, bad, "is negative or too large for 64-bit microseconds")
        tv = tv * t_scale
    return make_events(out[0], out[1], tv, pv)


def summarize(events: np.ndarray, fmt: str) -> dict[str, Any]:
    """Counts and extents of an event stream (the keys of ``skipsnn data inspect --json``)."""
    n = int(len(events))
    on = int(np.count_nonzero(events["p"] > 0)) if n else 0
    return {
        "format": fmt,
        "events": n,
        "x_max": int(events["x"].max()) if n else None,
        "y_max": int(events["y"].max()) if n else None,
        "t_min": int(events["t"].min()) if n else None,
        "t_max": int(events["t"].max()) if n else None,
        "on_events": on,
        "off_events": n - on,
    }
