"""The C backend's source file, its build cache key, and a float16 case with per-neuron dynamics."""

import pytest
import torch

from skipsnn import lif_scan as ls
from skipsnn.kernels import c_backend as cb
from skipsnn.neuron import LIFParams, lif_multistep_reference


def test_source_ships_beside_the_module_and_keys_the_build(tmp_path, monkeypatch):
    assert cb.SOURCE.name == "lif_scan.c" and cb.SOURCE.parent.name == "kernels"
    assert "void lif_forward(" in cb.SOURCE.read_text()
    key = cb._cache_key(cb._C_FLAGS)
    assert key == cb._cache_key(cb._C_FLAGS)  # stable
    assert key != cb._cache_key(cb._C_FLAGS + ["-fopenmp"])  # the flags are part of it
    edited = tmp_path / "lif_scan.c"
    edited.write_text(cb.SOURCE.read_text() + "\n/* edited */\n")
    monkeypatch.setattr(cb, "SOURCE", edited)
    assert cb._cache_key(cb._C_FLAGS) != key  # so is the source's content


def _grad(fn, x, p, **kw):
    x = x.clone().requires_grad_()
    s, v = fn(x, p, surrogate="arctan", width=4.0, **kw)
    w = torch.linspace(-1, 1, s.numel()).reshape(s.shape)
    ((s * w).sum() + v.sum()).backward()
    return s.detach(), v.detach(), x.grad


def check_per_neuron_dynamics(backend, save):
    """Per-neuron parameters (one value per neuron) against the reference, h kept in ``save``."""
    g = torch.Generator().manual_seed(3)
    x = 1.2 + 1.5 * torch.randn((5, 2, 6, 4, 3), generator=g)
    shape = (6, 4, 3)
    p = LIFParams(
        0.3 * torch.rand(shape, generator=g) - 0.1,
        1.5 + 8 * torch.rand(shape, generator=g),
        0.5 + 3 * torch.rand(shape, generator=g),
        v_th=1.0,
        v_reset=-0.2,
    )
    sr, vr, gr = _grad(lif_multistep_reference, x, p)
    sf, vf, gf = _grad(ls.lif_scan, x, p, backend=backend, save=save)
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    tol = {"full": (1e-5, 1e-6), "float16": (3e-3, 1e-4)}[save]
    torch.testing.assert_close(gf, gr, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("save", ["full", "float16"])
def test_per_neuron_dynamics_with_each_saved_precision(save):
    """Per-neuron parameters are expanded to one value per neuron; with h kept in float16
    they must still be float32 buffers (they once took h's dtype: NaN gradients)."""
    if cb.c_backend_error() is not None:
        pytest.skip(f"no C compiler: {cb.c_backend_error()}")
    if not ls.resolve_backend(torch.zeros(1), "c", save) == "c":
        pytest.skip("this C build cannot keep h in float16 (neither F16C nor _Float16)")
    check_per_neuron_dynamics("c", save)
