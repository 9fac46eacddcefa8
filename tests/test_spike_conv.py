"""spike_conv: the same outputs and gradients as plain autograd, with less kept for backward."""

import types

import pytest
import torch
import torch.nn.functional as F

from skipsnn import network, spike_conv
from skipsnn.config import Config


def saved_tensors(fn):
    """Run ``fn`` and return (its result, the tensors autograd saved for backward)."""
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, saved


def bits(t):
    return t.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


# -- compress ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("channels_last", [False, True])
def test_compress_keeps_binary_and_counts_as_bytes_with_the_same_bits(dtype, channels_last):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 4, 5, 6), generator=g).to(dtype)
    x[0] = (x[0] > 128).to(dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    q = spike_conv.compress(x)
    assert q.dtype == torch.uint8 and q.stride() == x.stride()
    back = spike_conv.decompress(q, dtype)
    assert back.stride() == x.stride() and torch.equal(bits(back), bits(x))


@pytest.mark.parametrize("bad", [0.5, 256.0, -1.0, -0.0, float("nan"), float("inf")])
def test_compress_keeps_the_float_tensor_when_bytes_would_lose_anything(bad):
    x = torch.zeros(2_100_000)  # several check slices: the odd value sits in the last one
    x[::7] = 1.0
    x[-3] = bad
    assert spike_conv.compress(x) is x


def test_compress_leaves_non_dense_layouts_and_integers_alone():
    x = torch.ones(4, 6)[:, ::2]  # strided view: a uint8 copy would come back contiguous
    assert spike_conv.compress(x) is x
    i = torch.ones(3, dtype=torch.int64)
    assert spike_conv.compress(i) is i


# -- the single ops against autograd, bitwise ----------------------------------------------


def spikes(shape, seed, p=0.2):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < p).float()


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("stride,padding,kernel", [((2, 2), (1, 1), 3), ((1, 1), (0, 0), 1)])
def test_conv2d_equals_autograd_bitwise_and_saves_bytes(channels_last, stride, padding, kernel):
    x = spikes((6, 3, 9, 9), 1)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(5, 3, kernel, kernel, generator=torch.Generator().manual_seed(2))
    g = torch.randn_like(F.conv2d(x, w, None, stride, padding))
    results = []
    for fn in (F.conv2d, None):
        xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
        if fn is None:
            y, saved = saved_tensors(
                lambda xr=xr, wr=wr: spike_conv.conv2d(xr, wr, stride, padding)
            )
            assert any(t.dtype == torch.uint8 and t.shape == x.shape for t in saved)
            assert not any(t.is_floating_point() and t.shape == x.shape for t in saved)
        else:
            y = fn(xr, wr, None, stride, padding)
        y.backward(g)
        results.append((y, xr.grad, wr.grad))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


def test_conv2d_on_counts_without_input_grad_and_on_fractions():
    w = torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(3), requires_grad=True)
    for x in (torch.randint(0, 40, (5, 2, 8, 8)).float(), torch.rand(5, 2, 8, 8)):
        y0 = F.conv2d(x, w, None, (1, 1), (1, 1))
        (gw0,) = torch.autograd.grad(y0.square().sum(), w)
        y1, saved = saved_tensors(lambda x=x: spike_conv.conv2d(x, w, (1, 1), (1, 1)))
        (gw1,) = torch.autograd.grad(y1.square().sum(), w)
        assert torch.equal(y0, y1) and torch.equal(gw0, gw1)
        integral = bool((x == x.round()).all())
        assert any(t.dtype == (torch.uint8 if integral else torch.float32) for t in saved)


def test_linear_equals_autograd_bitwise():
    x = spikes((40, 30), 4)
    w = torch.randn(7, 30, generator=torch.Generator().manual_seed(5))
    b = torch.randn(7, generator=torch.Generator().manual_seed(6))
    g = torch.randn(40, 7, generator=torch.Generator().manual_seed(7))
    results = []
    for fn in (F.linear, spike_conv.linear):
        xr, wr, br = (t.clone().requires_grad_() for t in (x, w, b))
        y, saved = saved_tensors(lambda fn=fn, xr=xr, wr=wr, br=br: fn(xr, wr, br))
        y.backward(g)
        results.append((y, xr.grad, wr.grad, br.grad))
    assert any(t.dtype == torch.uint8 for t in saved)
    for a, c in zip(*results, strict=True):
        assert torch.equal(a, c)


@pytest.mark.parametrize("size", [(3, 3), (4, 2), 5])
def test_avg_pool_equals_autograd_bitwise_and_keeps_no_input(size):
    x = torch.rand(4, 3, 10, 10).contiguous(memory_format=torch.channels_last)
    g = torch.randn_like(F.adaptive_avg_pool2d(x, size))
    xr0, xr1 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y0 = F.adaptive_avg_pool2d(xr0, size)
    y1, saved = saved_tensors(lambda: spike_conv.avg_pool(xr1, size))
    assert saved == []
    y0.backward(g)
    y1.backward(g)
    assert torch.equal(y0, y1) and torch.equal(xr0.grad, xr1.grad)
    assert xr0.grad.stride() == xr1.grad.stride()


