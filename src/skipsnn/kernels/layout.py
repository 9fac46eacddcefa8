"""Memory-layout helpers shared by the C and Triton wrappers (no compiled code here)."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch


def ptr(t: torch.Tensor | None) -> int | None:
    """The tensor's data pointer (None for None: a NULL pointer through ctypes)."""
    return None if t is None else t.data_ptr()


def time_major_dense(x: torch.Tensor) -> bool:
    """Whether ``x[t]`` are consecutive blocks of ``N`` elements, each dense in some order.

    Then the kernel can treat ``x`` as a flat ``[T, N]`` array whatever the order of the
    other dimensions (e.g. channels-last convolution outputs), and no copy is needed.
    """
    if x.shape[0] > 1 and x.stride(0) != math.prod(x.shape[1:]):
        return False
    expect = 1
    for stride, size in sorted(
        (st, sz) for st, sz in zip(x.stride()[1:], x.shape[1:], strict=True) if sz > 1
    ):
        if stride != expect:
            return False
        expect *= size
    return True


def like(t: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``t`` broadcast to ``ref``'s shape in a new buffer laid out in ``ref``'s memory order."""
    out = torch.empty_like(ref, dtype=dtype)
    out.copy_(t.detach().expand(ref.shape))
    return out


def compact(params: list[torch.Tensor], x0: torch.Tensor):
    """Parameters as the kernels read them: ``(arrays, stride, size)``.

    Neuron ``i`` (in ``x0``'s memory order) uses element ``(i // stride) % size``. When all
    parameters vary along at most one dimension of ``x0`` (per-channel dynamics, or one
    dynamic) they stay that small; otherwise they are expanded to one value per neuron.
    """
    shapes = [(1,) * (x0.dim() - t.dim()) + tuple(t.shape) for t in params]
    varying = {i for shape in shapes for i, size in enumerate(shape) if size > 1}
    if len(varying) > 1:
        return [like(t, x0, t.dtype) for t in params], 1, x0.numel()
    if not varying:
        return [t.detach().reshape(1) for t in params], 1, 1
    (dim,) = varying
    size = x0.shape[dim]
    # a parameter varying along ``dim`` lists its values in order; a constant one repeats
    out = [
        (t.detach().reshape(-1) if t.numel() == size else t.detach().reshape(1).expand(size))
        for t in params
    ]
    return [t.contiguous() for t in out], x0.stride(dim), size


class ForwardBuffers(NamedTuple):
    """What a compiled forward scan reads and writes, laid out alike (`forward_buffers`)."""

    x: torch.Tensor  # the input, time-major and dense
    v: torch.Tensor  # the potential, initialized from v0, in x[0]'s memory order
    s: torch.Tensor  # spikes, like x
    h: torch.Tensor | None  # u - v_th kept for the backward (None: not kept)
    zero_a: bool  # every resting potential is 0 (a cheaper update)
    params: list[torch.Tensor]  # a, decay, gain compacted (`compact`)
    pstride: int
    psize: int


def forward_buffers(x, a, decay, gain, v0, save) -> ForwardBuffers:
    """The buffers of the C and Triton forward kernels for input ``x [T, ...]``."""
    if not time_major_dense(x):
        x = x.contiguous()
    x0 = x[0]  # every per-neuron buffer below shares x[0]'s memory order
    h = None if save is None else torch.empty_like(x, dtype=save)
    params, pstride, psize = compact([a, decay, gain], x0)
    zero_a = not bool(a.detach().any())
    return ForwardBuffers(x, like(v0, x0), torch.empty_like(x), h, zero_a, params, pstride, psize)
