r"""Classification metrics: accuracy, confusion matrix, clockwise/counter-clockwise pairs.

**Pairwise accuracy** for a pair of classes ``(c1, c2)``: over the test samples whose
label is ``c1`` or ``c2`` only, the prediction is whichever of the two has the larger
logit; the accuracy pools all pairs. With time collapsed, a clockwise and a
counter-clockwise circle give the same frames, so this stays near 50% (chance).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    if len(y) == 0:
        return float("nan")
    return (logits.argmax(1) == y).double().mean().item()


def confusion_matrix(pred: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """``M[true, predicted]`` counts."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y), np.asarray(pred)), 1)
    return m


def direction_pairs(classes: Sequence[str]) -> list[tuple[int, int]]:
    """``(clockwise, counter-clockwise)`` class-index pairs found by name.

    A class whose name contains ``counter_clockwise`` (or ``ccw``, or "counter clockwise")
    is paired with the class of the same name with that part replaced by ``clockwise``/``cw``.
    """
    norm = [c.lower().replace("-", "_").replace(" ", "_") for c in classes]
    pairs = []
    for j, name in enumerate(norm):
        for ccw, cw in (("counter_clockwise", "clockwise"), ("ccw", "cw")):
            if ccw in name:
                partner = name.replace(ccw, cw)
                if partner in norm:
                    pairs.append((norm.index(partner), j))
                break
    return pairs


def pair_accuracy(
    logits: torch.Tensor, y: torch.Tensor, pairs: Sequence[tuple[int, int]]
) -> float | None:
    """Accuracy over the samples of each pair, deciding only between the pair (None if none)."""
    correct, total = 0, 0
    for c1, c2 in pairs:
        mask = (y == c1) | (y == c2)
        if not mask.any():
            continue
        pick = torch.where(logits[mask, c1] >= logits[mask, c2], c1, c2)
        correct += int((pick == y[mask]).sum())
        total += int(mask.sum())
    return correct / total if total else None
