"""The torch backend: the scan as an in-place time loop in torch ops (any device and dtype).

It follows the reference's order of floating-point operations
(`skipsnn.neuron.lif_multistep_reference`), so its forward is bitwise equal to it.
"""

from __future__ import annotations

import torch

from ..surrogate import surrogate_grad


def forward(x, a, decay, gain, v0, v_th, v_reset, save):
    state = x.shape[1:]
    a, decay, gain = a.detach(), decay.detach(), gain.detach()
    gx = gain * x  # the reference's gain * x[n], for all steps in one pass
    v = v0.detach().to(x.dtype).expand(state).clone(memory_format=torch.contiguous_format)
    s = torch.empty_like(x)
    h = None if save is None else torch.empty_like(x, dtype=save)
    # Without a saved state (no grad) nothing is written to h_full.
    h_full = h if save in (None, x.dtype) else torch.empty(state, dtype=x.dtype, device=x.device)
    zero_a = not bool(a.any())
    mask = torch.empty(state, dtype=torch.bool, device=x.device)
    for t in range(x.shape[0]):
        # (a + (v - a) * decay) + gain * x: the reference's order of operations
        if zero_a:
            v.mul_(decay)
        else:
            v.sub_(a).mul_(decay).add_(a)
        v.add_(gx[t])
        torch.ge(v, v_th, out=mask)
        if h is not None:
            hf = torch.sub(v, v_th, out=h[t] if h_full is h else h_full)
            if h_full is not h:  # reduced precision; a negative h must stay negative
                h[t].copy_(hf)
                h[t].masked_fill_((h[t] >= 0) & ~mask, -(2.0**-24))
        s[t].copy_(mask)
        v.masked_fill_(mask, v_reset)
    return s, h, v


def backward(gs, gv, h, decay, gain, kind, width, want_g):
    decay, gain = decay.detach(), gain.detach()
    h = h.to(decay.dtype)
    g = torch.zeros_like(h) if gs is None else gs * surrogate_grad(h, kind, width)
    not_spiked = (h < 0).to(h.dtype)
    last = h.shape[0] - 1
    if gv is not None:  # v[T-1] = u[T-1] * (1 - s[T-1])
        g[last].addcmul_(not_spiked[last], gv)
    # g[n] = A[n] + m[n] * g[n+1] with m[n] = (1 - s[n]) * decay: one in-place op per step
    m = not_spiked.mul_(decay)
    for t in range(last - 1, -1, -1):
        g[t].addcmul_(m[t], g[t + 1])
    gv0 = g[0] * decay
    return (g if want_g else g.mul_(gain)), gv0
