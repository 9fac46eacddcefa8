r"""The STDP learning rule: traces, the trace-based pair rule on shared conv kernels.

**Traces.** Every synapse side keeps an exponentially decaying trace of its spikes::

    x_pre[n]  = x_pre[n-1]  exp(-dt / tau_pre)  + s_pre[n]
    x_post[n] = x_post[n-1] exp(-dt / tau_post) + s_post[n]

**Pair rule** (all-to-all, trace based) on a convolution with shared kernels. With
``U(.)`` the unfold (im2col) of a presynaptic map into kernel-sized patches, and sums
over the batch ``b``, output positions ``l`` and steps ``n``::

    P[o, i] = sum_{n,b,l} s_post[n, b, o, l] * U(x_pre[n])[b, i, l]        (pre before post)
    D[o, i] = sum_{n,b,l} x_post^-[n, b, o, l] * U(s_pre[n])[b, i, l]      (post before pre)
    dW = A+ (w_max - w)^mu * P / N_o  -  (A- D / N_o + A+ x_tar [N_o > 0]) (w - w_min)^mu

``N_o = max(1, number of spikes of output channel o in the batch)``: each channel moves
by the *average* pairing of its own spikes, so the step does not grow with the batch
size or the map size, and a silent channel does not move. A pre and a post spike in the
same step count as causal (the network has no synaptic delay, so that input spike helped
cause the output spike); depression uses the post trace from the step before, so no pair
is counted twice: ``x_post^-[n] = x_post[n-1] exp(-dt / tau_post)`` is the post trace
at step ``n`` just before that step's post spikes. So a pre spike ``k`` steps before a
post spike potentiates by ``A+ (w_max - w)^mu exp(-k dt / tau_pre)``, and a post spike
``k`` steps before a pre spike depresses by ``A- (w - w_min)^mu exp(-k dt / tau_post)``.
``x_tar`` (default 0.5; 0 gives the pure pair rule) is the presynaptic target of Diehl & Cook
(2015): every post spike also depresses each synapse by ``A+ x_tar``, so inputs whose
trace at the post spike is below ``x_tar`` weaken. Without it, all-to-all pairs under
sustained input nearly cancel and inputs silent at the post spike never change, so
kernels do not become selective. ``mu`` sets the weight dependence (0: additive, 1:
multiplicative soft bounds); weights are also clipped to ``[w_min, w_max]`` after every update, so they stay
in bounds whatever the step size.


The competition and adaptive thresholds that decide *when* a neuron spikes during STDP
live in `skipsnn.train.competition`; the layer-wise trainer in `skipsnn.train.stdp`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..errors import ConfigError

# Defined torch-free in stdp_options (read at config load); re-exported here.
from .stdp_options import COMPETITIONS as COMPETITIONS
from .stdp_options import STDPParams as STDPParams
from .stdp_options import validate_stdp as validate_stdp


def trace_step(trace: torch.Tensor, spikes: torch.Tensor, decay: float) -> torch.Tensor:
    """``x[n] = x[n-1] * decay + s[n]``."""
    return trace * decay + spikes


def traces(spikes: torch.Tensor, tau: float, dt: float = 1.0) -> torch.Tensor:
    """Traces ``x[n]`` of a spike train ``[T, ...]`` (starting from zero), same shape."""
    decay = math.exp(-dt / tau)
    out = torch.empty_like(spikes, dtype=torch.float32)
    x = torch.zeros_like(spikes[0], dtype=torch.float32)
    for n in range(spikes.shape[0]):
        x = trace_step(x, spikes[n], decay)
        out[n] = x
    return out


def conv_pairings(
    pre: torch.Tensor, post: torch.Tensor, kernel: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """``sum_{b,l} post[b, o, l] * unfold(pre)[b, i, l]`` as ``[C_out, C_in * k * k]``.

    ``pre`` is ``[B, C_in, H, W]`` and ``post`` ``[B, C_out, H_out, W_out]``, the output
    grid of a convolution with this kernel, stride and padding. Rows of the result are
    laid out like ``conv.weight[o].flatten()``.
    """
    patches = F.unfold(pre, kernel, padding=padding, stride=stride)  # [B, Cin*k*k, L]
    post = post.flatten(2)  # [B, Cout, L]
    if post.shape[-1] != patches.shape[-1]:
        raise ConfigError(
            f"post map has {post.shape[-1]} positions but the kernel gives {patches.shape[-1]}"
        )
    return torch.einsum("bol,bil->oi", post, patches)


class Pairings(NamedTuple):
    """Summed pre-before-post (``potentiation``) and post-before-pre (``depression``)
    pairings, ``[C_out, C_in*k*k]`` each, and the post spike count per channel."""

    potentiation: torch.Tensor
    depression: torch.Tensor
    post_count: torch.Tensor


def sequence_pairings(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    kernel: int,
    stride: int,
    padding: int,
    p: STDPParams,
    dt: float = 1.0,
) -> Pairings:
    """Pairings of a presynaptic ``[T, B, C_in, H, W]`` and a postsynaptic
    ``[T, B, C_out, H', W']`` spike train, traces starting from zero."""
    t, b = pre_spikes.shape[:2]
    pre_tr = traces(pre_spikes, p.tau_pre, dt)
    post_tr = traces(post_spikes, p.tau_post, dt)
    # Depression pairs a pre spike at n with the post trace *before* step n.
    post_prev = torch.cat([torch.zeros_like(post_tr[:1]), post_tr[:-1]]) * math.exp(
        -dt / p.tau_post
    )
    flat = lambda z: z.reshape(t * b, *z.shape[2:])  # noqa: E731 - time and batch together
    pot = conv_pairings(flat(pre_tr), flat(post_spikes), kernel, stride, padding)
    dep = conv_pairings(flat(pre_spikes), flat(post_prev), kernel, stride, padding)
    count = post_spikes.sum(dim=(0, 1, 3, 4))
    return Pairings(pot, dep, count)


def stdp_delta(w: torch.Tensor, pairings: Pairings, p: STDPParams) -> torch.Tensor:
    """Weight change ``A+ (w_max - w)^mu P / N - (A- D / N + A+ x_tar [N > 0]) (w - w_min)^mu``
    (shape of ``w``)."""
    shape = w.shape
    w2 = w.reshape(shape[0], -1)
    count = pairings.post_count.reshape(-1, 1)
    n = count.clamp(min=1.0)
    up = p.a_plus * (p.w_max - w2).clamp(min=0) ** p.mu * pairings.potentiation / n
    rate_down = p.a_minus * pairings.depression / n + p.a_plus * p.x_tar * (count > 0)
    down = (w2 - p.w_min).clamp(min=0) ** p.mu * rate_down
    return (up - down).reshape(shape)


def apply_stdp(w: torch.Tensor, pairings: Pairings, p: STDPParams) -> torch.Tensor:
    """New weights: ``clip(w + dW, w_min, w_max)``."""
    return (w + stdp_delta(w, pairings, p)).clamp(p.w_min, p.w_max)
