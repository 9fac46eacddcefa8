import numpy as np
import pytest
import torch

from skipsnn.errors import DataError, ParameterError
from skipsnn.train.readout import fit_readout, pooled_counts


def test_pooled_counts_sum_spikes_per_cell_and_window():
    s = torch.zeros(8, 1, 1, 4, 4)  # T=8, one channel, 4x4 map
    s[0, 0, 0, 0, 0] = 1  # window 0, cell (0, 0)
    s[1, 0, 0, 1, 1] = 1  # window 0, cell (0, 0)
    s[5, 0, 0, 3, 0] = 1  # window 2, cell (1, 0)
    f = pooled_counts(s, grid=2, windows=4).reshape(4, 2, 2)
    assert f[0, 0, 0] == 2
    assert f[2, 1, 0] == 1
    assert f.sum() == 3


def test_pooled_counts_keep_total_with_uneven_bins():
    g = torch.Generator().manual_seed(0)
    s = (torch.rand(7, 3, 2, 5, 5, generator=g) < 0.3).float()
    f = pooled_counts(s, grid=2, windows=3)
    assert f.shape == (3, 2 * 3 * 2 * 2)
    # Overlapping adaptive bins may count a border element twice; totals never drop.
    assert torch.all(f.reshape(3, -1).sum(1) >= s.sum(dim=(0, 2, 3, 4)) - 1e-4)


def test_pooled_counts_even_bins_preserve_total_exactly():
    g = torch.Generator().manual_seed(0)
    s = (torch.rand(8, 3, 2, 6, 6, generator=g) < 0.3).float()
    f = pooled_counts(s, grid=3, windows=4)
    assert torch.allclose(f.sum(1), s.sum(dim=(0, 2, 3, 4)))


def test_pooled_counts_reject_bad_shapes():
    with pytest.raises(ParameterError):
        pooled_counts(torch.zeros(4, 2, 3, 3), grid=2, windows=2)
    with pytest.raises(ParameterError):
        pooled_counts(torch.zeros(2, 1, 1, 4, 4), grid=2, windows=4)


def _clusters(n_per_class, seed, flip=False):
    """Two Gaussian classes in 5-D; ``flip`` swaps their labels."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(-1.0, 0.5, size=(n_per_class, 5))
    x1 = rng.normal(+1.0, 0.5, size=(n_per_class, 5))
    y = np.r_[np.zeros(n_per_class, int), np.ones(n_per_class, int)]
    return np.r_[x0, x1], (1 - y) if flip else y


def test_readout_uses_only_labelled_samples():
    # 10 correctly labelled samples, 200 "unlabelled" ones whose hidden labels are wrong:
    # any leak of those labels into the fit would flip the classifier.
    xl, yl = _clusters(5, seed=1)
    xu, yu_wrong = _clusters(100, seed=2, flip=True)
    x = np.r_[xl, xu]
    labelled = np.r_[np.ones(len(yl), bool), np.zeros(len(yu_wrong), bool)]
    r_wrong = fit_readout(x, np.r_[yl, yu_wrong], labelled)
    r_other = fit_readout(x, np.r_[yl, np.random.default_rng(3).integers(0, 2, 200)], labelled)
    r_ref = fit_readout(xl, yl)
    assert r_wrong.n_labelled == 10
    # The hidden labels do not change the fit at all ...
    assert np.allclose(r_wrong.classifier.coef_, r_other.classifier.coef_)
    assert np.allclose(r_wrong.classifier.coef_, r_ref.classifier.coef_)
    assert np.allclose(r_wrong.scaler.mean_, xl.mean(0))
    # ... and the classifier follows the true labels, not the leaked ones.
    xt, yt = _clusters(50, seed=4)
    assert r_wrong.accuracy(xt, yt) > 0.95


def test_readout_rejects_bad_input():
    x, y = _clusters(5, seed=0)
    with pytest.raises(DataError, match="two classes"):
        fit_readout(x, y, np.r_[np.ones(5, bool), np.zeros(5, bool)])
    with pytest.raises(DataError, match="boolean"):
        fit_readout(x, y, np.ones(10, int))
    with pytest.raises(DataError):
        fit_readout(x[:3], y)
