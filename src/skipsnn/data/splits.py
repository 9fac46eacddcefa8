"""Seeded, stratified subsets of a labelled set: label fractions and validation splits.

Both work per class, so every class keeps its share: of ``n_c`` samples of class ``c``
a fraction ``f`` keeps ``max(1, round(f * n_c))``. The same ``(labels, fraction, seed)``
always gives the same indices, whatever else the program did before.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError


def _labels_array(labels) -> np.ndarray:
    y = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    if y.ndim != 1 or len(y) == 0:
        raise DataError("labels must be a non-empty one-dimensional array")
    return y


def _per_class_pick(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    picked = []
    for c in np.unique(y):  # sorted, so the order of draws does not depend on the data order
        members = np.flatnonzero(y == c)
        k = max(1, int(round(fraction * len(members))))
        picked.append(rng.permutation(members)[:k])
    return np.sort(np.concatenate(picked))


def stratified_fraction(labels, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subset holding ``fraction`` of each class (at least one).

    ``fraction == 1.0`` returns every index.
    """
    y = _labels_array(labels)
    if not 0.0 < fraction <= 1.0:
        raise DataError(f"the label fraction must be in (0, 1], got {fraction}")
    if fraction == 1.0:
        return np.arange(len(y))
    return _per_class_pick(y, fraction, seed)


def train_val_split(labels, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified seeded split into (train, validation) sorted index arrays.

    Each class gives ``max(1, round(val_fraction * n_c))`` samples to validation, but a
    class with a single sample stays in training.
    """
    y = _labels_array(labels)
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"the validation fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A1]))
    val = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < 2:
            continue
        k = min(len(members) - 1, max(1, int(round(val_fraction * len(members)))))
        val.append(rng.permutation(members)[:k])
    val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, dtype=np.int64)
    train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    return train_idx, val_idx
