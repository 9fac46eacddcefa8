r"""The building blocks of Theorem 1's networks: one neuron per layer, non-tonic by default.

Every construction turns a periodic input train of period ``t_in`` into a train whose
mean period is a rational multiple of ``t_in``. Vocabulary (``X`` is a periodic train,
"slots" are its spike instants, ``K`` a sparser train whose spikes are slots of ``X``):

- **divider D(k)**: a chain of neurons whose response rates multiply to ``k``, each
  conductance in the middle of its Lemma 1 interval at that neuron's input period.
  Output period ``k T``. This is all a chain can do (Lemma 2).
- **counter_r kicked by K**: a neuron fed by ``X`` at the Lemma 1 conductance for rate
  ``r`` and by ``K`` through a *kick*, a jump that fires it from any state. After each
  spike it is at ``v_reset`` one ``X`` period before the next ``X`` input (section 1 of
  docs/theory.md), so it fires on every kick and on every ``r``-th ``X`` slot after the
  last spike: from each kick ``k`` the slots ``k, k + r, k + 2r, ...`` until the next kick.
- **OR**: a neuron that receives kicks only; it fires whenever any of its inputs does.

Plans (``rho = t_out / t_in``; ``X`` = D(n) of the input, ``K`` = D(P) of ``X``, so the
network repeats every block of ``P`` slots of ``X``, every neuron firing at the block start):

- ``chain``: D(n), ratio ``n`` (no skip).
- ``counter``: counter_r kicked by ``K``: ``ceil(P / r)`` spikes per block, ratio
  ``n P / ceil(P / r)`` (one skip).
- ``cover``: ``A`` = counter_2 kicked by ``K`` fires on the even offsets of the
  block; for each odd ``s`` of a stage set ``S``, ``S_s`` = counter_s kicked by ``K`` (kicks
  at offsets ``0, s, 2s, ...``) and ``C_s`` = counter_2 kicked by ``S_s``, which fires on the
  offsets of the parity of its last kick, so on the odd offsets ``o`` with ``floor(o / s)``
  odd; an OR neuron merges ``A`` and all ``C_s``. It fires on every offset except the
  ``m`` odd offsets no ``C_s`` covers: ``P - m`` spikes per block, ratio ``n P / (P - m)``.
  With ``S`` halving from ``P`` (each ``s`` the least odd number ``>= s_prev / 2``) down to
  ``2m + 1`` the uncovered offsets are exactly ``1, 3, ..., 2m - 1``, so every
  ``m <= floor(P / 2)`` is reached with at most ``ceil(log2(P / (2m + 1))) + 1`` stages.
- ``veto`` (inhibitory synapse; only with ``allow_inhibition``): ``B`` fires on every ``X``
  slot except those cancelled by ``K`` through ``-dV``: ratio ``n P / (P - 1)``.
- ``tonic`` (tonic neuron; only with ``allow_tonic``): D(p), then a tonic neuron whose free
  period is ``p t_in / (q - 1/2)``, re-phased by a kick on every input: ratio ``p / q``;
  the only way below ratio 1.

The last two are outside the paper's setting (non-tonic neurons, excitatory synapses).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from ..errors import ParameterError
from ..neuron import NeuronParams
from .response import conductance_for, conductance_interval

MAX_GAMMA = 8  # largest response rate per divider neuron (larger ones get split)
MAX_P = 48  # largest block tried in the counter and veto plans
MAX_COVER_P = 2048  # largest block tried in the cover plan (n P <= MAX_CYCLE_SLOTS too)
EXHAUSTIVE_COVER_P = 63  # blocks up to this size get the fewest stages by exhaustive search
MAX_STAGES_SEARCHED = 3
MAX_Q = 256  # largest rate multiplier tried for a tonic neuron
MAX_CYCLE_SLOTS = 4000  # input spikes per output cycle; bounds the verification run
MAX_CHAIN = 10_000  # largest plain divider ratio


class Layer(NamedTuple):
    """One layer (one neuron): its parameters, its role, and ``(source layer, G)`` inputs."""

    neuron: NeuronParams
    role: str
    inputs: tuple[tuple[int, float], ...]


class Plan(NamedTuple):
    """A construction before it is built: kind, integer parameters, exact ratio, layer count."""

    kind: str  # chain | counter | cover | veto | tonic
    ratio: Fraction
    layers: int
    args: tuple[
        int, ...
    ]  # chain: (n,); counter/veto: (n, P, r); cover: (n, P, *stages); tonic: (p, q)

    @property
    def tonic(self) -> bool:
        return self.kind == "tonic"

    @property
    def inhibitory(self) -> bool:
        return self.kind == "veto"

    @property
    def outside_setting(self) -> bool:
        """Tonic neurons or inhibitory synapses: outside the paper's (and Lemma 2's) setting."""
        return self.tonic or self.inhibitory

    @property
    def cycle_slots(self) -> int:
        """Input spikes per cycle of the output pattern."""
        if self.kind in ("chain", "tonic"):
            return self.args[0]
        return self.args[0] * self.args[1]


# ---------------------------------------------------------------------------------------
# Dividers, counters, kicks
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


@lru_cache(maxsize=4096)
def divider_layers(k: int) -> int:
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


class Builder:
    """Appends layers; layer 0 is the input train."""

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

    def counter(self, x: int, period: float, r: int, kicks: list[int], role: str) -> int:
        """counter_r: counts layer ``x`` (period ``period``) at rate ``r``, fired by ``kicks``."""
        neuron, cond = counting_neuron(r, period, self.base)
        return self.add(neuron, role, [(k, kick(neuron)) for k in kicks] + [(x, cond)])

    def merge(self, srcs: list[int], role: str) -> int:
        return self.add(self.base, role, [(s, kick(self.base)) for s in srcs])


# ---------------------------------------------------------------------------------------
# The cover construction: which odd offsets a stage set leaves uncovered
# ---------------------------------------------------------------------------------------


def cover_mask(big_p: int, s: int) -> int:
    """Bit ``o`` set for the odd offsets ``o < P`` that C_s fires on (``floor(o / s)`` odd)."""
    return sum(1 << o for o in range(1, big_p, 2) if (o // s) % 2 == 1)


def uncovered(big_p: int, stages) -> int:
    """Number of odd offsets of a block of ``P`` that no C_s covers (``m`` of the docstring)."""
    mask = 0
    for s in stages:
        mask |= cover_mask(big_p, s)
    return big_p // 2 - bin(mask).count("1")


def halving_stages(big_p: int, m: int) -> tuple[int, ...]:
    """Stages ``s_1 > s_2 > ... = 2m + 1`` with ``s_1 >= P / 2``, ``s_{i+1} >= s_i / 2``, all odd."""
    target, stages, prev = 2 * m + 1, [], big_p
    while prev > target:
        s = max(target, math.ceil(prev / 2))
        s += 1 - s % 2  # odd
        if s >= prev:  # pragma: no cover - cannot happen for prev > target >= 1
            break
        stages.append(s)
        prev = s
    return tuple(stages)


def stages_for(big_p: int, m: int) -> tuple[int, ...]:
    """A smallest known stage set leaving ``m`` of the odd offsets of a block of ``P`` uncovered."""
    if big_p <= EXHAUSTIVE_COVER_P:
        return cover_stages(big_p)[m]
    return halving_stages(big_p, m)


@lru_cache(maxsize=128)
def cover_stages(big_p: int) -> dict[int, tuple[int, ...]]:
    """For a block of ``P``: uncovered count ``m`` -> a smallest known stage set leaving ``m``.

    Halving gives every ``m`` in ``1..floor(P / 2)``; for small blocks an exhaustive search
    over up to ``MAX_STAGES_SEARCHED`` stages replaces it where it needs fewer.
    """
    best: dict[int, tuple[int, ...]] = {}
    for m in range(1, big_p // 2 + 1):
        best[m] = halving_stages(big_p, m)
    if big_p <= EXHAUSTIVE_COVER_P:
        odd = range(3, big_p, 2)
        masks = {s: cover_mask(big_p, s) for s in odd}
        total = big_p // 2
        for k in range(1, MAX_STAGES_SEARCHED + 1):
            for combo in itertools.combinations(odd, k):
                mask = 0
                for s in combo:
                    mask |= masks[s]
                m = total - bin(mask).count("1")
                if m >= 1 and len(best.get(m, range(99))) > k:
                    best[m] = tuple(sorted(combo, reverse=True))
    return best


def cover_layers(n: int, big_p: int, stages) -> int:
    return divider_layers(n) + divider_layers(big_p) + 1 + 2 * len(stages) + (1 if stages else 0)


# ---------------------------------------------------------------------------------------
# Plans and their networks
# ---------------------------------------------------------------------------------------


def enumerate_plans(
    rho: float,
    tol: float,
    max_layers: int,
    skips: bool = True,
    allow_tonic: bool = False,
    allow_inhibition: bool = False,
) -> list[Plan]:
    """Plans whose exact ratio is within ``tol`` of ``rho`` (relative units), plus near misses.

    Near misses (the closest few of each kind) let a failed solve report its closest attempt.
    """
    plans: list[Plan] = []

    def add(kind: str, ratio: Fraction, layers: int, *args: int) -> None:
        if 1 <= layers <= max_layers:
            plans.append(Plan(kind, ratio, layers, args))

    for n in {max(1, math.floor(rho)), max(1, math.ceil(rho))}:
        if n <= MAX_CHAIN:
            add("chain", Fraction(n), max(1, divider_layers(n)), n)
    if skips and rho > 1:
        # counter: n P / ceil(P / r), P <= MAX_P (and the veto, n P / (P - 1)).
        for n in range(1, min(math.floor(rho), MAX_CYCLE_SLOTS // 3) + 1):
            for big_p in range(3, MAX_P + 1):
                if n * big_p > MAX_CYCLE_SLOTS:
                    break
                layers = divider_layers(n) + divider_layers(big_p) + 1
                if layers > max_layers:
                    continue
                target_m = n * big_p / rho
                for m in {math.floor(target_m), math.ceil(target_m)}:
                    if m < 2:
                        continue
                    r = -(-big_p // m)
                    if 2 <= r < big_p and -(-big_p // r) == m:
                        add("counter", Fraction(n * big_p, m), layers, n, big_p, r)
                if allow_inhibition and n < rho and abs(big_p - rho / (rho - n)) < 1:
                    add("veto", Fraction(n * big_p, big_p - 1), layers, n, big_p, 0)
        for n in range(max(1, math.ceil(rho / 2 - 1e-12)), math.floor(rho) + 1):
            # cover: n P / (P - m), 1 <= m <= P // 2: ratios in (n, 2n].
            f = 1.0 - n / rho  # m / P
            for big_p in range(3, MAX_COVER_P + 1):
                if n * big_p > MAX_CYCLE_SLOTS:
                    break
                fp = f * big_p
                for m in (math.floor(fp), math.ceil(fp)) if fp % 1 else (round(fp),):
                    if not 1 <= m <= big_p // 2 or abs(n * big_p / (big_p - m) - rho) > 4 * tol:
                        continue
                    ratio = Fraction(n * big_p, big_p - m)
                    st = stages_for(big_p, m)
                    add("cover", ratio, cover_layers(n, big_p, st), n, big_p, *st)
    if allow_tonic:
        for q in range(2, MAX_Q + 1):
            p = max(1, round(rho * q))
            if p <= MAX_CYCLE_SLOTS:
                add("tonic", Fraction(p, q), divider_layers(p) + 1, p, q)
    return plans


def build(plan: Plan, base: NeuronParams, t_in: float) -> list[Layer]:
    """Turn a plan into layers (conductances from Lemma 1; tonic rest from the free period)."""
    bld = Builder(base)
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
            bld.counter(x, tx, r, [k], f"reset counter (rate {r}, kicked every {big_p})")
        else:
            inputs = [(k, -kick(base)), (x, kick(base))]
            bld.add(base, f"veto (inhibitory; drops 1 in {big_p})", inputs)
    elif plan.kind == "cover":
        n, big_p, *stages = plan.args
        x, tx = bld.divider(0, t_in, n)
        k, _ = bld.divider(x, tx, big_p)
        a = bld.counter(x, tx, 2, [k], f"even offsets (rate 2, kicked every {big_p})")
        outs = [a]
        for s in stages:
            ks = bld.counter(x, tx, s, [k], f"stage kicks (rate {s}, kicked every {big_p})")
            outs.append(bld.counter(x, tx, 2, [ks], f"odd offsets after kicks every {s} (rate 2)"))
        if stages:
            m = uncovered(big_p, stages)
            bld.merge(outs, f"OR ({big_p - m} spikes per block of {big_p})")
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
        role = f"tonic multiplier (x{q}, free period {free:.6g}; outside the paper's setting)"
        bld.add(tonic, role, [(x, kick(tonic))])
    else:  # pragma: no cover - plans come from enumerate_plans only
        raise ValueError(plan.kind)
    return bld.layers
