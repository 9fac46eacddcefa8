r"""Theorem 1 / Lemma 2: one-neuron-per-layer networks that map an input period to a target.

Given an input spike train of period ``t_in`` (spikes at ``t_in, 2 t_in, ...``, every
neuron reset at time 0), `approximate_period` builds a feedforward network with one
neuron per layer whose output period (`train_period` of the exact simulation) is within
``eps`` of ``t_out``. Every returned network has been simulated; nothing is predicted
only. The constructions (rho = t_out / t_in), all built from the user's base neuron:

- **divider D(k)**: a chain of non-tonic neurons whose response rates multiply to ``k``,
  each conductance in the middle of its Lemma 1 interval at that neuron's input period
  (a slower ``tau_m`` where the base one forgets between inputs, see `counting_neuron`).
  Output period ``k T``. This is all a chain can do (Lemma 2): ratio ``rho`` in N.
- **reset counter** (one skip): ``X`` = D(n) of the input, ``K`` = D(P) of ``X``, and a
  neuron ``B`` fed by ``X`` through a skip with the Lemma 1 conductance for rate ``r`` and
  by ``K`` with a kick ``dV >= v_th - v_reset`` that always fires it. ``B`` fires at
  ``kP + jr`` (in units of ``X``'s period), ``ceil(P / r)`` spikes per ``P``: ratio
  ``n P / ceil(P / r)`` (e.g. P = 3, r = 2: 1.5). All spikes stay on ``X``'s grid.
- **veto** (one skip, inhibitory synapse): ``B`` fires on every spike of ``X`` (skip,
  large ``dV``) except those cancelled by ``K`` = D(P) of ``X`` through ``-dV``: ``P - 1``
  spikes per ``P``, ratio ``n P / (P - 1)`` (ratios just above an integer).
- **tonic multiplier** (no skip, one tonic neuron): D(p) then a tonic neuron (``a > v_th``)
  whose free-running period is ``p t_in / (q - 1/2)`` and whose input kick forces a spike
  and so re-locks its phase on every input: ``q`` spikes per input, ratio ``p / q``
  (``tau_m = free / 2`` when the free period exceeds ``5 tau_m``, to keep ``a`` resolvable).
  This is the only way below ratio 1: a non-tonic neuron spikes only when an input arrives.

With ``skips=False`` only dividers are used (Lemma 2's setting: no skips, no tonic
neurons), so every non-integer ratio fails once ``eps`` is below the distance to the
nearest integer multiple of ``t_in``.
"""

from __future__ import annotations

import math
from fractions import Fraction
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
from .period import train_period
from .response import conductance_for, conductance_interval

MAX_GAMMA = 8  # largest response rate per divider neuron (larger ones get split)
MAX_P = 48  # largest cycle length tried in the skip modules
MAX_Q = 256  # largest rate multiplier tried for a tonic neuron
MAX_CYCLE_SLOTS = 4000  # input spikes per output cycle; bounds the verification run
MAX_CHAIN = 10_000  # largest plain divider ratio (its verification simulates 12 x that)
CYCLES_SIMULATED = 12
MAX_VERIFIED = 12  # candidates simulated before giving up


class Layer(NamedTuple):
    """One layer (one neuron): its parameters, its role, and ``(source layer, G)`` inputs."""

    neuron: NeuronParams
    role: str
    inputs: tuple[tuple[int, float], ...]


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


class Plan(NamedTuple):
    """A construction before it is built: kind, integer parameters, exact ratio, layer count."""

    kind: str  # chain | counter | veto | tonic
    ratio: Fraction
    layers: int
    args: tuple[int, ...]

    @property
    def tonic(self) -> bool:
        return self.kind == "tonic"


class Approximation(NamedTuple):
    found: bool
    t_in: float
    t_out: float
    eps: float
    network: PeriodNetwork | None  # the verified network (or the closest attempt if not found)
    measured_period: float | None
    error: float | None
    plan: Plan | None

    def to_dict(self) -> dict[str, Any]:
        closest = {
            "network": self.network.to_dict() if self.network else None,
            "measured_period": self.measured_period,
            "error": self.error,
        }
        return {
            "found": self.found,
            "t_in": self.t_in,
            "t_out": self.t_out,
            "eps": self.eps,
            "construction": self.plan.kind if self.plan else None,
            "ratio": str(self.plan.ratio) if self.plan else None,
            "measured_period": self.measured_period if self.found else None,
            "error": self.error if self.found else None,
            "network": closest["network"] if self.found else None,
            "closest": None if self.found or self.network is None else closest,
        }


# ---------------------------------------------------------------------------------------
# Dividers and their layer counts
# ---------------------------------------------------------------------------------------


