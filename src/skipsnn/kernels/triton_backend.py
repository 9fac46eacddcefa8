"""The Triton backend (GPU). Unverified: no GPU was available while it was written.

Imports ``triton`` at module level: `skipsnn.lif_scan` imports this module only when the
Triton backend is asked for.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from . import SURROGATE_CODE


@triton.jit
def _fwd(x, a, d, g, v, s, h, T, N, vth, vreset, KEEP_H: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = i < N
    ai = tl.load(a + i, mask=ok, other=0.0)
    di = tl.load(d + i, mask=ok, other=0.0)
    gi = tl.load(g + i, mask=ok, other=0.0)
    vi = tl.load(v + i, mask=ok, other=0.0)
    for t in range(T):
        xt = tl.load(x + t * N + i, mask=ok, other=0.0)
        u = ai + (vi - ai) * di
        u = u + gi * xt
        spk = u >= vth
        tl.store(s + t * N + i, tl.where(spk, 1.0, 0.0), mask=ok)
        if KEEP_H:
            tl.store(h + t * N + i, u - vth, mask=ok)
        vi = tl.where(spk, vreset, u)
    tl.store(v + i, vi, mask=ok)


@triton.jit
def _bwd(gs, h, d, scale, gpost, out, T, N, width, KIND: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = i < N
    di = tl.load(d + i, mask=ok, other=0.0)
    sc = tl.load(scale + i, mask=ok, other=0.0)
    gp = tl.load(gpost + i, mask=ok, other=0.0)
    for k in range(T):
        t = T - 1 - k
        hh = tl.load(h + t * N + i, mask=ok, other=0.0)
        gst = tl.load(gs + t * N + i, mask=ok, other=0.0)
        if KIND == 0:
            q = 1.0 + width * tl.abs(hh)
            sg = 1.0 / (q * q)
        else:
            z = 1.5707963267948966 * width * hh
            sg = (0.5 * width) / (1.0 + z * z)
        gcur = tl.where(hh >= 0, 0.0, gp) + gst * sg
        tl.store(out + t * N + i, gcur * sc, mask=ok)
        gp = gcur * di
    tl.store(gpost + i, gp, mask=ok)


def _full(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A parameter broadcast to the state shape, as its own contiguous float buffer."""
    return t.detach().expand(shape).contiguous()


def _cdiv(n: int, block: int) -> int:
    return (n + block - 1) // block


def forward(x, a, decay, gain, v0, v_th, v_reset, save):
    state, n, block = x.shape[1:], math.prod(x.shape[1:]), 1024
    x = x.contiguous()
    v = v0.detach().expand(state).clone(memory_format=torch.contiguous_format)
    s = torch.empty_like(x)
    keep_h = save is not None  # saved in float32 whatever ``save`` asks
    h = torch.empty_like(x) if keep_h else s  # a dummy pointer when KEEP_H is off
    af, df, gf = _full(a, state), _full(decay, state), _full(gain, state)
    grid = (_cdiv(n, block),)
    _fwd[grid](x, af, df, gf, v, s, h, x.shape[0], n, float(v_th), float(v_reset), keep_h, block)
    return s, (h if keep_h else None), v


def backward(gs, gv, h, decay, gain, kind, width, want_g):
    state, n, block = h.shape[1:], math.prod(h.shape[1:]), 1024
    gs = torch.zeros_like(h) if gs is None else gs.contiguous()
    gpost = torch.zeros(state, dtype=h.dtype, device=h.device) if gv is None else gv
    gpost = gpost.expand(state).contiguous().clone()
    out = torch.empty_like(h)
    df = _full(decay, state)
    scale = torch.ones(state, dtype=h.dtype, device=h.device) if want_g else _full(gain, state)
    grid = (_cdiv(n, block),)
    _bwd[grid](
        gs, h, df, scale, gpost, out, h.shape[0], n, float(width), SURROGATE_CODE[kind], block
    )
    return out, gpost
