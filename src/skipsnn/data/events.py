"""Event arrays in tonic's layout, and the summary ``skipsnn data inspect`` prints.

An event stream is a numpy structured array with fields ``x``, ``y`` (pixel column and
row, origin top-left), ``t`` (microseconds, int64) and ``p`` (polarity: 1 = ON, a rise
in log intensity; 0 = OFF). Tonic uses the same field names, so its transforms apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
