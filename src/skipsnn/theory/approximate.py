r"""Theorem 1: one-neuron-per-layer networks that map an input period to a target period.

Given an input spike train of period ``t_in`` (spikes at ``t_in, 2 t_in, ...``, every
neuron at ``v_reset`` at time 0), `approximate_period` builds a feedforward network with
one neuron per layer whose output period (`train_period` of the exact simulation) is
within ``eps`` of ``t_out``. Every returned network has been simulated; nothing is only
predicted. The constructions are in `skipsnn.theory.constructions`.

**Setting.** By default every neuron is non-tonic (``a < v_th``: it fires only when an
input arrives) and every synapse excitatory: the setting of the paper and of Lemma 2. In
it no network outputs faster than its input (ratio ``t_out / t_in < 1`` is out of reach),
an integer ratio needs no skip (a divider chain), and every ratio ``>= 1`` is reached to
any accuracy by the ``cover`` construction, whose layer count grows like
``log2(1 / eps)``. Tonic neurons (``allow_tonic``: the only way below ratio 1) and
inhibitory synapses (``allow_inhibition``) are used only on request and are labelled as
outside the paper's setting.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..errors import ParameterError
from ..neuron import (
    INPUT,
    Connection,
    FeedforwardNet,
    NeuronParams,
    is_tonic,
    periodic_times,
    simulate_network,
    validate_params,
)
from .constructions import Layer, Plan, build, enumerate_plans
from .period import train_period

CYCLES_SIMULATED = 12
MAX_VERIFIED = 12  # candidates simulated before giving up

BELOW_ONE = (
    "a non-tonic neuron fires only when an input arrives, so no feedforward network of "
    "them outputs faster than its input: t_out < t_in needs a tonic neuron "
    "(--allow-tonic, outside the paper's setting)"
)


class PeriodNetwork(NamedTuple):
    """Layers ``1..L``; layer 0 is the input train. Inputs from layer ``i - 1`` form the chain."""

    layers: tuple[Layer, ...]

    @property
    def skips(self) -> list[tuple[int, int]]:
        return [(s, j) for j, ly in enumerate(self.layers, 1) for s, _ in ly.inputs if s < j - 1]

    def feedforward(self) -> FeedforwardNet:
        conns = tuple(
            Connection(INPUT if s == 0 else s - 1, j - 1, g)
            for j, ly in enumerate(self.layers, 1)
            for s, g in ly.inputs
        )
        return FeedforwardNet(tuple(ly.neuron for ly in self.layers), conns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [
                {
                    "layer": j,
                    "role": ly.role,
                    "neuron": ly.neuron._asdict(),
                    "inputs": [{"from": s, "g": g} for s, g in ly.inputs],
                }
                for j, ly in enumerate(self.layers, 1)
            ],
            "skips": [list(s) for s in self.skips],
        }

    def describe(self) -> str:
        lines = ["layer 0: input spike train"]
        for j, ly in enumerate(self.layers, 1):
            n = ly.neuron
            ins = ", ".join(
                f"layer {s}{' (skip)' if s < j - 1 else ''} G={g:.6g}" for s, g in ly.inputs
            )
            lines.append(
                f"layer {j}: {ly.role}; a={n.a:.6g} tau_m={n.tau_m:.6g} r_m={n.r_m:.6g} "
                f"v_th={n.v_th:.6g} v_reset={n.v_reset:.6g}; inputs: {ins}"
            )
        sk = self.skips
        lines.append("skips: " + (", ".join(f"{a}->{b}" for a, b in sk) if sk else "none"))
        return "\n".join(lines)


class Approximation(NamedTuple):
    found: bool
    t_in: float
    t_out: float
    eps: float
    network: PeriodNetwork | None  # the verified network (or the closest attempt if not found)
    measured_period: float | None
    error: float | None
    plan: Plan | None
    reason: str | None = None  # why nothing can be found, when the model forbids it

    def setting(self) -> str | None:
        """``"non-tonic, excitatory"`` (the paper's) or what leaves it; None without a network."""
        if self.network is None:
            return None
        tonic = any(is_tonic(ly.neuron) for ly in self.network.layers)
        inhib = any(g < 0 for ly in self.network.layers for _, g in ly.inputs)
        if not (tonic or inhib):
            return "non-tonic, excitatory (the paper's setting)"
        what = " and ".join(
            w for w, f in (("a tonic neuron", tonic), ("an inhibitory synapse", inhib)) if f
        )
        return f"outside the paper's setting: uses {what}"

    def to_dict(self) -> dict[str, Any]:
        net = self.network.to_dict() if self.network else None
        closest = {"network": net, "measured_period": self.measured_period, "error": self.error}
        return {
            "found": self.found,
            "t_in": self.t_in,
            "t_out": self.t_out,
            "eps": self.eps,
            "construction": self.plan.kind if self.plan else None,
            "ratio": str(self.plan.ratio) if self.plan else None,
            "setting": self.setting(),
            "layers": len(self.network.layers) if self.network else None,
            "measured_period": self.measured_period if self.found else None,
            "error": self.error if self.found else None,
            "network": net if self.found else None,
            "closest": None if self.found or self.network is None else closest,
            "reason": self.reason,
        }


def measure_period(net: PeriodNetwork, t_in: float, cycle_slots: int) -> float | None:
    """Simulate exactly for ``CYCLES_SIMULATED`` cycles (at least 60 inputs); output train period."""
    t_end = (max(60, CYCLES_SIMULATED * cycle_slots) + 0.5) * t_in  # slack: see periodic_times
    out = simulate_network(net.feedforward(), periodic_times(t_in, t_end), t_end)
    return train_period(out[-1])


def check_target(t_in: float, t_out: float, eps: float, max_layers: int) -> None:
    for name, v in (("t_in", t_in), ("t_out", t_out), ("eps", eps)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ParameterError(f"{name} must be a positive finite number, got {v!r}")
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ParameterError(f"max_layers must be a positive whole number, got {max_layers!r}")


def approximate_period(
    t_in: float,
    t_out: float,
    eps: float,
    base: NeuronParams = NeuronParams(),
    max_layers: int = 16,
    skips: bool = True,
    allow_tonic: bool = False,
    allow_inhibition: bool = False,
) -> Approximation:
    """Build and verify a network whose output period is within ``eps`` of ``t_out``.

    Candidate plans are ranked by (predicted within ``eps``, outside the paper's setting,
    layers, predicted error) and simulated in that order; the first whose measured period
    is within ``eps`` is returned. Deterministic. ``found=False`` carries the closest
    attempt, and a ``reason`` when the model rules the target out (ratio below 1).
    ``skips=False`` restricts the plans to divider chains; `skipsnn.theory.chains.search_chains`
    is the honest search over all chains (Lemma 2).
    """
    check_target(t_in, t_out, eps, max_layers)
    validate_params(base)
    if not base.a < base.v_th:
        raise ParameterError(
            f"the base neuron must be non-tonic, a < v_th (a = {base.a}, v_th = {base.v_th}); "
            "the solver makes tonic neurons itself where it needs them (allow_tonic)"
        )
    rho = t_out / t_in
    tol = eps / t_in
    plans = enumerate_plans(rho, tol, max_layers, skips, allow_tonic, allow_inhibition)
    err = {pl: abs(float(pl.ratio) * t_in - t_out) for pl in plans}
    within = sorted(
        (pl for pl in plans if err[pl] <= eps),
        key=lambda pl: (pl.outside_setting, pl.layers, err[pl], pl.kind, pl.args),
    )
    closest = sorted(plans, key=lambda pl: (err[pl], pl.outside_setting, pl.layers, pl.args))
    reason = BELOW_ONE if rho < 1 and not allow_tonic and t_in - t_out > eps else None
    best: tuple[float, PeriodNetwork, float, Plan] | None = None
    for plan in dict.fromkeys(within[:MAX_VERIFIED] + closest[:3]):
        try:
            net = PeriodNetwork(tuple(build(plan, base, t_in)))
        except ParameterError:  # a Lemma 1 interval collapsed for this base neuron
            continue
        measured = measure_period(net, t_in, plan.cycle_slots)
        if measured is None:
            continue
        e = abs(measured - t_out)
        if best is None or e < best[0]:
            best = (e, net, measured, plan)
        if e <= eps:
            return Approximation(True, t_in, t_out, eps, net, measured, e, plan)
    if best is None:
        return Approximation(False, t_in, t_out, eps, None, None, None, None, reason)
    e, net, measured, plan = best
    return Approximation(False, t_in, t_out, eps, net, measured, e, plan, reason)
