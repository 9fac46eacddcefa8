"""The fused LIF scan against the reference step loop: forward bitwise, gradients to float tolerance."""

import pytest
import torch

from skipsnn import lif_scan as ls
from skipsnn import neuron
from skipsnn.errors import ParameterError
from skipsnn.kernels import c_backend as cb
from skipsnn.neuron import Dynamic, LIFParams, channel_params, lif_multistep_reference

BACKENDS = ["torch"] + (["c"] if ls.c_backend_error() is None else [])
if "c" not in BACKENDS:  # make the missing backend visible in the report rather than silent
    BACKENDS.append(
        pytest.param("c", marks=pytest.mark.skip(reason=f"no C compiler: {ls.c_backend_error()}"))
    )

DYNAMICS = [Dynamic(0.2, 5.0, 2.0), Dynamic(0.0, 20.0, 1.0), Dynamic(-0.1, 3.0, 1.5)]


def _inputs(shape, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    # mean drive near threshold so that a good share of neurons spike and some do not
    return (1.2 + 1.5 * torch.randn(shape, generator=g)).to(dtype)


def _params(channels, trailing, v_reset=-0.3, dtype=torch.float32):
    p = channel_params(DYNAMICS, channels, v_th=1.0, v_reset=v_reset, trailing_dims=trailing)
    return p._replace(**{f: getattr(p, f).to(dtype) for f in ("a", "tau_m", "r_m")})


def _run(fn, x, p, v0, kind, learn, **kw):
    """Loss gradients of ``fn`` w.r.t. x, v0 and (if ``learn``) the dynamics."""
    x = x.clone().requires_grad_()
    leaves = [x]
    if v0 is not None:
        v0 = v0.clone().requires_grad_()
        leaves.append(v0)
    if learn:
        p = p._replace(**{f: getattr(p, f).clone().requires_grad_() for f in ("a", "tau_m", "r_m")})
        leaves += [p.a, p.tau_m, p.r_m]
    s, v = fn(x, p, dt=1.0, v0=v0, surrogate=kind, width=4.0, **kw)
    g = torch.Generator().manual_seed(99)
    ws = torch.randn(s.shape, generator=g, dtype=s.dtype)
    wv = torch.randn(v.shape, generator=g, dtype=v.dtype)
    loss = (s * ws).sum() + (v * wv).sum()
    grads = torch.autograd.grad(loss, leaves)
    return s.detach(), v.detach(), grads


SHAPES = [  # (shape [T, ...], channels, trailing dims of the parameters)
    ((9, 2, 6, 4, 3), 6, 2),  # conv layer [T, B, C, H, W]
    ((17, 5, 6), 6, 0),  # dense layer [T, B, N]
    ((1, 3, 6, 1, 1), 6, 2),  # one step, 1x1 feature map
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["fast_sigmoid", "arctan"])
@pytest.mark.parametrize("shape,channels,trailing", SHAPES)
def test_matches_reference_forward_and_input_gradient(backend, kind, shape, channels, trailing):
    x = _inputs(shape, seed=len(shape) + shape[0])
    p = _params(channels, trailing)
    sr, vr, (gr,) = _run(lif_multistep_reference, x, p, None, kind, False)
    sf, vf, (gf,) = _run(ls.lif_scan, x, p, None, kind, False, backend=backend)
    assert 0.05 < sr.mean() < 0.95  # the test exercises spikes and silence both
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    torch.testing.assert_close(gf, gr, rtol=1e-5, atol=1e-6)
    assert gr.abs().max() > 1e-3


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["fast_sigmoid", "arctan"])
def test_gradients_of_learnable_dynamics_and_v0(backend, kind):
    x = _inputs((11, 2, 6, 3, 3), seed=5)
    p = _params(6, 2, v_reset=0.1)
    v0 = _inputs((2, 6, 3, 3), seed=6)
    sr, vr, gr = _run(lif_multistep_reference, x, p, v0, kind, True)
    sf, vf, gf = _run(ls.lif_scan, x, p, v0, kind, True, backend=backend)
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    for name, a, b in zip(["x", "v0", "a", "tau_m", "r_m"], gf, gr, strict=True):
        assert a.shape == b.shape, name
        torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-5, msg=f"gradient wrt {name}")
        assert b.abs().max() > 1e-4, name


