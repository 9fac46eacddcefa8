r"""Convolution, linear layer and average pooling that keep less for the backward pass.

Autograd's ``conv2d`` and ``linear`` keep their float input until the backward pass, and
``adaptive_avg_pool2d`` keeps its whole input although its backward needs only the
input's shape. In an mMND network those inputs are mostly spike tensors, whose values
are exactly 0 or 1, and the first layer's input holds small event counts. So:

- `conv2d` and `linear` compute exactly what ``F.conv2d`` / ``F.linear`` compute, but
  save their input as ``uint8`` (1 byte instead of 4) whenever that is lossless: every
  value is an integer in ``[0, 255]`` and converting back gives the **same bits** (so
  ``-0.0``, NaN, fractions and large counts keep the float tensor). The backward turns
  the saved bytes back into the same float tensor (same values, same strides) and calls
  the kernels autograd would call (``aten.convolution_backward``, once per gradient so
  that the rebuilt input is freed before the input's gradient is allocated; the matrix
  products of ``addmm``'s backward), so gradients are bitwise those of plain autograd.
- `avg_pool` is ``F.adaptive_avg_pool2d`` whose backward keeps only the input's shape
  and strides (the kernel reads nothing else), not its values.

Outside autograd (``torch.no_grad()`` or nothing requires a gradient) they are the
plain functions: nothing is saved, so nothing is compressed.

Under `skipsnn.determinism.deterministic` the weight gradients (and the linear layer's
forward product) run on one thread, so they do not depend on the thread count.

Memory kept per input element: 1 byte for binary spikes or counts <= 255 instead of
4 (float32); 0 for pooled inputs instead of 4.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .determinism import enabled as _deterministic
from .determinism import serial

# Elements per slice when checking that a compression is exact: bounds the temporary
# float copy of the check to a few MiB whatever the tensor's size.
_CHECK_CHUNK = 1 << 20
_SAME_SIZE_INT = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def compress(x: torch.Tensor) -> torch.Tensor:
    """``x`` as ``uint8`` when that round-trips to the same bits, else ``x`` itself.

    The ``uint8`` copy keeps ``x``'s strides (contiguous or channels-last), so
    ``compress(x).to(x.dtype)`` is then equal to ``x`` bit for bit, layout included.
    """
    if not x.is_floating_point() or x.numel() == 0 or x.element_size() not in _SAME_SIZE_INT:
        return x
    dense = x.is_contiguous() or (
        x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    )
    if not dense:  # other layouts would come back contiguous: not the same tensor
        return x
    q = x.to(torch.uint8)  # preserve_format: same strides as x
    as_int = _SAME_SIZE_INT[x.element_size()]
    rows = max(1, _CHECK_CHUNK // max(1, x[0].numel())) if x.dim() else 1
    xs, qs = (x, q) if x.dim() else (x.reshape(1), q.reshape(1))
    for i in range(0, xs.shape[0], rows):
        back = qs[i : i + rows].to(x.dtype)
        if not torch.equal(back.view(as_int), xs[i : i + rows].view(as_int)):
            return x
    return q


def decompress(saved: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Inverse of `compress` (a no-op when nothing was compressed)."""
    return saved if saved.dtype == dtype else saved.to(dtype)


