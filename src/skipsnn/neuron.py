r"""The neuron model: parameters, the discrete-time step, and an exact event-driven simulator.

Membrane potential :math:`v`, resting potential :math:`a`, membrane time constant
:math:`\tau_m`, membrane resistance :math:`R_m`, threshold :math:`v_{th}`, reset
:math:`v_{reset}`::

    tau_m dv/dt = a - v + R_m I(t),      I(t) = sum_j G_j sum_k delta(t - t_j^k)

An input spike through a synapse of conductance ``G`` makes ``v`` jump by
``dV = R_m G / tau_m``; between inputs ``v(t) = a + (v0 - a) exp(-t / tau_m)``. When
``v >= v_th`` the neuron spikes and ``v`` is set to ``v_reset``. If ``a > v_th`` the
neuron also fires on its own (tonic firing) when the decay carries it up to ``v_th``.

Discrete time (step ``dt``) is the exact solution of the same equation::

    v[n] = a + (v[n-1] - a) exp(-dt / tau_m) + (R_m / tau_m) (W s)[n]
    s_out[n] = H(v[n] - v_th);   v[n] <- v_reset where s_out[n] = 1

where ``(W s)[n]`` is the summed conductance of the input spikes arriving at time
``n dt``. So the event-driven simulator given inputs at times ``n dt`` (n >= 1) and the
time-stepped one agree exactly, for non-tonic neurons (``a <= v_th``); a tonic neuron
crosses threshold between grid points in continuous time and at the next grid point in
discrete time. Every neuron starts at ``v_reset`` unless told otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .errors import ParameterError
from .surrogate import heaviside

if TYPE_CHECKING:  # torch is imported where it is used: the theory lab and CLI help stay light
    import torch

# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------


class NeuronParams(NamedTuple):
    """One neuron's parameters. Times in ms (any unit works if used consistently)."""

    a: float = 0.0  # resting potential
    tau_m: float = 20.0  # membrane time constant
    r_m: float = 1.0  # membrane resistance
    v_th: float = 1.0  # firing threshold
    v_reset: float = 0.0  # potential after a spike


class Dynamic(NamedTuple):
    """One neuron dynamic of a heterogeneous layer: (a, tau_m, R_m); v_th and v_reset are shared."""

    a: float = 0.0
    tau_m: float = 20.0
    r_m: float = 1.0


def validate_params(p: NeuronParams) -> NeuronParams:
    """Return ``p`` if it is valid, else raise `ParameterError` with one clear sentence."""
    for name, value in p._asdict().items():
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ParameterError(f"neuron parameter {name} must be a finite number, got {value!r}")
    if p.tau_m <= 0:
        raise ParameterError(f"membrane time constant tau_m must be positive, got {p.tau_m}")
    if p.r_m <= 0:
        raise ParameterError(f"membrane resistance r_m must be positive, got {p.r_m}")
    if p.v_th <= p.v_reset:
        raise ParameterError(f"threshold v_th ({p.v_th}) must be above v_reset ({p.v_reset})")
    return p


def jump(p: NeuronParams, g: float) -> float:
    """Potential jump ``dV = R_m G / tau_m`` caused by one input through conductance ``g``."""
    return p.r_m * g / p.tau_m


MAX_TONIC_SPIKES = 10**6  # spikes a tonic neuron may fire on its own in one simulation


def is_tonic(p: NeuronParams) -> bool:
    """A neuron whose rest lies above threshold fires on its own."""
    return p.a > p.v_th


# ---------------------------------------------------------------------------------------
# Discrete time, on tensors (used by the networks and trained by BPTT)
# ---------------------------------------------------------------------------------------


class LIFParams(NamedTuple):
    """Tensor parameters for a layer; ``a``, ``tau_m``, ``r_m`` broadcast against the state.

    For a conv layer with per-channel dynamics they have shape ``[C, 1, 1]``; for a dense
    layer ``[N]``; a scalar tensor means one dynamic for the whole layer.
    """

    a: torch.Tensor
    tau_m: torch.Tensor
    r_m: torch.Tensor
    v_th: float = 1.0
    v_reset: float = 0.0

    def decay(self, dt: float) -> torch.Tensor:
        """Per-step decay factor ``exp(-dt / tau_m)``."""
        return (-dt / self.tau_m).exp()

    def gain(self) -> torch.Tensor:
        """Input gain ``R_m / tau_m`` (potential per unit conductance)."""
        return self.r_m / self.tau_m


