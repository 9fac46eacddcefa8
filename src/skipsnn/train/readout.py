r"""Readout for unsupervised (STDP) features: pooled spike counts and a linear classifier.

Features. A layer's spike train ``s[t, b, c, y, x]`` (``T`` steps) is summed over a grid
of ``G x G`` spatial cells and ``K`` equal time windows::

    f[b, c, k, gy, gx] = sum_{t in window k} sum_{(y, x) in cell (gy, gx)} s[t, b, c, y, x]

and flattened per sample; the features of the layers the config names are
concatenated. Time windows keep the order of events, which the time-collapsed counts
lose (clockwise and counter-clockwise gestures have the same counts).

Classifier. The features of the **labelled** samples only are standardized
(``z = (f - mean) / std``) and fitted by multinomial logistic regression. The fit takes
the full training set together with a boolean mask of which samples keep their labels,
and it never reads a label outside the mask: this is the semi-supervised protocol of the
paper (features from all samples without labels, classifier from the labelled fraction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError, ParameterError


def pooled_counts(spikes: torch.Tensor, grid: int = 2, windows: int = 4) -> torch.Tensor:
    """Spike counts of ``spikes [T, B, C, H, W]`` pooled into ``grid x grid`` cells and
    ``windows`` time windows: returns ``[B, C * windows * grid * grid]``.

    Cells and windows are as equal as `adaptive_avg_pool` makes them; counts are sums
    (average times size), so a window with more steps may hold more spikes.
    """
    if spikes.dim() != 5:
        raise ParameterError(f"spikes must have shape [T, B, C, H, W], got {tuple(spikes.shape)}")
    if grid < 1 or windows < 1:
        raise ParameterError(f"grid and windows must be at least 1, got {grid} and {windows}")
    t, b, c, h, w = spikes.shape
    if windows > t or grid > min(h, w):
        raise ParameterError(
            f"cannot pool {t} steps of {h}x{w} maps into {windows} windows of a {grid}x{grid} grid"
        )
    x = spikes.permute(1, 2, 0, 3, 4).to(torch.float32)  # [B, C, T, H, W]
    pooled = F.adaptive_avg_pool3d(x, (windows, grid, grid))
    # Turn averages back into counts: multiply by each cell's size along every axis.
    sizes = [_bin_sizes(n, k) for n, k in ((t, windows), (h, grid), (w, grid))]
    vol = sizes[0][:, None, None] * sizes[1][None, :, None] * sizes[2][None, None, :]
    return (pooled * vol.to(pooled)).reshape(b, -1)


def _bin_sizes(n: int, k: int) -> torch.Tensor:
    """Number of elements in each of the ``k`` adaptive-pooling bins of a length-``n`` axis."""
    i = torch.arange(k)
    start = torch.div(i * n, k, rounding_mode="floor")
    end = torch.div((i + 1) * n + k - 1, k, rounding_mode="floor")
    return (end - start).to(torch.float32)


if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler


class Readout(NamedTuple):
    """A fitted readout: the standardizer and the linear classifier."""

    scaler: StandardScaler
    classifier: LogisticRegression
    n_labelled: int

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Class scores ``[N, K]`` in label order ``0..K-1`` (-inf for classes never seen)."""
        dec = self.classifier.decision_function(self.scaler.transform(np.asarray(features)))
        classes = self.classifier.classes_
        if dec.ndim == 1:  # binary: one column, positive for classes_[1]
            dec = np.stack([-dec, dec], axis=1)
        out = np.full((len(dec), int(classes.max()) + 1), -np.inf)
        out[:, classes] = dec
        return out

    def probabilities(self, features: np.ndarray, n_classes: int) -> np.ndarray:
        """Class probabilities ``[N, n_classes]`` in label order (0 for classes never seen)."""
        proba = self.classifier.predict_proba(self.scaler.transform(np.asarray(features)))
        out = np.zeros((len(proba), n_classes))
        out[:, self.classifier.classes_] = proba
        return out

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.classifier.predict(self.scaler.transform(np.asarray(features)))

    def accuracy(self, features: np.ndarray, labels: np.ndarray) -> float:
        labels = np.asarray(labels)
        if len(labels) == 0:
            return float("nan")
        return float(np.mean(self.predict(features) == labels))

    def log_loss(self, features: np.ndarray, labels: np.ndarray) -> float:
        """Mean cross-entropy of the predicted class probabilities (nan if no samples)."""
        labels = np.asarray(labels)
        if len(labels) == 0:
            return float("nan")
        proba = self.classifier.predict_proba(self.scaler.transform(np.asarray(features)))
        col = {c: j for j, c in enumerate(self.classifier.classes_)}
        # A class absent from the labelled subset gets probability 0 (clipped): a large loss.
        p = np.array([proba[k, col[c]] if c in col else 0.0 for k, c in enumerate(labels)])
        return float(-np.mean(np.log(np.clip(p, 1e-12, 1.0))))


def fit_readout(
    features: np.ndarray,
    labels: np.ndarray | Sequence[int],
    labelled: np.ndarray | Sequence[bool] | None = None,
    *,
    c: float = 1.0,
    max_iter: int = 2000,
    seed: int = 0,
) -> Readout:
    """Fit standardization + logistic regression on the labelled samples only.

    ``features`` is ``[N, D]`` for the whole training set, ``labels`` ``[N]`` and
    ``labelled`` a boolean mask ``[N]`` (None: all labelled). Rows outside the mask are
    dropped before anything else touches ``labels``, so their labels cannot leak in.
    ``c`` is the inverse L2 strength of the logistic regression.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise DataError(
            f"features must be [N, D] with one label per row, got {features.shape} and {labels.shape}"
        )
    mask = np.ones(len(labels), dtype=bool) if labelled is None else np.asarray(labelled)
    if mask.dtype != bool or mask.shape != labels.shape:
        raise DataError("the labelled mask must be a boolean array with one entry per sample")
    x, y = features[mask], labels[mask]
    if len(np.unique(y)) < 2:
        raise DataError(
            f"the readout needs labelled samples of at least two classes, got {len(y)} samples"
        )
    # scikit-learn only where a readout is fitted: importing the trainers stays light.
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    clf.fit(scaler.transform(x), y)
    return Readout(scaler, clf, int(mask.sum()))
