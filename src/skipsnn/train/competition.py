r"""Spiking under STDP: winner-take-all competition and adaptive thresholds.

**Competition.** At each position only the channel whose potential exceeds its threshold
by the most may spike (winner-take-all across channels); the other channels at that
position are reset too (lateral inhibition), so one input patch is claimed by one kernel.

**Adaptive thresholds.** Channel ``c`` fires at ``v >= v_th + theta_c``; during training
``theta_c[n] = theta_c[n-1] exp(-dt / tau_theta) + theta_plus * r_c[n]``, where ``r_c[n]``
is the fraction of positions (over the batch) at which channel ``c`` spiked at step ``n``.
Channels that win often become harder to fire, so the others get to learn. ``theta``
is frozen when features are extracted.

**Neurons.** The membrane is the exact discrete LIF step of `skipsnn.neuron.lif_step`
(heterogeneous dynamics per channel group from `channel_params`, as in BPTT networks);
only the spike decision (threshold + competition) is done here.

"""

from __future__ import annotations

import math

import torch

from ..neuron import LIFParams, lif_step
from .stdp_rule import STDPParams


def winner_take_all(margin: torch.Tensor) -> torch.Tensor:
    """Spikes ``[B, C, H, W]`` where ``margin = v - threshold >= 0``, at most one channel per
    position: the one with the largest margin (the first of equals)."""
    above = margin >= 0
    masked = margin.masked_fill(~above, float("-inf"))
    winner = masked.argmax(dim=1, keepdim=True)
    spikes = torch.zeros_like(margin).scatter_(1, winner, 1.0)
    return spikes * above.any(dim=1, keepdim=True)


def competitive_step(
    x: torch.Tensor,
    v: torch.Tensor,
    p: LIFParams,
    theta: torch.Tensor,
    dt: float,
    competition: str = "wta",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of a layer with adaptive thresholds and competition.

    The membrane integrates with `lif_step` (threshold at infinity, so it only
    integrates); then channel ``c`` may fire at ``v >= v_th + theta_c``. With ``"wta"``
    at most one channel per position fires, and every neuron at a position where some
    channel fired is reset (lateral inhibition). Returns ``(spikes, v)``.
    """
    _, v = lif_step(x, v, p._replace(v_th=math.inf), dt)
    margin = v - (p.v_th + theta.reshape(1, -1, 1, 1))
    if competition == "wta":
        s = winner_take_all(margin)
        reset = s.amax(dim=1, keepdim=True).expand_as(s)
    else:
        s = (margin >= 0).to(v.dtype)
        reset = s
    v = torch.where(reset > 0, torch.full_like(v, p.v_reset), v)
    return s, v


def run_competitive(
    current: torch.Tensor,
    p: LIFParams,
    theta: torch.Tensor,
    dt: float,
    sp: STDPParams,
    adapt: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a layer over input currents ``[T, B, C, H, W]``; returns the spikes and theta.

    With ``adapt`` the thresholds follow ``theta <- theta * exp(-dt/tau_theta) +
    theta_plus * (fraction of positions where the channel spiked)`` at every step;
    otherwise ``theta`` stays as given.
    """
    decay = math.exp(-dt / sp.tau_theta)
    v = torch.full_like(current[0], p.v_reset)
    out = torch.empty_like(current)
    for n in range(current.shape[0]):
        s, v = competitive_step(current[n], v, p, theta, dt, sp.competition)
        out[n] = s
        if adapt:
            theta = theta * decay + sp.theta_plus * s.mean(dim=(0, 2, 3))
    return out, theta