def group_sizes(channels: int, n_groups: int) -> list[int]:
    """Split ``channels`` into ``n_groups`` contiguous groups as evenly as possible."""
    if n_groups < 1 or n_groups > channels:
        raise ParameterError(
            f"cannot split {channels} channels into {n_groups} neuron-dynamic groups"
        )
    base, extra = divmod(channels, n_groups)
    return [base + (1 if i < extra else 0) for i in range(n_groups)]


def channel_params(
    dynamics: Sequence[Dynamic | Sequence[float]],
    channels: int,
    v_th: float = 1.0,
    v_reset: float = 0.0,
    trailing_dims: int = 2,
) -> LIFParams:
    """Per-channel parameters for a heterogeneous layer.

    The channels are split into ``len(dynamics)`` contiguous groups, group ``i`` taking
    dynamic ``i``. The tensors get ``trailing_dims`` singleton dimensions so they broadcast
    against ``[B, C, H, W]`` (``trailing_dims=2``) or ``[B, N]`` (``trailing_dims=0``).
    """
    import torch

    dyns = [Dynamic(*d) for d in dynamics]
    for d in dyns:
        validate_params(NeuronParams(d.a, d.tau_m, d.r_m, v_th, v_reset))
    sizes = group_sizes(channels, len(dyns))
    shape = (channels,) + (1,) * trailing_dims
    cols = [
        torch.tensor(np.repeat([getattr(d, f) for d in dyns], sizes), dtype=torch.float32).reshape(
            shape
        )
        for f in ("a", "tau_m", "r_m")
    ]
    return LIFParams(*cols, v_th=v_th, v_reset=v_reset)


