r"""Lemma 2, searched rather than assumed: the best chain without skips for a target period.

`search_chains` looks for a feedforward chain, one neuron per layer and no skips, whose
output period is within ``eps`` of ``t_out`` for an input of period ``t_in``. Every
neuron's parameters are free within the non-tonic setting: ``a < v_th``, ``v_reset``,
``tau_m``, ``R_m`` and the conductance ``G`` (``v_th`` fixes the scale). Candidates come
from a grid (the base neuron's ``a``, ``v_reset``, ``tau_m``, with conductances on a log
grid, for chains of up to three layers) and from random draws (every parameter random,
every chain length up to the budget). Each candidate is simulated: all of them at once
on the input grid (the exact solution of the model between grid instants; in a chain of
non-tonic neurons every spike falls on the grid), and the best few again, one by one, in
the event-driven simulator, whose period is the one reported. The search returns a chain
whenever one hits the target; otherwise it reports the best error it saw.

Lemma 2 says why it must fail off the integers: a non-tonic neuron driven by a periodic
train fires on every ``gamma``-th input (docs/theory.md, section 1), so a chain's output
period is ``prod(gamma_i) t_in``. The search is the experiment, the lemma the reason.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..errors import ParameterError
from ..neuron import NeuronParams, validate_params
from .approximate import PeriodNetwork, check_target, measure_period
from .constructions import Layer
from .period import train_period

GRID_CHAIN_LAYERS = 3  # chains up to this length also get a grid of conductances
GRID_POINTS = 400  # grid candidates per chain length
VERIFIED = 6  # candidates re-simulated event by event


class ChainSearch(NamedTuple):
    found: bool
    t_in: float
    t_out: float
    eps: float
    network: PeriodNetwork | None  # the chain found, or the closest one
    measured_period: float | None  # event-driven, of ``network``
    error: float | None
    best_error_by_layers: dict[int, float | None]  # grid simulation, per chain length
    candidates: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "t_in": self.t_in,
            "t_out": self.t_out,
            "eps": self.eps,
            "measured_period": self.measured_period,
            "error": self.error,
            "network": self.network.to_dict() if self.network else None,
            "best_error_by_layers": {str(k): v for k, v in self.best_error_by_layers.items()},
            "candidates": self.candidates,
            "seed": self.seed,
        }


class _Batch(NamedTuple):
    """``C`` chains of ``L`` neurons: arrays of shape ``[C, L]``."""

    a: np.ndarray
    tau: np.ndarray
    r_m: np.ndarray
    v_reset: np.ndarray
    dv: np.ndarray


def _grid(base: NeuronParams, n_layers: int, points: int) -> _Batch:
    per = max(2, int(round(points ** (1.0 / n_layers))))
    top = 1.2 * (base.v_th - min(base.a, base.v_reset))
    levels = np.geomspace(0.01 * top, top, per)
    dv = np.array(np.meshgrid(*[levels] * n_layers, indexing="ij")).reshape(n_layers, -1).T
    shape = dv.shape
    return _Batch(
        np.full(shape, base.a),
        np.full(shape, base.tau_m),
        np.full(shape, base.r_m),
        np.full(shape, base.v_reset),
        dv,
    )


def _random(base: NeuronParams, t_in: float, n_layers: int, count: int, rng) -> _Batch:
    shape = (count, n_layers)
    scale = base.v_th - base.v_reset
    a = base.v_th - scale * rng.uniform(0.02, 2.0, shape)
    v_reset = base.v_th - scale * rng.uniform(0.1, 2.0, shape)
    tau = t_in * 10.0 ** rng.uniform(-0.7, 2.0, shape)
    r_m = 10.0 ** rng.uniform(-1.0, 1.0, shape)
    dv = 1.2 * (base.v_th - np.minimum(a, v_reset)) * 10.0 ** rng.uniform(-1.0, 0.1, shape)
    return _Batch(a, tau, r_m, v_reset, dv)


def _simulate_grid(b: _Batch, v_th: float, t_in: float, slots: int) -> np.ndarray:
    """Spikes ``[C, slots]`` of the last neuron of each chain, input at every grid instant."""
    spikes = np.ones((b.a.shape[0], slots), dtype=bool)
    for j in range(b.a.shape[1]):
        a, q, dv, vr = b.a[:, j], np.exp(-t_in / b.tau[:, j]), b.dv[:, j], b.v_reset[:, j]
        v = vr.copy()
        out = np.zeros_like(spikes)
        for k in range(slots):
            v = a + (v - a) * q + dv * spikes[:, k]
            fired = v >= v_th
            out[:, k] = fired
            v = np.where(fired, vr, v)
        spikes = out
    return spikes


def _chain(b: _Batch, i: int, v_th: float) -> PeriodNetwork:
    layers = []
    for j in range(b.a.shape[1]):
        p = NeuronParams(
            float(b.a[i, j]), float(b.tau[i, j]), float(b.r_m[i, j]), v_th, float(b.v_reset[i, j])
        )
        g = float(b.dv[i, j] * b.tau[i, j] / b.r_m[i, j])
        layers.append(Layer(p, "chain neuron (searched)", ((j, g),)))
    return PeriodNetwork(tuple(layers))


def search_chains(
    t_in: float,
    t_out: float,
    eps: float,
    max_layers: int = 16,
    samples: int = 2000,
    seed: int = 0,
    base: NeuronParams = NeuronParams(),
) -> ChainSearch:
    """Search chains of 1..``max_layers`` non-tonic neurons; see the module docstring."""
    check_target(t_in, t_out, eps, max_layers)
    validate_params(base)
    if not base.a < base.v_th:
        raise ParameterError(
            f"the chain search is for non-tonic neurons: the base neuron needs a < v_th "
            f"(a = {base.a}, v_th = {base.v_th})"
        )
    rng = np.random.default_rng(seed)
    rho_hi = (t_out + eps) / t_in
    slots = int(min(20000, max(48, math.ceil(8 * rho_hi) + 8)))
    per_length = max(1, samples // max_layers)
    scored: list[tuple[float, int, int]] = []  # (error, batch index, row)
    batches: list[_Batch] = []
    by_layers: dict[int, float | None] = {}
    total = 0
    for n_layers in range(1, max_layers + 1):
        parts = [_random(base, t_in, n_layers, per_length, rng)]
        if n_layers <= GRID_CHAIN_LAYERS:
            parts.append(_grid(base, n_layers, GRID_POINTS))
        b = _Batch(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Batch._fields))
        spikes = _simulate_grid(b, base.v_th, t_in, slots)
        total += spikes.shape[0]
        batches.append(b)
        best = None
        for i in np.flatnonzero(spikes.sum(1) >= 4):
            period = train_period((np.flatnonzero(spikes[i]) + 1) * t_in)
            if period is None:
                continue
            e = abs(period - t_out)
            scored.append((e, len(batches) - 1, int(i)))
            best = e if best is None else min(best, e)
        by_layers[n_layers] = best
    scored.sort()
    found_best: tuple[float, PeriodNetwork, float] | None = None
    for _, bi, i in scored[:VERIFIED]:
        net = _chain(batches[bi], i, base.v_th)
        # A candidate fired at least 4 times in ``slots`` inputs: a cycle of ``slots`` inputs
        # covers its period even when a huge eps puts rho_hi beyond any simulation.
        measured = measure_period(net, t_in, min(math.ceil(rho_hi), slots))
        if measured is None:
            continue
        e = abs(measured - t_out)
        if found_best is None or e < found_best[0]:
            found_best = (e, net, measured)
    if found_best is None:
        return ChainSearch(False, t_in, t_out, eps, None, None, None, by_layers, total, seed)
    e, net, measured = found_best
    return ChainSearch(e <= eps, t_in, t_out, eps, net, measured, e, by_layers, total, seed)
