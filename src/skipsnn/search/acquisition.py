r"""Gaussian-process surrogate and the feasibility-gated expected improvement.

The surrogate is botorch's ``SingleTaskGP`` on unit-cube inputs, fitted to standardized
objective values :math:`\tilde y = (y - \bar y) / s_y` by maximizing the marginal
likelihood. For minimization, with incumbent :math:`\tilde y^* = \min \tilde y`,

.. math::  EI(x) = E[\max(\tilde y^* - f(x), 0)],
           \qquad I_e(x) = \Delta(x)\, EI(x),

where :math:`\Delta` is the explicit feasibility indicator of the space. EI is computed
in log space (``LogExpectedImprovement``), which stays finite where plain EI underflows;
the gate maps infeasible points to :math:`\log 0 = -\infty`.

Candidates:

* all-integer spaces (the architecture space V): every feasible point not yet evaluated
  or pending is scored exactly, and the best one wins;
* continuous or mixed spaces (the dynamics space W, the joint space): scrambled Sobol
  raw samples, snapped to the integer grid and filtered by :math:`\Delta`, seed a
  multi-start L-BFGS-B ascent of log EI (integer coordinates held fixed); the results
  are filtered by :math:`\Delta` again and the best feasible point wins (a start is
  feasible, so one always exists).

A batch of ``q`` points (parallel workers) is proposed with the kriging believer: each
chosen or still-running point is added to the GP data with its posterior mean as a
fantasy observation, the hyperparameters kept, and the next point is chosen on that model.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.generation.gen import gen_candidates_scipy
from botorch.models import SingleTaskGP
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch.quasirandom import SobolEngine

from ..errors import ConfigError
from .space import Params, Space, key

LOCAL_CENTERS = 3  # best observed points that seed local candidates
LOCAL_SCALES = (0.02, 0.1)  # their Gaussian move sizes, in unit-cube coordinates


def fit_gp(
    x: torch.Tensor, y: torch.Tensor, seed: int = 0, noise: float | None = None
) -> SingleTaskGP:
    """Fit a GP to unit-cube inputs ``x [n, d]`` and standardized values ``y [n]``.

    ``noise`` None infers the observation noise (training runs are noisy); a number fixes
    it (in standardized units, floored at gpytorch's 1e-4), e.g. for deterministic functions.
    """
    torch.manual_seed(seed)
    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(x.double(), y.double().reshape(-1, 1), outcome_transform=None)
        if noise is not None:
            model.likelihood.noise = max(float(noise), 1.0001e-4)
            model.likelihood.raw_noise.requires_grad_(False)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        try:
            fit_gpytorch_mll(mll)
        except Exception:  # noqa: BLE001 - a failed fit keeps the prior hyperparameters
            pass
    model.eval()
    return model


def believer(model: SingleTaskGP, x_new: torch.Tensor) -> SingleTaskGP:
    """The model with ``x_new`` added at its posterior mean, hyperparameters unchanged."""
    if x_new.numel() == 0:
        return model
    with torch.no_grad():
        mean = model.posterior(x_new.double()).mean.reshape(-1, 1)
    x_all = torch.cat([model.train_inputs[0], x_new.double()])
    y_all = torch.cat([model.train_targets.reshape(-1, 1), mean])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fantasies shift the data off zero mean / unit sd
        fantasy = SingleTaskGP(x_all, y_all, outcome_transform=None)
    fantasy.load_state_dict(model.state_dict(), strict=False)
    fantasy.eval()
    return fantasy


def log_ei(model: SingleTaskGP, x: torch.Tensor) -> torch.Tensor:
    """Log expected improvement (minimization) of each row of ``x [n, d]`` over the data."""
    best = model.train_targets.min()
    acq = LogExpectedImprovement(model, best_f=best, maximize=False)
    out = []
    with one_thread(), torch.no_grad():
        for chunk in torch.split(x.double(), 2048):
            out.append(acq(chunk.unsqueeze(1)))
    return torch.cat(out) if out else torch.empty(0, dtype=torch.double)


def gated_log_ei(model: SingleTaskGP, x: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
    """``log(Delta * EI)``: log EI where ``feasible`` holds, ``-inf`` elsewhere."""
    values = log_ei(model, x)
    return torch.where(feasible.bool(), values, torch.full_like(values, -math.inf))


def gated_ei(model: SingleTaskGP, x: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
    """``Delta * EI`` itself: exactly zero on infeasible points."""
    return gated_log_ei(model, x, feasible).exp()


def standardize(y: torch.Tensor) -> torch.Tensor:
    sd = y.std() if y.numel() > 1 else torch.tensor(1.0, dtype=y.dtype)
    if not torch.isfinite(sd) or sd <= 0:
        sd = torch.tensor(1.0, dtype=y.dtype)
    return (y - y.mean()) / sd


def propose(
    space: Space,
    observed: Sequence[Params],
    values: Sequence[float],
    pending: Sequence[Params],
    n: int,
    *,
    seed: int = 0,
    raw_samples: int = 512,
    num_restarts: int = 8,
    maxiter: int = 200,
    noise: float | None = None,
) -> list[Params]:
    """Propose ``n`` new feasible points by gated EI with the kriging believer.

    ``observed``/``values`` are the finished evaluations (failed ones should already carry
    an imputed value), ``pending`` the points still running. Returns fewer than ``n``
    points only when a discrete space runs out of feasible unevaluated points.
    """
    with one_thread():
        return _propose(
            space, observed, values, pending, n, seed, raw_samples, num_restarts, maxiter, noise
        )


@contextlib.contextmanager
def one_thread():
    """GP matrices here are tiny: extra threads only add contention (10x slower on 2 busy cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _propose(space, observed, values, pending, n, seed, raw_samples, num_restarts, maxiter, noise):
    x_obs = space.encode(observed)
    y = standardize(torch.tensor(list(values), dtype=torch.double))
    model = believer(fit_gp(x_obs, y, seed, noise), space.encode(pending))
    taken = {key(p, space.names) for p in (*observed, *pending)}
    chosen: list[Params] = []
    for i in range(n):
        if space.is_discrete:
            point = _best_discrete(space, model, taken)
        else:
            point = _best_continuous(
                space, model, seed * 1009 + i, raw_samples, num_restarts, maxiter
            )
        if point is None:
            break
        chosen.append(point)
        taken.add(key(point, space.names))
        model = believer(model, space.encode([point]))
    return chosen


def feasible_unevaluated(space: Space, taken: set) -> list[Params]:
    """The discrete candidate set: feasible points of the space not in ``taken``."""
    return [
        p for p in space.enumerate() if key(p, space.names) not in taken and space.is_feasible(p)
    ]


def _best_discrete(space: Space, model: SingleTaskGP, taken: set) -> Params | None:
    candidates = feasible_unevaluated(space, taken)
    if not candidates:
        return None
    scores = log_ei(model, space.encode(candidates))
    return candidates[int(torch.argmax(scores))]


def _best_continuous(
    space: Space, model: SingleTaskGP, seed: int, raw_samples: int, num_restarts: int, maxiter: int
) -> Params | None:
    raw = SobolEngine(space.dim, scramble=True, seed=seed).draw(raw_samples).double()
    # Local candidates too: small Gaussian moves around the best observed points, so the
    # ascent also starts inside the incumbent's basin (global Sobol points rarely do in 6-D).
    x_obs, y_obs = model.train_inputs[0], model.train_targets
    best = x_obs[torch.argsort(y_obs)[:LOCAL_CENTERS]]
    gen = torch.Generator().manual_seed(seed)
    for scale in LOCAL_SCALES:
        noise = torch.randn(
            best.shape[0],
            raw_samples // (2 * len(LOCAL_SCALES) * best.shape[0]) + 1,
            space.dim,
            generator=gen,
            dtype=torch.double,
        )
        raw = torch.cat(
            [raw, (best.unsqueeze(1) + scale * noise).reshape(-1, space.dim).clamp(0, 1)]
        )
    raw = space.snap(raw)
    ok = torch.tensor([space.is_feasible(p) for p in space.decode(raw)], dtype=torch.bool)
    raw = raw[ok]
    if raw.shape[0] < num_restarts:  # sparse Delta: top up by rejection sampling
        extra = space.sample_feasible(np.random.default_rng(seed), num_restarts)
        raw = torch.cat([raw, space.encode(extra)]) if extra else raw
    if raw.shape[0] == 0:
        raise ConfigError("the feasibility constraints leave no point of the search space")
    scores = log_ei(model, raw)
    starts = raw[torch.argsort(scores, descending=True)[:num_restarts]]
    candidates = [starts]
    acq = LogExpectedImprovement(model, best_f=model.train_targets.min(), maximize=False)
    int_dims = space.int_dims
    if len(int_dims) < space.dim:
        # Starts sharing integer coordinates are optimized together with those held fixed.
        groups: dict[tuple, list[int]] = {}
        for i, row in enumerate(starts):
            groups.setdefault(tuple(row[int_dims].tolist()), []).append(i)
        for ints, rows in groups.items():
            fixed = dict(zip(int_dims, ints, strict=True)) or None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    x, _ = gen_candidates_scipy(
                        starts[rows].unsqueeze(1),
                        acq,
                        0.0,
                        1.0,
                        fixed_features=fixed,
                        options={"maxiter": maxiter},
                    )
                except Exception:  # noqa: BLE001 - a failed ascent keeps its start point
                    continue
            candidates.append(space.snap(x.reshape(-1, space.dim).detach()))
    pool = torch.cat(candidates)
    points = space.decode(pool)
    feasible = torch.tensor([space.is_feasible(p) for p in points], dtype=torch.bool)
    scores = gated_log_ei(model, space.encode(points), feasible)
    return points[int(torch.argmax(scores))]
