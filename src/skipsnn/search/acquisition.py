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

With trust-region settings (`trust_region`, off by default) the continuous coordinates
are searched in a box around the current run's incumbent, EI is taken over that incumbent,
and the tabu boxes of converged runs are gated out like infeasible points.

A batch of ``q`` points (parallel workers) is proposed with the kriging believer: each
chosen or still-running point is added to the GP data with its posterior mean as a
fantasy observation, the hyperparameters kept, and the next point is chosen on that model.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.generation.gen import gen_candidates_scipy
from botorch.models import SingleTaskGP
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior
from torch.quasirandom import SobolEngine

from ..errors import ConfigError, check_choice
from .settings import GP_KERNELS
from .space import Params, Space, key
from .trust_region import TrustRegionSettings, replay

LOCAL_CENTERS = 3  # best observed points that seed local candidates
LOCAL_SCALES = (0.02, 0.1)  # their Gaussian move sizes, in unit-cube coordinates


def fit_gp(
    x: torch.Tensor,
    y: torch.Tensor,
    seed: int = 0,
    noise: float | None = None,
    kernel: str = "rbf",
) -> SingleTaskGP:
    """Fit a GP to unit-cube inputs ``x [n, d]`` and standardized values ``y [n]``.

    ``noise`` None infers the observation noise (training runs are noisy); a number fixes
    it (in standardized units, floored at gpytorch's 1e-4), e.g. for deterministic functions.
    ``kernel`` is ``"rbf"`` (botorch's default since 0.12: ARD RBF with a log-normal
    lengthscale prior scaled by the dimension) or ``"matern-gamma"`` (botorch's default
    before 0.12: ARD Matern-5/2 with a Gamma(3, 6) lengthscale prior, mode 0.33, in a
    ScaleKernel with a Gamma(2, 0.15) outputscale prior); docs/search.md compares them.
    """
    check_choice("GP kernel", kernel, GP_KERNELS)
    torch.manual_seed(seed)
    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(
            x.double(),
            y.double().reshape(-1, 1),
            covar_module=_covariance(kernel, x.shape[-1]),
            outcome_transform=None,
        )
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


def _covariance(kernel: str, dim: int):
    """The covariance module of ``kernel`` (None: botorch's own default)."""
    if kernel == "rbf":
        return None
    return ScaleKernel(
        MaternKernel(nu=2.5, ard_num_dims=dim, lengthscale_prior=GammaPrior(3.0, 6.0)),
        outputscale_prior=GammaPrior(2.0, 0.15),
    )


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
        # the model's own kernel (not botorch's default), its hyperparameters loaded below
        covar = copy.deepcopy(model.covar_module)
        fantasy = SingleTaskGP(x_all, y_all, covar_module=covar, outcome_transform=None)
    fantasy.load_state_dict(model.state_dict(), strict=False)
    fantasy.eval()
    return fantasy


def log_ei(model: SingleTaskGP, x: torch.Tensor, best_f: float | None = None) -> torch.Tensor:
    """Log expected improvement (minimization) of each row of ``x [n, d]``.

    The improvement is over ``best_f`` (standardized units), by default the data's minimum.
    """
    best = model.train_targets.min() if best_f is None else best_f
    acq = LogExpectedImprovement(model, best_f=best, maximize=False)
    out = []
    with one_thread(), torch.no_grad():
        for chunk in torch.split(x.double(), 2048):
            out.append(acq(chunk.unsqueeze(1)))
    return torch.cat(out) if out else torch.empty(0, dtype=torch.double)


def gated_log_ei(
    model: SingleTaskGP, x: torch.Tensor, feasible: torch.Tensor, best_f: float | None = None
) -> torch.Tensor:
    """``log(Delta * EI)``: log EI where ``feasible`` holds, ``-inf`` elsewhere."""
    values = log_ei(model, x, best_f)
    return torch.where(feasible.bool(), values, torch.full_like(values, -math.inf))