def test_flatten_gives_the_gradient_in_the_layout_of_its_input():
    x = torch.rand(3, 4, 5, 6).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = spike_conv.flatten(x)
    assert torch.equal(y, x.detach().flatten(1))
    g = torch.randn_like(y)
    y.backward(g)
    assert x.grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(x.grad, g.reshape(x.shape))


def test_plain_functions_under_no_grad():
    x, w = spikes((2, 3, 5, 5), 8), torch.randn(4, 3, 3, 3, requires_grad=True)
    with torch.no_grad():
        y = spike_conv.conv2d(x, w, (1, 1), (1, 1))
    assert y.grad_fn is None and torch.equal(y, F.conv2d(x, w.detach(), None, 1, 1))


# -- the whole network against plain autograd ----------------------------------------------


def tiny(layers, skip, pool=None, **net):
    return Config.from_dict(
        {
            "dataset": {"name": "gestures", "size": 12},
            "network": {
                "layers": [{"channels": c, "kernel": 3, "stride": s} for c, s in layers],
                "skip": dict(zip(("n_skip", "l_start", "l_end"), skip, strict=True)),
                "dynamics": [
                    {"a": 0.0, "tau_m": 2.0, "r_m": 3.0},
                    {"a": 0.1, "tau_m": 6.0, "r_m": 9.0},
                ],
                "readout": {"tau_m": 4.0, "pool": pool},
                **net,
            },
        }
    )


PLAIN_OPS = types.SimpleNamespace(
    conv2d=lambda x, w, stride=(1, 1), padding=(0, 0), source=None: F.conv2d(
        x, w, None, stride, padding
    ),
    linear=F.linear,
    avg_pool=F.adaptive_avg_pool2d,
    flatten=lambda x: x.flatten(1),
)

CONFIGS = {
    # the default shape: a skip from the input (no grad) into layer 2
    "input-skip": tiny([(6, 2), (8, 2)], (1, 0, 2)),
    # skips from spiking layers with pooling, pooled readout
    "spike-skips-pooled": tiny([(6, 1), (8, 2), (5, 1), (7, 2)], (2, 1, 4), pool=2),
    # same-size skip (a 1x1 conv on the spikes themselves), learnable dynamics
    "learnable": tiny([(5, 1), (6, 1), (4, 1)], (1, 1, 3), learn_dynamics=True),
}


def run(cfg, x, y, dtype, ops=None, layout=None, monkeypatch=None):
    torch.manual_seed(0)
    net = network.build_network(cfg).to(dtype)
    with torch.no_grad():
        for conv in net.convs:
            conv.weight.mul_(3.0)  # every layer spikes
    with monkeypatch.context() as mp:
        if ops is not None:
            mp.setattr(network, "spike_conv", ops)
        if layout is not None:
            mp.setattr(network, "time_major_channels_last", layout)
        fw, saved = saved_tensors(lambda: net(x.to(dtype), record=True))
        F.cross_entropy(fw.logits, y).backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None for g in grads.values())
    return fw, grads, sum(t.numel() * t.element_size() for t in saved)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_network_equals_plain_autograd_bitwise(name, monkeypatch):
    cfg = CONFIGS[name]
    x = spikes((3, 5, 2, 12, 12), 9, p=0.3)
    y = torch.tensor([0, 4, 7])
    fw0, g0, bytes0 = run(cfg, x, y, torch.float32, ops=PLAIN_OPS, monkeypatch=monkeypatch)
    fw1, g1, bytes1 = run(cfg, x, y, torch.float32, monkeypatch=monkeypatch)
    assert all(s.sum() > 0 and s.mean() < 1 for s in fw1.spikes)  # a real test
    assert torch.equal(fw0.logits, fw1.logits)
    assert all(torch.equal(a, b) for a, b in zip(fw0.spikes, fw1.spikes, strict=True))
    for n in g0:
        assert torch.equal(g0[n], g1[n]), n
    assert bytes1 < 0.8 * bytes0  # and it really keeps less for the backward pass


@pytest.mark.parametrize("name", list(CONFIGS))
def test_channels_last_network_matches_the_contiguous_layout(name, monkeypatch):
    # float64, so that the convolutions' other summation order cannot flip a spike.
    def contiguous(x):
        b, t = x.shape[:2]
        return x.transpose(0, 1).reshape(t * b, *x.shape[2:])

    cfg = CONFIGS[name]
    x = spikes((3, 5, 2, 12, 12), 10, p=0.3)
    y = torch.tensor([1, 2, 3])
    ops = dict(ops=PLAIN_OPS, monkeypatch=monkeypatch)
    fw0, g0, _ = run(cfg, x, y, torch.float64, layout=contiguous, **ops)
    fw1, g1, _ = run(cfg, x, y, torch.float64, **ops)
    assert fw1.spikes[0].stride(2) == 1 != fw0.spikes[0].stride(2)  # channels innermost
    assert all(torch.equal(a, b) for a, b in zip(fw0.spikes, fw1.spikes, strict=True))
    torch.testing.assert_close(fw0.logits, fw1.logits, rtol=1e-12, atol=1e-14)
    for n in g0:
        torch.testing.assert_close(g0[n], g1[n], rtol=1e-9, atol=1e-12, msg=n)
