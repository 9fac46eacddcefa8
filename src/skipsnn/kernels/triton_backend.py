"""The Triton backend: the C kernel's two scans as Triton kernels, for CUDA tensors.

Imports ``triton`` at module level, so `skipsnn.lif_scan` imports this module only when the
Triton backend is asked for. ``triton.jit`` decides when this module is imported whether the
kernels are compiled or run by Triton's interpreter (``TRITON_INTERPRET=1``): `INTERPRETED`
records which. Interpreted kernels take CPU tensors too; that is how the tests check them
against the reference on machines without a GPU (numpy stands in for the GPU there, so the
results are those of IEEE float32 without fused multiply-adds, which the launch below also
asks of the compiler).

The layout handling is the C backend's: any dense time-major ``x`` is read as a flat
``[T, N]`` array in its own memory order (channels-last outputs keep their layout), and
parameters stay compact (neuron ``i`` reads element ``(i // pstride) % psize``). Float32 only;
``h`` may be kept in float16 (same rounding and the same negative margin as the C kernel).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from . import SURROGATE_CODE
from .layout import compact, forward_buffers, like

BLOCK = 1024  # neurons per program
_HALF_MARGIN = tl.constexpr(2.0**-24)  # the least float16 magnitude: h < 0 stays < 0


@triton.jit
def _forward_kernel(
    x, a, d, g, v, s, h, T, N, pstride, psize, vth, vreset,
    ZERO_A: tl.constexpr, KEEP_H: tl.constexpr, HALF: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = i < N
    j = (i // pstride) % psize
    ai = tl.load(a + j, mask=ok, other=0.0)
    di = tl.load(d + j, mask=ok, other=0.0)
    gi = tl.load(g + j, mask=ok, other=0.0)
    vi = tl.load(v + i, mask=ok, other=0.0)
    xp, sp, hp = x + i, s + i, h + i  # pointers advance by N per step (no t * N overflow)
    for _ in range(T):
        xt = tl.load(xp, mask=ok, other=0.0)
        # the reference's order: (a + (v - a) * d) + g * x
        if ZERO_A:
            u = vi * di
        else:
            u = ai + (vi - ai) * di
        u = u + gi * xt
        spk = u >= vth
        tl.store(sp, tl.where(spk, 1.0, 0.0), mask=ok)
        if KEEP_H:
            hh = u - vth
            if HALF:  # a negative h must stay negative once rounded to float16
                hh = tl.where((hh < 0.0) & (hh > -_HALF_MARGIN), -_HALF_MARGIN, hh)
            tl.store(hp, hh.to(hp.dtype.element_ty), mask=ok)
            hp += N
        vi = tl.where(spk, vreset, u)
        xp += N
        sp += N
    tl.store(v + i, vi, mask=ok)


@triton.jit
def _backward_kernel(
    gs, h, d, scale, gpost, out, T, N, last, pstride, psize, width,
    KIND: tl.constexpr, HAS_GS: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = i < N
    j = (i // pstride) % psize
    di = tl.load(d + j, mask=ok, other=0.0)
    sc = tl.load(scale + j, mask=ok, other=0.0)
    gp = tl.load(gpost + i, mask=ok, other=0.0)
    hp, gsp, op = h + last + i, gs + last + i, out + last + i  # from the last step back
    for _ in range(T):
        hh = tl.load(hp, mask=ok, other=0.0).to(tl.float32)
        # g[n] = (1 - s[n]) g[n+1] d + dL/ds[n] sg(h[n]); gp holds g[n+1] d
        gcur = tl.where(hh >= 0.0, 0.0, gp)
        if HAS_GS:
            if KIND == 0:  # fast_sigmoid
                q = 1.0 + width * tl.abs(hh)
                sg = 1.0 / (q * q)
            else:  # arctan
                z = 1.5707963267948966 * width * hh
                sg = (0.5 * width) / (1.0 + z * z)
            gcur = gcur + tl.load(gsp, mask=ok, other=0.0) * sg
            gsp -= N
        tl.store(op, gcur * sc, mask=ok)
        gp = gcur * di
        hp -= N
        op -= N
    tl.store(gpost + i, gp, mask=ok)


def _interpreted() -> bool:
    try:
        from triton.runtime.interpreter import InterpretedFunction
    except ImportError:  # a Triton without the interpreter compiles every kernel
        return False
    return isinstance(_forward_kernel, InterpretedFunction)


INTERPRETED = _interpreted()


def _grid(n: int) -> tuple[int]:
    return (triton.cdiv(n, BLOCK),)


def forward(x, a, decay, gain, v0, v_th, v_reset, save):
    x, v, s, h, zero_a, (af, df, gf), pstride, psize = forward_buffers(x, a, decay, gain, v0, save)
    n = x[0].numel()
    _forward_kernel[_grid(n)](
        x, af, df, gf, v, s, s if h is None else h, x.shape[0], n, pstride, psize,
        float(v_th), float(v_reset), ZERO_A=zero_a, KEEP_H=h is not None,
        HALF=save == torch.float16, BLOCK=BLOCK, enable_fp_fusion=False,
    )  # fmt: skip
    return s, h, v


def backward(gs, gv, h, decay, gain, kind, width, want_g):
    """``(dL/dx or g, dL/dv0)``; ``g`` unscaled when ``want_g`` (parameter gradients need it)."""
    h0, f32 = h[0], torch.float32
    if gs is not None and (gs.stride() != h.stride() or gs.dtype != f32):
        gs = like(gs, h, f32)
    gpost = torch.zeros_like(h0, dtype=f32) if gv is None else like(gv, h0, f32)
    out = torch.empty_like(h, dtype=f32)
    scale = torch.ones((), dtype=f32, device=h.device) if want_g else gain
    (df, sf), pstride, psize = compact([decay, scale], h0)
    n = h0.numel()
    _backward_kernel[_grid(n)](
        out if gs is None else gs, h, df, sf, gpost, out, h.shape[0], n, (h.shape[0] - 1) * n,
        pstride, psize, float(width), KIND=SURROGATE_CODE[kind], HAS_GS=gs is not None,
        BLOCK=BLOCK, enable_fp_fusion=False,
    )  # fmt: skip
    return out, gpost