def gated_ei(model: SingleTaskGP, x: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
    """``Delta * EI`` itself: exactly zero on infeasible points."""
    return gated_log_ei(model, x, feasible).exp()


def standardize(y: torch.Tensor) -> torch.Tensor:
    return _scaled(y, y)


def _scaled(v, y: torch.Tensor):
    """``v`` in the standardized units of the data ``y``."""
    sd = y.std() if y.numel() > 1 else torch.tensor(1.0, dtype=y.dtype)
    if not torch.isfinite(sd) or sd <= 0:
        sd = torch.tensor(1.0, dtype=y.dtype)
    out = (v - y.mean()) / sd
    return out if isinstance(v, torch.Tensor) else float(out)


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
    trust_region: TrustRegionSettings | None = None,
    n_start: int = 0,
    kernel: str = "rbf",
) -> list[Params]:
    """Propose ``n`` new feasible points by gated EI with the kriging believer.

    ``observed``/``values`` are the finished evaluations in order (failed ones should
    already carry an imputed value), ``pending`` the points still running. With
    ``trust_region`` settings the continuous coordinates are searched in a trust region
    replayed from the observations, the first ``n_start`` of which are the initial design
    (`trust_region.replay`). Returns fewer than ``n`` points only when a discrete space
    runs out of feasible unevaluated points.
    """
    with one_thread():
        return _propose(
            space,
            observed,
            values,
            pending,
            n,
            seed,
            raw_samples,
            num_restarts,
            maxiter,
            noise,
            trust_region,
            n_start,
            kernel,
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


def _propose(
    space,
    observed,
    values,
    pending,
    n,
    seed,
    raw_samples,
    num_restarts,
    maxiter,
    noise,
    tr_settings=None,
    n_start=0,
    kernel="rbf",
):
    x_obs = space.encode(observed)
    raw_y = torch.tensor(list(values), dtype=torch.double)
    model = fit_gp(x_obs, standardize(raw_y), seed, noise, kernel=kernel)
    region = None
    cont = [i for i in range(space.dim) if i not in space.int_dims]
    if tr_settings is not None and cont and not space.is_discrete:
        tr = replay(
            x_obs, list(values), n_start, tr_settings, cont, _lengthscales(model, space.dim)
        )
        keep = ~tr.in_tabu(x_obs)
        ref_y = raw_y
        if tr_settings.refit_without_tabu and tr.tabu and not keep.all() and keep.sum() >= 2:
            # A new run after a converged one: its GP leaves out the tabu basin's points,
            # whose long lengthscales would hide every other basin.
            ref_y = raw_y[keep]
            model = fit_gp(x_obs[keep], standardize(ref_y), seed, noise, kernel=kernel)
        best_f = None  # the data's best, or the run's incumbent (TuRBO):
        if tr.center is not None and tr_settings.local_best:
            best_f = _scaled(tr.best, ref_y)
        elif tr.tabu:
            best_f = _scaled(float(raw_y.min()), ref_y)
        lb, ub = tr.box(tr_settings, _box_weights(model, cont), cont, space.dim)
        region = _Region(lb, ub, best_f, tr.center, tr.in_tabu)
    model = believer(model, space.encode(pending))
    taken = {key(p, space.names) for p in (*observed, *pending)}
    chosen: list[Params] = []
    for i in range(n):
        if space.is_discrete:
            point = _best_discrete(space, model, taken)
        else:
            point = _best_continuous(
                space, model, seed * 1009 + i, raw_samples, num_restarts, maxiter, region
            )
        if point is None:
            break
        chosen.append(point)
        taken.add(key(point, space.names))
        model = believer(model, space.encode([point]))
    return chosen


@dataclass
class _Region:
    """Where continuous candidates may lie: a box, EI's incumbent, and excluded (tabu) points."""

    lb: torch.Tensor
    ub: torch.Tensor
    best_f: float | None  # standardized; None: the data's minimum
    center: torch.Tensor | None
    excluded: Callable[[torch.Tensor], torch.Tensor]


def _lengthscales(model: SingleTaskGP, dim: int) -> torch.Tensor:
    """The fitted ARD lengthscales ``[dim]`` (ones if the kernel has none per coordinate)."""
    kernel = getattr(model.covar_module, "base_kernel", model.covar_module)  # in a ScaleKernel
    try:
        ls = kernel.lengthscale.detach().reshape(-1).double()
    except AttributeError:
        ls = torch.ones(dim, dtype=torch.double)
    return ls if ls.numel() == dim else torch.full((dim,), float(ls.mean()), dtype=torch.double)


def _box_weights(model: SingleTaskGP, dims: list[int]) -> torch.Tensor:
    """TuRBO's box shape: lengthscales of ``dims`` normalized to geometric mean 1."""
    ls = _lengthscales(model, int(model.train_inputs[0].shape[-1]))[dims]
    ls = ls / ls.mean()
    return ls / ls.log().mean().exp()


def _data(model: SingleTaskGP) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's observations ``x [n, d]``, ``y [n]`` (an ensemble keeps a copy per member)."""
    x, y = model.train_inputs[0], model.train_targets
    return (x[(0,) * (x.dim() - 2)], y[(0,) * (y.dim() - 1)]) if x.dim() > 2 else (x, y)


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
    space: Space,
    model: SingleTaskGP,
    seed: int,
    raw_samples: int,
    num_restarts: int,
    maxiter: int,
    region: _Region | None = None,
) -> Params | None:
    lb = region.lb if region else torch.zeros(space.dim, dtype=torch.double)
    ub = region.ub if region else torch.ones(space.dim, dtype=torch.double)
    best_f = region.best_f if region else None
    raw = (
        lb + (ub - lb) * SobolEngine(space.dim, scramble=True, seed=seed).draw(raw_samples).double()
    )
    # Local candidates too: small Gaussian moves around the best observed points (in the
    # box), so the ascent also starts inside the incumbent's basin (global Sobol points
    # rarely do in 6-D).
    x_obs, y_obs = _data(model)
    inside = ((x_obs >= lb) & (x_obs <= ub)).all(dim=1)
    if region is not None:
        inside &= ~region.excluded(x_obs)
    best = x_obs[inside][torch.argsort(y_obs[inside])[:LOCAL_CENTERS]]
    if region is not None and region.center is not None:
        best = torch.cat([region.center.reshape(1, -1), best])[:LOCAL_CENTERS]
    gen = torch.Generator().manual_seed(seed)
    for scale in LOCAL_SCALES if best.shape[0] else ():
        noise = torch.randn(
            best.shape[0],
            raw_samples // (2 * len(LOCAL_SCALES) * best.shape[0]) + 1,
            space.dim,
            generator=gen,
            dtype=torch.double,
        )
        moved = (best.unsqueeze(1) + scale * noise).reshape(-1, space.dim)
        raw = torch.cat([raw, torch.max(torch.min(moved, ub), lb)])
    raw = space.snap(raw)
    ok = torch.tensor([space.is_feasible(p) for p in space.decode(raw)], dtype=torch.bool)
    if region is not None:
        ok &= ~region.excluded(raw)
    raw = raw[ok]
    if raw.shape[0] < num_restarts:  # sparse Delta: top up by rejection sampling
        extra = space.sample_feasible(np.random.default_rng(seed), num_restarts)
        raw = torch.cat([raw, space.encode(extra)]) if extra else raw
    if raw.shape[0] == 0:
        raise ConfigError("the feasibility constraints leave no point of the search space")
    scores = log_ei(model, raw, best_f)
    starts = raw[torch.argsort(scores, descending=True)[:num_restarts]]
    candidates = [starts]
    acq = LogExpectedImprovement(
        model, best_f=model.train_targets.min() if best_f is None else best_f, maximize=False
    )
    int_dims = space.int_dims
    if len(int_dims) < space.dim:
        # Starts sharing integer coordinates are optimized together with those held fixed;
        # the box bounds the others (a top-up start outside it is moved in).
        groups: dict[tuple, list[int]] = {}
        for i, row in enumerate(starts):
            groups.setdefault(tuple(row[int_dims].tolist()), []).append(i)
        for ints, rows in groups.items():
            fixed = dict(zip(int_dims, ints, strict=True)) or None
            x0 = starts[rows]
            x0 = torch.where(
                torch.tensor([i in int_dims for i in range(space.dim)]),
                x0,
                torch.max(torch.min(x0, ub), lb),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    x, _ = gen_candidates_scipy(
                        x0.unsqueeze(1),
                        acq,
                        lb if region else 0.0,
                        ub if region else 1.0,
                        fixed_features=fixed,
                        options={"maxiter": maxiter},
                    )
                except Exception:  # noqa: BLE001 - a failed ascent keeps its start point
                    continue
            candidates.append(space.snap(x.reshape(-1, space.dim).detach()))
    pool = torch.cat(candidates)
    points = space.decode(pool)
    feasible = torch.tensor([space.is_feasible(p) for p in points], dtype=torch.bool)
    encoded = space.encode(points)
    if region is not None:
        feasible &= ~region.excluded(encoded)
    scores = gated_log_ei(model, encoded, feasible, best_f)
    if not torch.isfinite(scores).any():  # everything feasible is tabu: ignore the tabu
        return _best_continuous(space, model, seed, raw_samples, num_restarts, maxiter)
    return points[int(torch.argmax(scores))]