def test_scalar_dynamics_in_float64_on_the_torch_path():
    x = _inputs((13, 4, 7), seed=1, dtype=torch.float64)
    p = LIFParams(
        torch.tensor(0.3, dtype=torch.float64),
        torch.tensor(4.0, dtype=torch.float64),
        torch.tensor(2.0, dtype=torch.float64),
        v_th=0.8,
        v_reset=0.0,
    )
    assert ls.resolve_backend(x, "c") == "torch"  # the C kernel is float32 only
    sr, vr, gr = _run(lif_multistep_reference, x, p, None, "arctan", True)
    sf, vf, gf = _run(ls.lif_scan, x, p, None, "arctan", True, backend="c")
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    for a, b in zip(gf, gr, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inference_without_grad_matches(backend):
    x = _inputs((8, 3, 6, 5, 5), seed=3)
    p = _params(6, 2)
    with torch.no_grad():
        sr, vr = lif_multistep_reference(x, p)
        sf, vf = ls.lif_scan(x, p, backend=backend)
    assert not sf.requires_grad
    assert torch.equal(sf, sr) and torch.equal(vf, vr)


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_spike_output_used(backend):
    """Backward works when the final potential is not part of the loss (its grad is None)."""
    x = _inputs((6, 2, 6), seed=4)
    p = _params(6, 0)
    xr, xf = x.clone().requires_grad_(), x.clone().requires_grad_()
    lif_multistep_reference(xr, p)[0].sum().backward()
    ls.lif_scan(xf, p, backend=backend)[0].sum().backward()
    torch.testing.assert_close(xf.grad, xr.grad, rtol=1e-5, atol=1e-6)


def test_network_name_is_the_fused_scan():
    assert neuron.lif_multistep is ls.lif_scan


def test_bad_surrogate_backend_and_empty_sequence_raise_one_sentence():
    p = _params(6, 0)
    x = _inputs((3, 2, 6), seed=0)
    with pytest.raises(ParameterError, match="surrogate"):
        ls.lif_scan(x, p, surrogate="relu")
    with pytest.raises(ParameterError, match="backend"):
        ls.lif_scan(x, p, backend="cuda-magic")
    with pytest.raises(ParameterError, match="time axis"):
        ls.lif_scan(x[:0], p)


def test_backend_from_environment(monkeypatch):
    x = _inputs((3, 2, 6), seed=0)
    monkeypatch.setenv("SKIPSNN_LIF_BACKEND", "torch")
    assert ls.resolve_backend(x) == "torch"
    monkeypatch.setenv("SKIPSNN_LIF_BACKEND", "triton")  # no CUDA tensor: falls back
    assert ls.resolve_backend(x) == "torch"
    assert "torch" in ls.available_backends()


@pytest.mark.parametrize("save", ["full", "float16"])
def test_portable_c_build_from_a_fresh_cache(tmp_path, monkeypatch, save):
    """The build without -march=native (no F16C: scalar half conversions) gives the same numbers."""
    if ls.c_backend_error() is not None:
        pytest.skip(f"no C compiler: {ls.c_backend_error()}")
    target = tmp_path / "k.so"
    cb._compile(cb._C_FLAGS, target)
    assert target.exists() and not list(tmp_path.glob("tmp*"))  # written atomically
    import ctypes

    monkeypatch.setattr(cb, "_lib", cb._bind(ctypes.CDLL(str(target))))
    if save == "float16" and not hasattr(cb._lib, "lif_forward16"):
        pytest.skip("this compiler has neither F16C nor _Float16")
    assert ls.resolve_backend(torch.zeros(1), "c", save) == "c"
    x = _inputs((6, 2, 6, 4, 3), seed=40)
    p = _params(6, 2)
    sr, vr, (gr,) = _run(lif_multistep_reference, x, p, None, "arctan", False)
    sf, vf, (gf,) = _run(ls.lif_scan, x, p, None, "arctan", False, backend="c", save=save)
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    tol = {"full": (1e-5, 1e-6), "float16": (3e-3, 1e-4)}[save]
    torch.testing.assert_close(gf, gr, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_channels_last_input_keeps_its_layout(backend):
    """Convolutions in channels-last give [T, B, C, H, W] views with C innermost: no copy."""
    x = _inputs((7, 2, 6, 4, 5), seed=8)
    x_cl = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)  # same values, C fastest
    assert x_cl.stride(2) == 1
    p = _params(6, 2)
    sr, vr, (gr,) = _run(lif_multistep_reference, x, p, None, "arctan", False)
    sf, vf, (gf,) = _run(ls.lif_scan, x_cl, p, None, "arctan", False, backend=backend)
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    torch.testing.assert_close(gf, gr, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        s, _ = ls.lif_scan(x_cl, p, backend=backend)
    assert s.stride() == x_cl.stride()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["fast_sigmoid", "arctan"])
def test_half_precision_saved_state_halves_memory_with_small_gradient_error(backend, kind):
    x = _inputs((9, 2, 6, 4, 3), seed=12)
    p = _params(6, 2)
    sr, vr, (gr,) = _run(lif_multistep_reference, x, p, None, kind, False)
    sf, vf, (gf,) = _run(ls.lif_scan, x, p, None, kind, False, backend=backend, save="float16")
    assert torch.equal(sf, sr) and torch.equal(vf, vr)  # the forward is untouched
    torch.testing.assert_close(gf, gr, rtol=3e-3, atol=1e-4)
    s, _ = ls.lif_scan(x.clone().requires_grad_(), p, backend=backend, save="float16")
    assert s.grad_fn.saved_tensors[0].dtype == torch.float16


@pytest.mark.parametrize("backend", BACKENDS)
def test_half_precision_keeps_a_tiny_negative_margin_non_spiking(backend):
    """u just below v_th gives h ~ -1e-9, which is -0 in float16: it must still count as silent."""
    v_th = 0.01
    just_below = torch.nextafter(torch.tensor(v_th), torch.tensor(0.0))
    x = torch.stack([just_below.reshape(1), torch.zeros(1)])  # [T=2, N=1]
    p = LIFParams(torch.tensor(0.0), torch.tensor(2.0), torch.tensor(2.0), v_th=v_th, v_reset=0.0)
    for save in ("full", "float16"):
        xr = x.clone().requires_grad_()
        s, v = ls.lif_scan(xr, p, backend=backend, save=save)
        assert s.sum() == 0
        v.sum().backward()
        # dv[1]/dx[0] = decay when neither step spikes (zero if step 0 were taken as a spike)
        torch.testing.assert_close(xr.grad[0, 0], torch.exp(torch.tensor(-0.5)))


def test_bad_save_precision_raises():
    with pytest.raises(ParameterError, match="save precision"):
        ls.lif_scan(_inputs((3, 2, 6), seed=0), _params(6, 0), save="int8")


def _shaped_params(kind: str) -> LIFParams:
    """Scalar, per-channel [C, 1, 1], per-width [W] and per-neuron [C, H, W] dynamics."""
    g = torch.Generator().manual_seed(21)
    shape = {"scalar": (), "channel": (6, 1, 1), "last_dim": (3,), "neuron": (6, 4, 3)}[kind]
    return LIFParams(
        0.3 * torch.rand(shape, generator=g) - 0.1,
        1.5 + 8 * torch.rand(shape, generator=g),
        0.5 + 3 * torch.rand(shape, generator=g),
        v_th=1.0,
        v_reset=-0.2,
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["scalar", "channel", "last_dim", "neuron"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_parameter_shapes_and_layouts(backend, kind, layout):
    x = _inputs((5, 2, 6, 4, 3), seed=30)
    if layout == "channels_last":
        x = x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
    p = _shaped_params(kind)
    sr, vr, gr = _run(lif_multistep_reference, x, p, None, "fast_sigmoid", True)
    sf, vf, gf = _run(ls.lif_scan, x, p, None, "fast_sigmoid", True, backend=backend)
    assert torch.equal(sf, sr) and torch.equal(vf, vr)
    for a, b in zip(gf, gr, strict=True):
        torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-5)