def divider_factors(k: int) -> list[int]:
    """Split ``k`` into few factors ``<= MAX_GAMMA`` (primes above it stay whole), largest first."""
    primes, n, d = [], k, 2
    while d * d <= n:
        while n % d == 0:
            primes.append(d)
            n //= d
        d += 1
    if n > 1:
        primes.append(n)
    bins: list[int] = []
    for f in sorted(primes, reverse=True):  # first-fit decreasing packing by product
        for i, b in enumerate(bins):
            if b * f <= MAX_GAMMA:
                bins[i] = b * f
                break
        else:
            bins.append(f)
    return sorted(bins, reverse=True)


def _divider_layers(k: int) -> int:
    return 0 if k == 1 else len(divider_factors(k))


def counting_neuron(gamma: int, period: float, base: NeuronParams) -> tuple[NeuronParams, float]:
    """A non-tonic neuron and conductance with response rate ``gamma`` at ``period`` (Lemma 1).

    The base neuron is used when its Lemma 1 interval is comfortably wide (relative width
    at least ``min(1e-2, 0.2 / gamma)``; a perfect integrator reaches ``1 / (gamma - 1)``).
    When the counted time ``gamma T`` is long against ``tau_m`` the leak erases the count
    and the intervals collapse, so a slower dynamic (``tau_m = 4 gamma T``, then
    ``64 gamma T``) is used: the network becomes heterogeneous exactly where it has to.
    """
    last = None
    for tau in (base.tau_m, 4.0 * gamma * period, 64.0 * gamma * period):
        neuron = base._replace(tau_m=max(tau, base.tau_m))
        try:
            iv = conductance_interval(gamma, period, neuron)
        except ParameterError as e:
            last = e
            continue
        if math.isinf(iv.g_max) or (iv.g_max - iv.g_min) >= min(1e-2, 0.2 / gamma) * iv.g_min:
            return neuron, conductance_for(gamma, period, neuron)
    raise last or ParameterError(f"no dynamic resolves response rate {gamma} at period {period}")


def kick(neuron: NeuronParams) -> float:
    """A conductance whose jump ``2 (v_th - min(v_reset, a))`` fires a non-tonic neuron at once."""
    return 2.0 * (neuron.v_th - min(neuron.v_reset, neuron.a)) * neuron.tau_m / neuron.r_m


class _Builder:
    def __init__(self, base: NeuronParams):
        self.base, self.layers = base, []

    def add(self, neuron: NeuronParams, role: str, inputs) -> int:
        self.layers.append(Layer(neuron, role, tuple(inputs)))
        return len(self.layers)

    def divider(self, src: int, period: float, k: int) -> tuple[int, float]:
        """Chain D(k) after layer ``src`` (period ``period``); returns (last layer, its period)."""
        for g in divider_factors(k) if k > 1 else []:
            neuron, cond = counting_neuron(g, period, self.base)
            src = self.add(neuron, f"divider (rate {g})", [(src, cond)])
            period *= g
        return src, period


def build(plan: Plan, base: NeuronParams, t_in: float) -> PeriodNetwork:
    """Turn a plan into layers (conductances from Lemma 1; tonic rest from the free period)."""
    bld = _Builder(base)
    if plan.kind == "chain":
        (n,) = plan.args
        if n == 1:
            bld.add(base, "relay (rate 1)", [(0, kick(base))])
        else:
            bld.divider(0, t_in, n)
    elif plan.kind in ("counter", "veto"):
        n, big_p, r = plan.args
        x, tx = bld.divider(0, t_in, n)
        k, _ = bld.divider(x, tx, big_p)
        if plan.kind == "counter":
            neuron, cond = counting_neuron(r, tx, base)
            inputs = [(k, kick(neuron)), (x, cond)]
            bld.add(neuron, f"reset counter (rate {r}, reset every {big_p})", inputs)
        else:
            inputs = [(k, -kick(base)), (x, kick(base))]
            bld.add(base, f"veto (drops 1 in {big_p})", inputs)
    elif plan.kind == "tonic":
        p, q = plan.args
        x, tx = bld.divider(0, t_in, p)
        free = tx / (q - 0.5)
        # a from free = tau_m ln((a - v_reset) / (a - v_th)); a free period many tau_m long
        # would put a within rounding of v_th, so such a neuron gets tau_m = free / 2.
        tau = base.tau_m if free <= 5.0 * base.tau_m else free / 2.0
        e = math.exp(free / tau)
        a = (e * base.v_th - base.v_reset) / (e - 1.0)
        tonic = base._replace(a=a, tau_m=tau)
        bld.add(tonic, f"tonic multiplier (x{q}, free period {free:.6g})", [(x, kick(tonic))])
    else:  # pragma: no cover - plans come from _plans only
        raise ValueError(plan.kind)
    return PeriodNetwork(tuple(bld.layers))


