r"""Trust-region restarts (TuRBO-style) for the continuous coordinates of a search.

BO with one global GP and EI tends to commit to the first deep basin it finds: the fitted
lengthscales grow along the coordinates that separate it from the other basins, EI sees
nothing to gain elsewhere, and the rest of the budget refines a local minimum. TuRBO
(Eriksson et al., NeurIPS 2019) runs local searches instead, each in a box (the trust
region) around its incumbent that grows after successes and shrinks after failures; a
search whose box has shrunk below ``length_min`` has converged and a new one starts.

Here the runs share one GP and the budget: when a run converges, a *tabu* box around
its incumbent is excluded from the candidates (a gate like Delta: EI is 0 there), and
the next run starts, with a fresh box, from the best observed point outside every tabu
box, optimizing EI relative to that point. The global best is never lost: it is the
result whatever run finds it.

The state is a pure function of the observations in order (`replay`), so a resumed
search rebuilds exactly the trust region that the uninterrupted one had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class TrustRegionSettings:
    """Box side lengths are in unit-cube coordinates (before the lengthscale weighting)."""

    length_init: float = 0.8
    length_min: float = 0.15
    length_max: float = 1.6
    success_tol: int = 3
    failure_tol: int = 2
    tabu_halfwidth: float = 0.1  # tabu box: the converged incumbent +- this (unit cube) ...
    tabu_lengthscales: float | None = None  # ... or +- this many GP lengthscales
    refit_without_tabu: bool = False  # after a restart, fit the GP to the non-tabu points only
    min_improvement: float = 1e-3  # success: better than the run's best by this x value range
    min_run_successes: int = 0  # a run converges only after this many successes
    box: bool = True  # False: no box, the length only counts failures (restarts and tabu only)
    local_best: bool = True  # EI over the run's incumbent (TuRBO) rather than the global best


@dataclass
class TrustRegion:
    """The current run: its box side ``length``, its incumbent, and the tabu boxes."""

    length: float
    center: torch.Tensor | None  # unit-cube incumbent of the run (None: no point yet)
    best: float  # the incumbent's value (+inf: none)
    tabu: list[torch.Tensor] = field(default_factory=list)  # centers of converged runs
    tabu_halfwidth: torch.Tensor | None = None  # [dim]: inf on coordinates not limited
    restarts: int = 0
    successes: int = 0
    failures: int = 0
    run_successes: int = 0

    def box(
        self, settings: TrustRegionSettings, weights: torch.Tensor, dims: Sequence[int], dim: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Lower and upper bounds ``[dim]`` of the box; ``dims`` are the coordinates it limits.

        ``weights`` (one per coordinate of ``dims``, geometric mean 1) stretch the box
        along the coordinates the GP finds smooth, as in TuRBO.
        """
        lb = torch.zeros(dim, dtype=torch.double)
        ub = torch.ones(dim, dtype=torch.double)
        if self.center is None or not dims or not settings.box:
            return lb, ub
        idx = list(dims)
        half = 0.5 * self.length * weights
        lb[idx] = (self.center[idx] - half).clamp(0.0, 1.0)
        ub[idx] = (self.center[idx] + half).clamp(0.0, 1.0)
        return lb, ub

    def in_tabu(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean ``[n]``: rows of ``x [n, dim]`` inside a converged run's tabu box."""
        out = torch.zeros(x.shape[0], dtype=torch.bool)
        for c in self.tabu:
            out |= ((x - c).abs() <= self.tabu_halfwidth).all(dim=1)
        return out


def replay(
    x: torch.Tensor,
    y: Sequence[float],
    n_start: int,
    settings: TrustRegionSettings,
    dims: Sequence[int],
    lengthscales: torch.Tensor,
) -> TrustRegion:
    """The trust region after the observations ``x [n, dim]``, ``y`` (raw values), in order.

    The first ``n_start`` observations (initial design, prior points) only set the first
    incumbent; every later one is a success or a failure of the run it belongs to.
    ``dims`` are the coordinates the regions limit, ``lengthscales [dim]`` the GP's (on
    all the data), which size the tabu boxes: the GP's own notion of one basin.
    """
    y = [float(v) for v in y]
    scale = (max(y) - min(y)) if y else 1.0
    half = torch.full((x.shape[1],), float("inf"), dtype=torch.double)
    idx = list(dims)
    if settings.tabu_lengthscales is None:
        half[idx] = settings.tabu_halfwidth
    else:
        half[idx] = settings.tabu_lengthscales * lengthscales.double().reshape(-1)[idx]
    tr = TrustRegion(settings.length_init, None, float("inf"), tabu_halfwidth=half)

    def restart_center() -> None:
        tabu = tr.in_tabu(x[: i + 1]) if tr.tabu else None
        best_j = None
        for j in range(i + 1):
            if (tabu is None or not tabu[j]) and (best_j is None or y[j] < y[best_j]):
                best_j = j
        tr.center = None if best_j is None else x[best_j].clone()
        tr.best = float("inf") if best_j is None else y[best_j]

    for i in range(len(y)):
        if i < n_start:
            if y[i] < tr.best:
                tr.best, tr.center = y[i], x[i].clone()
            continue
        if y[i] < tr.best - settings.min_improvement * scale:
            tr.successes, tr.failures = tr.successes + 1, 0
            tr.run_successes += 1
        else:
            tr.successes, tr.failures = 0, tr.failures + 1
        if y[i] < tr.best and not (tr.tabu and tr.in_tabu(x[i : i + 1])[0]):
            tr.best, tr.center = y[i], x[i].clone()
        if tr.successes >= settings.success_tol:
            tr.length, tr.successes = min(2 * tr.length, settings.length_max), 0
        elif tr.failures >= settings.failure_tol:
            tr.length, tr.failures = tr.length / 2, 0
        if tr.length < settings.length_min and tr.run_successes < settings.min_run_successes:
            tr.length = settings.length_min  # not converged yet: it has not climbed anywhere
        elif tr.length < settings.length_min:  # converged: make it tabu, start a new run
            if tr.center is not None:
                tr.tabu.append(tr.center.clone())
            tr.restarts += 1
            tr.length, tr.successes, tr.failures = settings.length_init, 0, 0
            tr.run_successes = 0
            restart_center()
    return tr
