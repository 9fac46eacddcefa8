r"""mMND networks: convolutional spiking layers with several neuron dynamics, skips, a readout.

Layers are numbered ``0`` (the input event frames) to ``m`` (the last spiking layer).
Layer ``i >= 1`` is a convolution (padding ``kernel // 2``) whose ``C_i`` output
channels are split into ``n_dynamic`` contiguous groups, group ``g`` with its own
``(a, tau_m, R_m)``. With ``s_j[n]`` the spikes of layer ``j`` at step ``n``
(``s_0 = x``, the input frames)::

    I_i[n] = conv_i(s_{i-1}[n]) + sum_{(j, i) in skips} adapter_{j,i}(s_j[n])
    v_i[n] = a + (v_i[n-1] - a) exp(-dt / tau_m) + (R_m / tau_m) I_i[n]
    s_i[n] = H(v_i[n] - v_th);   v_i[n] <- v_reset where s_i[n] = 1

An adapter matches shapes: average pooling to layer ``i``'s spatial size, then a 1x1
convolution to its channels. The readout is a non-spiking leaky integrator over a
linear layer on the (optionally pooled) spikes of layer ``m``::

    u[n] = beta u[n-1] + (1 - beta) (W f(s_m[n]) + b),   beta = exp(-dt / tau_out),  u[0] = 0
    logits = (1 / T) sum_n u[n]      (readout.mode "mean"; "sum", "max", "last": other reductions)

and the loss is cross-entropy on ``logits``. There is no delay between layers, so the
network is evaluated one layer at a time over all steps: each convolution runs on the
whole ``[T * B, C, H, W]`` block and `neuron.lif_multistep` runs the dynamics over time.
That block is laid out channels-last (oneDNN's own layout), and the convolutions, skip
adapters, pooling and readout go through `spike_conv`, which computes the same numbers as
autograd's own functions but keeps binary spike inputs as bytes (and pooled inputs not at
all) for the backward pass; each layer's float output is dropped after its last reader.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from . import neuron, spike_conv
from .config import Config, NetworkConfig, skip_edges
from .data.catalog import get_dataset_info
from .determinism import serial
from .errors import ConfigError


def conv_out_size(size: int, kernel: int, stride: int) -> int:
    """Spatial size after a convolution with padding ``kernel // 2``."""
    pad = kernel // 2
    return (size + 2 * pad - kernel) // stride + 1


class Forward(NamedTuple):
    """What `MMNDNet.forward` returns with ``record=True``."""

    logits: torch.Tensor  # [B, K] time-averaged readout potential
    spikes: list[torch.Tensor]  # per spiking layer 1..m: [T, B, C, H, W]
    potential: torch.Tensor  # [T, B, K] readout potential u[n]


