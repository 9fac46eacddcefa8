r"""Response rate, the conductance that sets it (Lemma 1), and the cutoff period (Lemma 3).

Setting (docs/theory.md has the derivations). One neuron, reset to ``v_reset`` at time 0,
receives input spikes at ``T, 2T, 3T, ...`` through a synapse of conductance ``G``, so each
input makes ``v`` jump by ``dV = R_m G / tau_m``. With ``q = exp(-T / tau_m)`` the potential
just after the ``n``-th input (before any reset) is::

    v_n = a + (v_reset - a) q^n + dV (1 - q^n) / (1 - q)
        = c + (v_reset - c) q^n,          c = a + dV / (1 - q)

so ``v_n`` moves geometrically and monotonically from ``v_reset`` towards the fixed point
``c``. The **response rate** ``gamma(T, G)`` is the least ``n >= 1`` with ``v_n >= v_th``
(infinite if none). Because the neuron is at ``v_reset`` right after each of its spikes and
the next input comes ``T`` later, it fires on every ``gamma``-th input from the very first
cycle on: its output is periodic with period ``gamma T`` (first spike at ``gamma T``).

(DESIGN.md writes ``q^(n-1)`` in place of ``q^n``: that is the count for a cold start whose
first input arrives at the same instant as the reset, which only describes the first
output spike; every later cycle follows the formula above. See docs/theory.md.)

Tonic neurons (``a > v_th``) fire on their own, so the count of inputs per output spike is
not a property of ``G`` alone; the functions here reject them with a `ParameterError`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..errors import ParameterError
from ..neuron import NeuronParams, is_tonic, jump, validate_params


def _check_period(period: float) -> float:
    if not isinstance(period, int | float) or not math.isfinite(period) or period <= 0:
        raise ParameterError(f"input period must be a positive finite number, got {period!r}")
    return float(period)


def _check_non_tonic(p: NeuronParams) -> NeuronParams:
    validate_params(p)
    if is_tonic(p):
        raise ParameterError(
            f"the response rate is defined for non-tonic neurons only (a = {p.a} is above "
            f"v_th = {p.v_th}, so the neuron fires without input)"
        )
    return p


def _check_conductance(g: float) -> float:
    if not isinstance(g, int | float) or not math.isfinite(g):
        raise ParameterError(f"conductance G must be a finite number, got {g!r}")
    return float(g)


def potential_after_inputs(n: int, period: float, dv: float, p: NeuronParams) -> float:
    """``v_n = a + (v_reset - a) q^n + dV (1 - q^n) / (1 - q)``: potential after ``n`` inputs."""
    q = math.exp(-period / p.tau_m)
    # (1 - q^n) / (1 - q) through expm1: accurate for T << tau_m, and exactly 1 for n = 1,
    # so v_1 = a + (v_reset - a) q + dV rounds as the simulation's one update does (an
    # input that lands exactly on v_th fires in both).
    gain = math.expm1(-n * period / p.tau_m) / math.expm1(-period / p.tau_m)
    return p.a + (p.v_reset - p.a) * q**n + dv * gain


def response_rate(period: float, g: float, p: NeuronParams) -> float:
    """``gamma(T, G)``: inputs per output spike, an integer >= 1, or ``math.inf`` if none.

    ``v_n - c = (v_reset - c) q^n`` gives the count in closed form,
    ``gamma = ceil(ln((c - v_th) / (c - v_reset)) / ln q)`` when ``v_reset < v_th < c``;
    the closed form is then checked against ``v_n`` itself so rounding cannot shift it.
    """
    period = _check_period(period)
    g = _check_conductance(g)
    _check_non_tonic(p)
    dv = jump(p, g)
    if potential_after_inputs(1, period, dv, p) >= p.v_th:
        return 1
    q = math.exp(-period / p.tau_m)
    c = p.a + dv / (1.0 - q)
    if not c > p.v_th:  # v_n stays below its limit c <= v_th (or moves away from v_th)
        return math.inf
    n = max(1, math.ceil(math.log((c - p.v_th) / (c - p.v_reset)) / math.log(q)))
    while n > 1 and potential_after_inputs(n - 1, period, dv, p) >= p.v_th:
        n -= 1
    while potential_after_inputs(n, period, dv, p) < p.v_th:
        n += 1
    return n


def jump_threshold(gamma: int, period: float, p: NeuronParams) -> float:
    """Least jump ``dV_gamma`` with ``v_gamma >= v_th``: ``(v_th - a - (v_reset - a) q^g)(1 - q)/(1 - q^g)``."""
    q = math.exp(-period / p.tau_m)
    qg = q**gamma
    return (p.v_th - p.a - (p.v_reset - p.a) * qg) * (1.0 - q) / (1.0 - qg)


class ConductanceInterval(NamedTuple):
    """``gamma(T, G) = gamma`` exactly for ``g_min <= G < g_max`` (``g_max`` is inf for gamma 1)."""

    gamma: int
    g_min: float
    g_max: float


def conductance_interval(gamma: int, period: float, p: NeuronParams) -> ConductanceInterval:
    r"""Lemma 1: the half-open interval ``[g_min, g_max)`` of ``G`` giving response rate ``gamma``.

    ``v_n`` is affine in ``dV`` with positive slope, so ``v_gamma >= v_th`` is
    ``dV >= dV_gamma`` (`jump_threshold`). ``dV_n`` strictly decreases in ``n`` (its
    derivative in ``x = q^n`` is ``(v_th - v_reset) (1 - q) / (1 - x)^2 > 0``), hence
    ``gamma = k  <=>  dV_k <= dV < dV_{k-1}`` with ``dV_0 = inf``, and ``G = tau_m dV / R_m``.
    The lower end is closed (the potential reaches ``v_th`` exactly), the upper end open.
    """
    if isinstance(gamma, bool) or not isinstance(gamma, int) or gamma < 1:
        raise ParameterError(f"response rate gamma must be a positive integer, got {gamma!r}")
    period = _check_period(period)
    _check_non_tonic(p)
    scale = p.tau_m / p.r_m
    lo = jump_threshold(gamma, period, p) * scale
    hi = math.inf if gamma == 1 else jump_threshold(gamma - 1, period, p) * scale
    if not lo < hi:
        raise ParameterError(
            f"response rate {gamma} at period {period} is not resolvable in floating point "
            f"for tau_m = {p.tau_m} (the conductance interval has collapsed)"
        )
    return ConductanceInterval(gamma, lo, hi)


def conductance_for(gamma: int, period: float, p: NeuronParams) -> float:
    """A conductance well inside the Lemma 1 interval (its midpoint; 1.5 x g_min for gamma 1)."""
    iv = conductance_interval(gamma, period, p)
    if math.isinf(iv.g_max):
        return 1.5 * iv.g_min  # g_min > 0 always: dV_1 = v_th - a - (v_reset - a) q > 0
    return 0.5 * (iv.g_min + iv.g_max)


def cutoff_period(g: float, p: NeuronParams) -> float | None:
    r"""Lemma 3: the neuron fires for input periods ``T < T_c`` and never for ``T >= T_c``.

    With ``theta = v_th - a`` and ``dV = R_m G / tau_m``::

        T_c = tau_m ln(theta / (theta - dV))        for 0 < dV < theta

    (the fixed point ``c = a + dV / (1 - q)`` exceeds ``v_th`` iff ``q > 1 - dV / theta``;
    if ``v_reset > a`` the first input may fire the neuron on its own, but only for
    ``T <= tau_m ln((v_reset - a) / (theta - dV)) < T_c``, so ``T_c`` stays exact).
    Returns ``None`` when ``dV >= theta``: every period fires, there is no cutoff.
    Returns ``0.0`` when ``dV <= 0``: no period fires.
    """
    g = _check_conductance(g)
    _check_non_tonic(p)
    dv = jump(p, g)
    theta = p.v_th - p.a
    if dv >= theta:
        return None
    if dv <= 0:
        return 0.0
    return p.tau_m * math.log(theta / (theta - dv))


def printed_cutoff(g: float, p: NeuronParams) -> float:
    """The form printed in the seed slides, ``tau_m ln((v_reset - a) / (v_reset - a + R_m G / tau_m))``.

    Kept for comparison only (docs/theory.md): it equals `cutoff_period` when the
    potential is measured from the other side, ``v_reset - a -> a - v_th``, i.e. when
    ``a - v_reset = v_th - a``. Returns nan where the logarithm is undefined.
    """
    r = p.v_reset - p.a
    dv = jump(p, g)
    ratio = r / (r + dv) if r + dv != 0 else math.nan
    return p.tau_m * math.log(ratio) if ratio > 0 else math.nan