def _tracked(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class _Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, stride, padding, source, rebuild):
        ctx.stride, ctx.padding, ctx.dtype = stride, padding, x.dtype
        ctx.geometry, ctx.rebuild = (x.shape, x.stride()), rebuild
        ctx.serial = _deterministic()  # read now: the backward may run on another thread
        ctx.save_for_backward(compress(x) if source is None else source, weight)
        return F.conv2d(x, weight, None, stride, padding)

    @staticmethod
    def backward(ctx, grad):
        saved, weight = ctx.saved_tensors
        # Under autocast the forward ran in grad's dtype (bfloat16/float16): so does this;
        # autograd casts the gradients back to the inputs' dtypes.
        dtype = grad.dtype
        weight = weight.to(dtype)
        args = (ctx.stride, ctx.padding, [1, 1], False, [0, 0], 1)
        gx = gw = None
        # One kernel call per gradient, the weight's first: the float input rebuilt for it
        # is freed before the input's gradient (as large) is allocated.
        if ctx.needs_input_grad[1]:
            x = decompress(saved, ctx.dtype) if ctx.rebuild is None else ctx.rebuild(saved)
            x = x.to(dtype)
            with serial(ctx.serial):  # its sum over positions is split across threads
                _, gw, _ = torch.ops.aten.convolution_backward(
                    grad, x, weight, None, *args, [False, True, False]
                )
            del x
        if ctx.needs_input_grad[0]:
            # The input's gradient reads only the input's geometry, not its values.
            like = torch.empty_strided(*ctx.geometry, dtype=dtype, device=saved.device)
            gx, _, _ = torch.ops.aten.convolution_backward(
                grad, like, weight, None, *args, [True, False, False]
            )
        return gx, gw, None, None, None, None


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    source: tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]] | None = None,
) -> torch.Tensor:
    """``F.conv2d(x, weight, None, stride, padding)`` saving ``x`` compressed if lossless.

    ``source=(y, rebuild)`` with ``rebuild(y)`` equal to ``x`` (same bits, same strides)
    saves a reference to ``y`` instead: nothing at all while the caller holds ``y``, as
    for a network's input frames, of which ``x`` is a re-laid-out copy.
    """
    if not _tracked(x, weight):
        return F.conv2d(x, weight, None, stride, padding)
    y, rebuild = (None, None) if source is None else source
    return _Conv2d.apply(x, weight, list(stride), list(padding), y, rebuild)


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.dtype, ctx.has_bias = x.dtype, bias is not None
        ctx.serial = _deterministic()
        ctx.save_for_backward(compress(x), weight)
        with serial(ctx.serial):
            return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        with serial(ctx.serial):  # gw sums over all N rows: MKL splits that across threads
            return _Linear._backward(ctx, grad)

    @staticmethod
    def _backward(ctx, grad):
        saved, weight = ctx.saved_tensors
        weight = weight.to(grad.dtype)  # under autocast: the forward's dtype (see _Conv2d)
        gx = gw = gb = None
        # The products of addmm's backward for F.linear's addmm(bias, x, weight.t()).
        if ctx.needs_input_grad[0]:
            gx = grad.mm(weight)
        if ctx.needs_input_grad[1]:
            gw = grad.t().mm(decompress(saved, ctx.dtype).to(grad.dtype))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = grad.sum(0)
        return gx, gw, gb


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear`` for ``[N, in]`` inputs, saving ``x`` compressed if lossless."""
    if x.dim() != 2 or not _tracked(x, weight, bias):
        with serial():
            return F.linear(x, weight, bias)
    return _Linear.apply(x, weight, bias)


class _AvgPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, size):
        ctx.shape, ctx.strides, ctx.dtype = x.shape, x.stride(), x.dtype
        return torch.ops.aten._adaptive_avg_pool2d(x, size)

    @staticmethod
    def backward(ctx, grad):
        # The backward kernel reads only the input's sizes and memory format, so an
        # uninitialised tensor of the same geometry stands in for the input.
        like = torch.empty_strided(ctx.shape, ctx.strides, dtype=ctx.dtype, device=grad.device)
        return torch.ops.aten._adaptive_avg_pool2d_backward(grad, like), None


def avg_pool(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """``F.adaptive_avg_pool2d(x, size)`` for ``[N, C, H, W]`` whose backward keeps no input."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    # A 1x1 output is computed by torch as a mean (another kernel): leave it to autograd.
    if x.dim() != 4 or size == (1, 1) or not _tracked(x):
        return F.adaptive_avg_pool2d(x, size)
    return _AvgPool.apply(x, list(size))


class _Flatten(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.shape, ctx.channels_last = x.shape, _channels_last(x)
        return x.flatten(1)

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(ctx.shape)
        return g.contiguous(memory_format=torch.channels_last) if ctx.channels_last else g


def _channels_last(x: torch.Tensor) -> bool:
    return (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )


def flatten(x: torch.Tensor) -> torch.Tensor:
    """``x.flatten(1)`` whose gradient comes back in ``x``'s layout (channels-last or not).

    Autograd's gradient of a flattened channels-last tensor is contiguous; the LIF scan
    that made the spikes would then copy it into its own layout inside its backward,
    where its input gradient, its output gradient and its saved state are all alive.
    """
    if x.dim() != 4 or not _tracked(x) or not _channels_last(x):
        return x.flatten(1)
    return _Flatten.apply(x)
