"""Heaviside step with a surrogate gradient, for BPTT through spiking layers.

Forward: ``H(x) = 1 if x >= 0 else 0`` (x = v - v_th).
Backward, with width ``w`` (larger ``w`` = sharper):

- ``fast_sigmoid``: dH/dx ~ 1 / (1 + w |x|)^2            (SuperSpike, Zenke & Ganguli 2018)
- ``arctan``:       dH/dx ~ (w / 2) / (1 + (pi w x / 2)^2) (Fang et al. 2021)
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from .errors import ParameterError, check_choice

if TYPE_CHECKING:  # torch is imported on first use, so `import skipsnn.config` stays light
    import torch

SURROGATES = ("fast_sigmoid", "arctan")


def surrogate_grad(x: torch.Tensor, kind: str, width: float) -> torch.Tensor:
    """The surrogate derivative dH/dx evaluated at ``x``."""
    check_choice("surrogate", kind, SURROGATES, ParameterError)
    if kind == "fast_sigmoid":
        return 1.0 / (1.0 + width * x.abs()) ** 2
    return (width / 2) / (1.0 + (math.pi / 2 * width * x) ** 2)  # arctan


@functools.cache
def _heaviside_function():
    import torch

    class _Heaviside(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, kind, width):
            ctx.save_for_backward(x)
            ctx.kind, ctx.width = kind, width
            return (x >= 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * surrogate_grad(x, ctx.kind, ctx.width), None, None

    return _Heaviside


def heaviside(x: torch.Tensor, kind: str = "fast_sigmoid", width: float = 10.0) -> torch.Tensor:
    """Spike function: exact step forward, surrogate derivative backward."""
    check_choice("surrogate", kind, SURROGATES, ParameterError)
    return _heaviside_function().apply(x, kind, float(width))
