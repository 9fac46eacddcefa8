r"""The mMND search problem: spaces V and W, the feasibility indicator Delta, configs.

**V** (integers): ``n_layers, n_dynamic, n_skip, l_start, l_end``.
**W** (continuous): ``a_i, tau_m_i, r_m_i`` for each dynamic ``i < n_dynamic``
(``tau_m`` and ``r_m`` on a log scale).

:math:`\Delta(v, w) = 1` iff all of these hold, else 0:

* the skip rule (`skipsnn.config.skip_feasible`); with ``n_skip = 0`` only the canonical
  ``l_start, l_end`` (the lows of their ranges) are feasible, because every other choice
  is the same network and would be evaluated twice;
* the template config accepts the architecture (e.g. ``n_dynamic`` <= channels);
* the parameter budget: ``count_params <= max_params`` (when set);
* ordered, distinct dynamics: ``tau_m_{i+1} >= min_tau_ratio * tau_m_i``;
* ``tau_m_i > dt``;
* optionally each dynamic's cutoff period :math:`T_c` for input conductance ``g`` lies in
  ``[period_min, period_max]`` (the data's range of periods), with

  .. math:: T_c = \tau_m \ln\frac{v_{th} - a}{v_{th} - a - \Delta V}, \qquad
            \Delta V = R_m g / \tau_m,

  defined for ``0 < dV < v_th - a`` (`skipsnn.theory.response.cutoff_period`); outside
  that (a neuron that never fires, one that fires on every input, a tonic one) there is
  no cutoff inside the data's range, so Delta is 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..config import Config, skip_feasible
from ..errors import SkipSNNError
from ..neuron import NeuronParams
from ..theory.response import cutoff_period as theory_cutoff
from .settings import SearchSettings
from .space import Param, Space

V_NAMES = ("n_layers", "n_dynamic", "n_skip", "l_start", "l_end")
W_KEYS = ("a", "tau_m", "r_m")  # one dynamic's parameters, flat as a_i, tau_m_i, r_m_i


def cutoff_period(
    a: float, tau_m: float, r_m: float, g: float, v_th: float, v_reset: float
) -> float:
    """Lemma 3's cutoff period ``T_c`` (`skipsnn.theory.response.cutoff_period`) as a
    number: inf when every period fires, nan for a tonic or invalid neuron."""
    try:
        tc = theory_cutoff(g, NeuronParams(a, tau_m, r_m, v_th, v_reset))
    except SkipSNNError:  # tonic or invalid: no cutoff period
        return math.nan
    return math.inf if tc is None else float(tc)


# A point of a search space is one flat dict: the V names plus ``a_i, tau_m_i, r_m_i`` of
# each dynamic ``i``. These helpers are the only place that layout is spelled out.


def w_names(i: int) -> tuple[str, ...]:
    """The flat names of dynamic ``i``'s parameters: ``(a_i, tau_m_i, r_m_i)``."""
    return tuple(f"{k}_{i}" for k in W_KEYS)


def architecture_of(params: Mapping[str, float]) -> dict[str, int]:
    """The V part of a flat parameter dict, as integers."""
    return {n: int(params[n]) for n in V_NAMES}


def dynamics_of(params: Mapping[str, float], n: int) -> list[tuple[float, float, float]]:
    """``[(a, tau_m, r_m), ...]`` of the first ``n`` dynamics in a flat parameter dict."""
    return [tuple(float(params[k]) for k in w_names(i)) for i in range(n)]


def flat_params(
    arch: Mapping[str, float], dynamics: Sequence[Sequence[float]] = ()
) -> dict[str, float]:
    """``arch`` (the V values) with each dynamic's ``(a, tau_m, r_m)`` flattened in."""
    out = dict(arch)
    for i, d in enumerate(dynamics):
        out.update(zip(w_names(i), d, strict=True))
    return out


def used_params(params: Mapping[str, float]) -> dict[str, float]:
    """V plus the ``n_dynamic`` dynamics a flat dict really uses (a joint point carries
    parameters for the largest ``n_dynamic``; the others are left out)."""
    arch = architecture_of(params)
    return flat_params(arch, dynamics_of(params, arch["n_dynamic"]))


