"""The period of an output spike train: its mean inter-spike interval after the transient.

Trains produced by the constructions of `skipsnn.theory.approximate` are periodic
patterns: a cycle of ``c`` inter-spike intervals repeats (``c = 1`` for a plain chain).
The mean over a window that is not a whole number of cycles is biased by the partial
cycle, so `train_period` finds the shortest repeating cycle and averages over whole
cycles; when no cycle repeats it falls back to the plain mean interval.
"""

from __future__ import annotations

import numpy as np


def repeating_cycle(isi: np.ndarray, rtol: float = 1e-7, min_repeats: int = 3) -> int | None:
    """Shortest ``c`` with ``isi[i + c] == isi[i]`` (to ``rtol``) for all ``i``, seen ``min_repeats`` times."""
    n = isi.size
    if n == 0:
        return None
    tol = rtol * float(np.max(np.abs(isi)))
    for c in range(1, n // min_repeats + 1):
        if np.all(np.abs(isi[c:] - isi[:-c]) <= tol):
            return c
    return None


def train_period(spike_times, transient_fraction: float = 0.25) -> float | None:
    """Mean inter-spike interval after dropping the first ``transient_fraction`` of spikes.

    Averages over whole repeating cycles when there are any. ``None`` for fewer than
    three spikes left.
    """
    s = np.asarray(spike_times, dtype=float)
    s = s[int(np.ceil(transient_fraction * s.size)) :]
    if s.size < 3:
        return None
    isi = np.diff(s)
    c = repeating_cycle(isi)
    if c is None:
        return float(isi.mean())
    whole = (isi.size // c) * c
    return float(isi[-whole:].mean())