def _plans(rho: float, skips: bool, max_layers: int) -> list[Plan]:
    plans: list[Plan] = []

    def add(kind: str, ratio: Fraction, layers: int, *args: int) -> None:
        if 1 <= layers <= max_layers:
            plans.append(Plan(kind, ratio, layers, args))

    for n in {max(1, math.floor(rho)), max(1, math.ceil(rho))}:
        if n <= MAX_CHAIN:
            add("chain", Fraction(n), max(1, _divider_layers(n)), n)
    if not skips:
        return plans
    for n in range(1, min(max(1, math.floor(rho)), MAX_CYCLE_SLOTS // 3) + 1):
        base_layers = _divider_layers(n)
        for big_p in range(3, MAX_P + 1):
            if n * big_p > MAX_CYCLE_SLOTS:
                break
            layers = base_layers + _divider_layers(big_p) + 1
            if layers > max_layers:
                continue
            target_m = n * big_p / rho
            for m in {math.floor(target_m), math.ceil(target_m)}:
                if m < 2:
                    continue
                r = -(-big_p // m)  # least r with ceil(P / r) <= m
                if 2 <= r < big_p and -(-big_p // r) == m:
                    add("counter", Fraction(n * big_p, m), layers, n, big_p, r)
            if n < rho and abs(big_p - rho / (rho - n)) < 1:  # n P / (P - 1) near rho
                add("veto", Fraction(n * big_p, big_p - 1), layers, n, big_p, 0)
    for q in range(2, MAX_Q + 1):
        p = max(1, round(rho * q))
        if p <= MAX_CYCLE_SLOTS:
            add("tonic", Fraction(p, q), _divider_layers(p) + 1, p, q)
    return plans


def measure_period(net: PeriodNetwork, t_in: float, cycle_slots: int) -> float | None:
    """Simulate exactly for ``CYCLES_SIMULATED`` cycles (at least 60 inputs); output train period."""
    t_end = (max(60, CYCLES_SIMULATED * cycle_slots) + 0.5) * t_in  # slack: see periodic_times
    out = simulate_network(net.feedforward(), periodic_times(t_in, t_end), t_end)
    return train_period(out[-1])


def _cycle_slots(plan: Plan) -> int:
    if plan.kind == "chain":
        return plan.args[0]
    if plan.kind == "tonic":
        return plan.args[0]
    return plan.args[0] * plan.args[1]


def approximate_period(
    t_in: float,
    t_out: float,
    eps: float,
    base: NeuronParams = NeuronParams(),
    max_layers: int = 6,
    skips: bool = True,
) -> Approximation:
    """Build and verify a network whose output period is within ``eps`` of ``t_out``.

    Candidates are ranked by (within ``eps`` as predicted, uses a tonic neuron, layers,
    predicted error) and simulated in that order; the first whose measured period is
    within ``eps`` is returned. Deterministic. ``found=False`` carries the closest attempt.
    """
    for name, v in (("t_in", t_in), ("t_out", t_out), ("eps", eps)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ParameterError(f"{name} must be a positive finite number, got {v!r}")
    if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
        raise ParameterError(f"max_layers must be a positive whole number, got {max_layers!r}")
    validate_params(base)
    if is_tonic(base):
        raise ParameterError(
            f"the base neuron must be non-tonic (a = {base.a} is above v_th = {base.v_th}); "
            "the solver makes tonic neurons itself where it needs them"
        )
    rho = t_out / t_in
    plans = _plans(rho, skips, max_layers)
    err = {pl: abs(float(pl.ratio) * t_in - t_out) for pl in plans}
    within = sorted(
        (pl for pl in plans if err[pl] <= eps),
        key=lambda pl: (pl.tonic, pl.layers, err[pl], pl.kind, pl.args),
    )
    closest = sorted(plans, key=lambda pl: (err[pl], pl.tonic, pl.layers, pl.kind, pl.args))
    best: tuple[float, PeriodNetwork, float, Plan] | None = None
    for plan in dict.fromkeys(within[:MAX_VERIFIED] + closest[:3]):
        try:
            net = build(plan, base, t_in)
        except ParameterError:  # a Lemma 1 interval collapsed for this base neuron
            continue
        measured = measure_period(net, t_in, _cycle_slots(plan))
        if measured is None:
            continue
        e = abs(measured - t_out)
        if best is None or e < best[0]:
            best = (e, net, measured, plan)
        if e <= eps:
            return Approximation(True, t_in, t_out, eps, net, measured, e, plan)
    if best is None:
        return Approximation(False, t_in, t_out, eps, None, None, None, None)
    e, net, measured, plan = best
    return Approximation(False, t_in, t_out, eps, net, measured, e, plan)