def lif_step(
    x: torch.Tensor,
    v: torch.Tensor,
    p: LIFParams,
    dt: float = 1.0,
    surrogate: str = "fast_sigmoid",
    width: float = 10.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One exact discrete step: ``(input conductance x[n], v[n-1]) -> (spikes s[n], v[n])``.

    ``v[n] = a + (v[n-1] - a) exp(-dt/tau_m) + (R_m/tau_m) x[n]``; spikes where
    ``v[n] >= v_th``, and those neurons are set to ``v_reset``. The spike carries a
    surrogate gradient; the reset does not (it is detached, as is usual for BPTT).
    """
    v = p.a + (v - p.a) * p.decay(dt) + p.gain() * x
    s = heaviside(v - p.v_th, surrogate, width)
    sd = s.detach()
    v = v * (1.0 - sd) + p.v_reset * sd
    return s, v


def initial_state(x_like: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """Membrane potential before the first step: ``v_reset`` everywhere."""
    return x_like.new_full(x_like.shape, p.v_reset)


def lif_multistep_reference(
    x_seq: torch.Tensor,
    p: LIFParams,
    dt: float = 1.0,
    v0: torch.Tensor | None = None,
    surrogate: str = "fast_sigmoid",
    width: float = 10.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `lif_step` over the leading time axis of ``x_seq`` ``[T, ...]``.

    Returns the spike train ``[T, ...]`` and the final potential. This plain loop is the
    reference that faster implementations are tested against.
    """
    v = initial_state(x_seq[0], p) if v0 is None else v0
    out = []
    for x in x_seq:
        s, v = lif_step(x, v, p, dt, surrogate, width)
        out.append(s)
    import torch

    return torch.stack(out), v


# The networks call `neuron.lif_multistep`: the fused implementation (same numbers as the
# reference), looked up on first use so that importing this module does not import torch.
def __getattr__(name: str):
    if name == "lif_multistep":
        from .lif_scan import lif_scan

        return lif_scan
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------
# Exact event-driven simulation in continuous time
# ---------------------------------------------------------------------------------------


class Connection(NamedTuple):
    """A synapse from ``src`` (a neuron index, or ``INPUT``) to neuron ``dst``."""

    src: int
    dst: int
    g: float


INPUT = -1  # source index of the external input spike train


class FeedforwardNet(NamedTuple):
    """A small feedforward network for the exact simulator.

    Neurons are listed in topological order: every connection goes from a lower index
    (or ``INPUT``) to a higher one. The last neuron is the output.
    """

    neurons: tuple[NeuronParams, ...]
    connections: tuple[Connection, ...]


def periodic_times(period: float, t_end: float, t0: float | None = None) -> np.ndarray:
    """Input spike times ``t0, t0 + period, ...`` up to and including ``t_end``."""
    if not (period > 0 and math.isfinite(period)):
        raise ParameterError(f"input period must be a positive finite number, got {period}")
    t0 = period if t0 is None else t0
    n = int(math.floor((t_end - t0) / period + 1e-9)) + 1
    # The tolerance above admits a last time that rounds a few ulps past t_end; clip it so
    # that simulate_neuron(..., t_end) does not silently drop it.
    return np.minimum(t0 + period * np.arange(max(n, 0), dtype=float), t_end)


def simulate_neuron(
    input_times: Sequence[float] | np.ndarray,
    input_dv: Sequence[float] | np.ndarray | float,
    p: NeuronParams,
    t_end: float,
    v0: float | None = None,
    record: bool = False,
):
    """Exact output spike times of one neuron for input jumps ``input_dv`` at ``input_times``.

    Inputs at the same time are summed before the threshold is checked (as in discrete
    time). Tonic neurons (``a > v_th``) fire at the exact crossing time
    ``t0 + tau_m ln((a - v0) / (a - v_th))`` between inputs.

    Returns the output spike times (numpy array); with ``record=True`` also a list of
    ``(t, v_before, v_after)`` at every event, for plotting the membrane trace.
    """
    validate_params(p)
    times = np.asarray(input_times, dtype=float)
    dvs = np.broadcast_to(np.asarray(input_dv, dtype=float), times.shape)
    order = np.argsort(times, kind="stable")
    times, dvs = times[order], dvs[order]
    keep = times <= t_end
    times, dvs = times[keep], dvs[keep]
    # Sum simultaneous inputs.
    if times.size:
        uniq, idx = np.unique(times, return_inverse=True)
        summed = np.zeros(uniq.size)
        np.add.at(summed, idx, dvs)
        times, dvs = uniq, summed

    a, tau, v_th, v_reset = p.a, p.tau_m, p.v_th, p.v_reset
    tonic = is_tonic(p)
    if tonic:
        # Period of free-running tonic spikes from reset; the first may come sooner. A
        # threshold a hair below rest makes it vanish: the loop below would never end.
        period = tau * math.log((a - v_reset) / (a - v_th))
        if not period > 0 or t_end / period > MAX_TONIC_SPIKES:
            every = f"every {period:.3g}" if period > 0 else "again as soon as it resets"
            raise ParameterError(
                f"this tonic neuron (rest a = {a:g} above v_th = {v_th:g}) fires on its own "
                f"{every}: over {MAX_TONIC_SPIKES:,} spikes up to {t_end:g}"
            )
    v = v_reset if v0 is None else float(v0)
    t = 0.0
    spikes: list[float] = []
    trace: list[tuple[float, float, float]] = [(0.0, v, v)] if record else []

    def advance_to(t_next: float) -> None:
        nonlocal v, t
        if tonic:
            while v < v_th:
                tc = t + tau * math.log((a - v) / (a - v_th))
                if tc > t_next:
                    break
                spikes.append(tc)
                if record:
                    trace.append((tc, v_th, v_reset))
                v, t = v_reset, tc
        v = a + (v - a) * math.exp(-(t_next - t) / tau)
        t = t_next

    for tk, dv in zip(times.tolist(), dvs.tolist(), strict=True):
        advance_to(tk)
        before = v
        v = v + dv
        if v >= v_th:
            spikes.append(tk)
            v = v_reset
        if record:
            trace.append((tk, before, v))
    advance_to(t_end)
    if record:
        trace.append((t_end, v, v))
        return np.asarray(spikes), trace
    return np.asarray(spikes)


def simulate_network(
    net: FeedforwardNet, input_times: Sequence[float] | np.ndarray, t_end: float
) -> list[np.ndarray]:
    """Exact spike times of every neuron of a feedforward net driven by ``input_times``.

    Synapses have no delay: a spike at time t reaches its targets at time t, which is
    how the layer-at-a-time discrete networks behave too.
    """
    inputs = np.asarray(input_times, dtype=float)
    out: list[np.ndarray] = []
    for j, p in enumerate(net.neurons):
        ts, dvs = [], []
        for c in net.connections:
            if c.dst != j:
                continue
            if c.src != INPUT and not (0 <= c.src < j):
                raise ParameterError(
                    f"connection {c.src}->{c.dst} is not feedforward; list neurons in topological order"
                )
            src = inputs if c.src == INPUT else out[c.src]
            ts.append(src)
            dvs.append(np.full(src.shape, jump(p, c.g)))
        t_in = np.concatenate(ts) if ts else np.zeros(0)
        dv_in = np.concatenate(dvs) if dvs else np.zeros(0)
        out.append(simulate_neuron(t_in, dv_in, p, t_end))
    return out


def mean_period(spike_times: np.ndarray, transient: int = 0) -> float | None:
    """Mean inter-spike interval after dropping the first ``transient`` spikes (None if < 2 left)."""
    s = np.asarray(spike_times, dtype=float)[transient:]
    if s.size < 2:
        return None
    return float((s[-1] - s[0]) / (s.size - 1))