class MMNDNet(nn.Module):
    """The mMND network of a `NetworkConfig` for inputs ``[B, T, C, H, W]``."""

    def __init__(self, cfg: NetworkConfig, input_shape: tuple[int, int, int], n_classes: int):
        super().__init__()
        if n_classes < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, got {n_classes}")
        c, h, w = input_shape
        self.cfg = cfg
        self.input_shape = (c, h, w)
        self.n_classes = n_classes
        s = cfg.skip  # skip_edges raises ConfigError for an infeasible rule
        self.edges = skip_edges(len(cfg.layers), s.n_skip, s.l_start, s.l_end)
        # shapes[i] = (channels, height, width) of layer i's output; layer 0 is the input.
        self.shapes = [(c, h, w)]
        self.convs = nn.ModuleList()
        for layer in cfg.layers:
            cin = self.shapes[-1][0]
            self.convs.append(
                nn.Conv2d(
                    cin, layer.channels, layer.kernel, layer.stride, layer.kernel // 2, bias=False
                )
            )
            _, hh, ww = self.shapes[-1]
            self.shapes.append(
                (
                    layer.channels,
                    conv_out_size(hh, layer.kernel, layer.stride),
                    conv_out_size(ww, layer.kernel, layer.stride),
                )
            )
        self.adapters = nn.ModuleDict()
        for s, e in self.edges:
            self.adapters[f"{s}->{e}"] = nn.Conv2d(
                self.shapes[s][0], self.shapes[e][0], 1, bias=False
            )

        # Per-channel neuron parameters; buffers (fixed) unless learn_dynamics.
        self.learn_dynamics = cfg.learn_dynamics
        dyns = [(d.a, d.tau_m, d.r_m) for d in cfg.dynamics]
        for i, (ch, _, _) in enumerate(self.shapes[1:], start=1):
            p = neuron.channel_params(dyns, ch, cfg.v_th, cfg.v_reset, trailing_dims=2)
            if cfg.learn_dynamics:
                # Positive tau_m and R_m through their logarithms.
                self.register_parameter(f"a_{i}", nn.Parameter(p.a.clone()))
                self.register_parameter(f"log_tau_{i}", nn.Parameter(p.tau_m.log()))
                self.register_parameter(f"log_r_{i}", nn.Parameter(p.r_m.log()))
            else:
                self.register_buffer(f"a_{i}", p.a)
                self.register_buffer(f"tau_{i}", p.tau_m)
                self.register_buffer(f"r_{i}", p.r_m)

        pool = cfg.readout.pool
        ch, hh, ww = self.shapes[-1]
        n_feat = ch * (pool * pool if pool else hh * ww)
        self.readout = nn.Linear(n_feat, n_classes)

    # -- parameters --------------------------------------------------------------------

    def layer_params(self, i: int) -> neuron.LIFParams:
        """Neuron parameters of spiking layer ``i`` (1..m), shaped ``[C, 1, 1]``."""
        a = getattr(self, f"a_{i}")
        if self.learn_dynamics:
            tau, r = getattr(self, f"log_tau_{i}").exp(), getattr(self, f"log_r_{i}").exp()
        else:
            tau, r = getattr(self, f"tau_{i}"), getattr(self, f"r_{i}")
        return neuron.LIFParams(a, tau, r, self.cfg.v_th, self.cfg.v_reset)

    def readout_decay(self) -> float:
        return math.exp(-self.cfg.dt / self.cfg.readout.tau_m)

    def readout_features(self, s: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W]`` spikes -> ``[N, features]`` (pooled if configured)."""
        pool = self.cfg.readout.pool
        if pool:
            s = spike_conv.avg_pool(s, pool)
        return spike_conv.flatten(s)

    def skip_input(self, s: torch.Tensor, src: int, dst: int) -> torch.Tensor:
        """Layer ``src``'s ``[N, C, H, W]`` spikes pooled to layer ``dst``'s size."""
        _, h, w = self.shapes[dst]
        return s if s.shape[-2:] == (h, w) else spike_conv.avg_pool(s, (h, w))

    def adapt(self, s: torch.Tensor, src: int, dst: int) -> torch.Tensor:
        """Skip current from layer ``src`` into ``dst`` for ``[N, C, H, W]`` spikes."""
        pooled = self.skip_input(s, src, dst)
        return spike_conv.conv2d(pooled, self.adapters[f"{src}->{dst}"].weight)

    # -- forward -----------------------------------------------------------------------

    def layer_forward(self, outs: list[torch.Tensor], i: int, t: int) -> torch.Tensor:
        """Spikes ``[T * B, C, H, W]`` of layer ``i`` from the outputs ``outs[0..i-1]``
        (each ``[T * B, ...]``, time-major): its convolution plus the skips into it, then
        the neuron dynamics over the ``t`` steps."""
        skips = {s: self.skip_input(outs[s], s, i) for s, e in self.edges if e == i}
        return self._layer([outs[i - 1]], skips, i, t)

    def layer_current(
        self,
        conv_in: list[torch.Tensor],
        skips: dict[int, torch.Tensor],
        i: int,
        frames: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Input current ``I_i = conv_i(s_{i-1}) + sum_j adapter_{j,i}(s_j)`` of spiking
        layer ``i``, ``[N, C, H, W]`` for inputs ``[N, ...]`` (``N = T * B``).

        ``conv_in`` holds the one tensor ``s_{i-1}``; ``skips`` maps each skip source
        ``j`` to its spikes already pooled to layer ``i``'s size (`skip_input`). Both
        containers are emptied as they are read, so each float tensor is freed once its
        (compressed) copy is saved; ``frames`` (``[B, T, C, H, W]``) is what the first
        layer's input was copied from. BPTT (`forward`) and STDP both build currents here.
        """
        conv = self.convs[i - 1]
        x = conv_in.pop()
        # The first layer's input is a copy of the caller's frames: keep those instead.
        source = (frames, time_major_channels_last) if i == 1 and frames is not None else None
        current = spike_conv.conv2d(x, conv.weight, conv.stride, conv.padding, source)
        del x
        for s, e in self.edges:
            if e == i:  # in place: no convolution keeps its output for the backward pass
                current.add_(spike_conv.conv2d(skips.pop(s), self.adapters[f"{s}->{e}"].weight))
        return current

    def _layer(
        self,
        conv_in: list[torch.Tensor],
        skips: dict[int, torch.Tensor],
        i: int,
        t: int,
        frames: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`layer_forward` on inputs handed over in containers that `layer_current`
        empties: the current, then the neuron dynamics over the ``t`` steps."""
        cfg = self.cfg
        # Under autocast the convolutions give bfloat16/float16; the membrane scan runs in
        # float32 so that its state never rounds and its spikes are exact.
        current = at_least_float32(self.layer_current(conv_in, skips, i, frames))
        spikes, _ = neuron.lif_multistep(
            current.reshape(t, -1, *current.shape[1:]),
            self.layer_params(i),
            cfg.dt,
            None,
            cfg.surrogate,
            cfg.surrogate_width,
        )
        return spikes.reshape(-1, *spikes.shape[2:])

    def forward(self, x: torch.Tensor, record: bool = False) -> torch.Tensor | Forward:
        """Logits ``[B, K]`` for input frames ``x`` ``[B, T, C, H, W]`` (a `Forward` if record)."""
        if x.dim() != 5 or tuple(x.shape[2:]) != self.input_shape:
            raise ConfigError(
                f"network expects input [B, T, {', '.join(map(str, self.input_shape))}], "
                f"got {list(x.shape)}"
            )
        b, t = x.shape[:2]
        # Each layer's output, [T * B, C, H, W] time-major and channels-last, lives only
        # until the next convolution and its skips (pooled at once) have read it: autograd
        # keeps compressed copies, so the peak holds about one layer's float tensors.
        recorded = []
        skips: dict[int, dict[int, torch.Tensor]] = {}  # dst -> {src: skip input}
        prev = [time_major_channels_last(x)]
        for i in range(len(self.convs) + 1):
            if i > 0:
                prev = [self._layer(prev, skips.pop(i, {}), i, t, x)]
                if record:
                    recorded.append(prev[0])
            for s, e in self.edges:
                if s == i:
                    skips.setdefault(e, {})[s] = self.skip_input(prev[0], s, e)
        features = self.readout_features(prev.pop())
        drive = spike_conv.linear(features, self.readout.weight, self.readout.bias)
        drive = at_least_float32(drive).reshape(t, b, -1)  # the readout's state too
        beta = self.readout_decay()
        u = torch.zeros_like(drive[0])
        us = []
        for n in range(t):
            u = beta * u + (1.0 - beta) * drive[n]
            us.append(u)
        potential = torch.stack(us)
        logits = readout_logits(potential, self.cfg.readout.mode)
        if not record:
            return logits
        spikes = [o.reshape(t, b, *o.shape[1:]) for o in recorded]
        return Forward(logits, spikes, potential)


def readout_logits(potential: torch.Tensor, mode: str = "mean") -> torch.Tensor:
    """Logits ``[B, K]`` from the readout potential ``[T, B, K]``: its time average
    (``mean``), its sum over time (``sum``: ``T`` times the mean, so a few spikes move the
    logits as much as a dense response does), its maximum over time (``max``) or its
    value at the last step (``last``)."""
    if mode == "sum":
        return potential.sum(0)
    if mode == "max":
        return potential.amax(0)
    if mode == "last":
        return potential[-1]
    return potential.mean(0)


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is bfloat16/float16 (autocast's output), else as it is."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def time_major_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``[B, T, C, H, W]`` -> ``[T * B, C, H, W]`` in channels-last memory, in one copy.

    Convolutions on channels-last inputs run in oneDNN's own layout (no reorders), their
    outputs stay channels-last, and the LIF scan takes them as they are; results equal
    those of the contiguous layout up to the convolutions' summation order.
    """
    b, t, c, h, w = x.shape
    out = torch.empty((t, b, h, w, c), dtype=x.dtype, device=x.device).permute(0, 1, 4, 2, 3)
    out.copy_(x.transpose(0, 1))
    return out.reshape(t * b, c, h, w)  # a view: merging T and B needs no copy


def input_shape_of(
    cfg: Config, input_shape: tuple[int, int, int] | None = None
) -> tuple[int, int, int]:
    """``(C, H, W)`` of the input frames: as given, else two polarities at ``dataset.size``."""
    if input_shape is not None:
        return tuple(int(v) for v in input_shape)  # type: ignore[return-value]
    if cfg.dataset.size is None:
        raise ConfigError("dataset.size is not set, so the input shape must be given")
    return (2, cfg.dataset.size, cfg.dataset.size)


def build_network(
    cfg: Config, input_shape: tuple[int, int, int] | None = None, n_classes: int | None = None
) -> MMNDNet:
    """The network of ``cfg`` for frames of ``input_shape`` (default from dataset.size)."""
    k = get_dataset_info(cfg.dataset.name).n_classes if n_classes is None else n_classes
    return MMNDNet(cfg.network, input_shape_of(cfg, input_shape), k)


def count_params(
    cfg: Config, input_shape: tuple[int, int, int] | None = None, n_classes: int | None = None
) -> int:
    """Trainable parameters of ``cfg``'s network, without loading data.

    Neuron parameters count only when ``learn_dynamics`` makes them trainable.
    """
    with torch.device("meta"):
        net = build_network(cfg, input_shape, n_classes)
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


@torch.no_grad()
def calibrate_rates(net: MMNDNet, x: torch.Tensor, target: float, steps: int = 12) -> list[float]:
    """Scale each layer's input weights so its mean firing rate on ``x`` is near ``target``.

    Layer by layer (each seeing the already calibrated layers below), the convolution and
    the skip adapters into layer ``i`` are multiplied by one factor ``g``, found by
    doubling/halving and then bisection on ``log g`` (the rate grows with ``g``). Deep
    networks whose default initialization leaves the upper layers silent get activity —
    and surrogate gradients — from the first step. Deterministic; returns the rates.
    """
    b, t = x.shape[:2]
    outs = [x.transpose(0, 1).reshape(t * b, *net.input_shape).to(torch.float32)]
    rates = []
    for i in range(1, len(net.convs) + 1):
        weights = [net.convs[i - 1].weight] + [
            net.adapters[f"{s}->{e}"].weight for s, e in net.edges if e == i
        ]
        base = [w.clone() for w in weights]

        def rate_at(log_g: float, i=i, weights=weights, base=base) -> tuple[float, torch.Tensor]:
            for w, w0 in zip(weights, base, strict=True):
                w.copy_(w0 * math.exp(log_g))
            s = net.layer_forward(outs, i, t)
            with serial():  # a sum to one number: split across threads unless determinism
                return s.mean().item(), s

        lo, hi = None, None
        log_g = 0.0
        for _ in range(steps):
            r, _ = rate_at(log_g)
            if r < target:
                lo = log_g
                log_g = log_g + math.log(2.0) if hi is None else (log_g + hi) / 2
            else:
                hi = log_g
                log_g = log_g - math.log(2.0) if lo is None else (log_g + lo) / 2
        r, s = rate_at(log_g)
        rates.append(r)
        outs.append(s)
    return rates