@dataclass
class MMNDProblem:
    """The template config plus search settings; builds spaces, Delta and trial configs."""

    config: Config
    settings: SearchSettings = field(default_factory=SearchSettings)
    input_shape: tuple[int, int, int] | None = None
    _v_cache: dict = field(default_factory=dict, repr=False)

    # -- spaces -------------------------------------------------------------------------

    def v_space(self) -> Space:
        return Space(self._v_params(), feasible=self.v_feasible)

    def w_space(self, n_dynamic: int) -> Space:
        return Space(self._w_params(n_dynamic), feasible=lambda p: self.w_feasible(p, n_dynamic))

    def joint_space(self) -> Space:
        params = self._v_params() + self._w_params(self.settings.n_dynamic[1])
        return Space(params, feasible=self.joint_feasible)

    def _v_params(self) -> tuple[Param, ...]:
        return tuple(Param(n, *getattr(self.settings, n), kind="int") for n in V_NAMES)

    def _w_params(self, n: int) -> tuple[Param, ...]:
        """``a`` linear, ``tau_m`` and ``r_m`` on a log scale, for dynamics ``0 .. n-1``."""
        s = self.settings
        return tuple(
            Param(name, *getattr(s, k), log=k != "a")
            for i in range(n)
            for name, k in zip(w_names(i), W_KEYS, strict=True)
        )

    # -- Delta ----------------------------------------------------------------------------

    def v_feasible(self, p: Mapping[str, float]) -> bool:
        """Delta over V: skip rule (canonical when no skips), config accepts it, budget."""
        v = tuple(architecture_of(p).values())
        if v not in self._v_cache:
            self._v_cache[v] = self._v_check(*v)
        return self._v_cache[v]

    def _v_check(
        self, n_layers: int, n_dynamic: int, n_skip: int, l_start: int, l_end: int
    ) -> bool:
        s = self.settings
        if n_skip == 0 and (l_start, l_end) != (s.l_start[0], s.l_end[0]):
            return False
        if not skip_feasible(n_layers, n_skip, l_start, l_end):
            return False
        try:
            cfg = self.config.with_architecture(n_layers, n_dynamic, n_skip, l_start, l_end)
        except SkipSNNError:
            return False
        if s.max_params is not None:
            from ..network import count_params

            if count_params(cfg, self.input_shape) > s.max_params:
                return False
        return True

    def w_feasible(self, p: Mapping[str, float], n_dynamic: int) -> bool:
        """Delta over W: ordered distinct dynamics, tau_m > dt, optional cutoff range."""
        return self.dynamics_feasible(dynamics_of(p, n_dynamic))

    def dynamics_feasible(self, dynamics: Sequence[tuple[float, float, float]]) -> bool:
        net, s = self.config.network, self.settings
        taus = [tau for _, tau, _ in dynamics]
        if any(not tau > net.dt for tau in taus):
            return False
        if any(t2 < s.min_tau_ratio * t1 for t1, t2 in zip(taus, taus[1:], strict=False)):
            return False
        if s.min_tau_ratio == 1 and len(set(dynamics)) < len(dynamics):
            return False
        if s.cutoff is not None:
            c = s.cutoff
            for a, tau, r in dynamics:
                tc = cutoff_period(a, tau, r, c.g, net.v_th, net.v_reset)
                if not (c.period_min <= tc <= c.period_max):  # nan and inf fail too
                    return False
        return True

    def joint_feasible(self, p: Mapping[str, float]) -> bool:
        return self.v_feasible(p) and self.w_feasible(p, int(p["n_dynamic"]))

    # -- configs ----------------------------------------------------------------------------

    def architecture(self, p: Mapping[str, float]) -> dict[str, int]:
        return architecture_of(p)

    def config_for(self, p: Mapping[str, float]) -> Config:
        """The template with V from ``p`` and, if ``p`` holds them, W's dynamics."""
        v = self.architecture(p)
        cfg = self.config.with_architecture(**v)
        if all(k in p for k in w_names(0)):
            cfg = cfg.with_dynamics(dynamics_of(p, v["n_dynamic"]))
        return cfg

    def default_dynamics(self, n_dynamic: int) -> list[tuple[float, float, float]]:
        """The dynamics phase 1 holds fixed for ``n_dynamic`` (the template's, spread)."""
        arch = dict(zip(V_NAMES, (1, n_dynamic, 0, 0, 0), strict=True))
        net = self.config.with_architecture(**arch).network
        return [(d.a, d.tau_m, d.r_m) for d in net.dynamics]
