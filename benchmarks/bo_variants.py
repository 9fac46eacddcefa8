"""Which change to the optimizer would reach the Hartmann-6 target? Variants, side by side.

Issue #15 asks for Hartmann-6 within 1% of its value range in <= 40 evaluations on at
least 8 of seeds 0-9 (`bench_bo.py` measures the default at 6/10 and the trust region at
5/10). This script runs `skipsnn.search.minimize` exactly as `bench_bo.py` does (fixed GP
noise 1e-4, 40 evaluations, seeds 0-9) with one piece of the surrogate or acquisition
swapped for a BoTorch alternative. The swaps replace functions of
`skipsnn.search.acquisition` in this process only; they are experiments, not library
options (each stand-in for ``fit_gp`` takes the library's ``kernel`` argument and ignores
it; ``classic-prior`` is what the library now offers as ``kernel="matern-gamma"``):

* ``default``: the library as it is (RBF GP, MAP hyperparameters, log EI);
* ``yeo-johnson``: the standardized values power-transformed (Yeo-Johnson, as HEBO does);
* ``matern``: a Matern-5/2 kernel with the same dimension-scaled lengthscale prior;
* ``initial-N`` (e.g. ``initial-3``, ``initial-12``): N random points before the GP,
  instead of 7;
* ``restarts-16``: 2048 raw samples and 16 L-BFGS-B restarts for the EI ascent;
* ``thompson``: pathwise Thompson sampling instead of EI;
* ``gibbon``: GIBBON (lower-bound max-value entropy search) over 2000 Sobol candidates;
* ``classic-prior``: BoTorch's pre-0.12 default GP: Matern-5/2 with a Gamma(3, 6)
  lengthscale prior (mode 0.33, against the dimension-scaled prior's median of about 10
  in 6-D) inside a ScaleKernel with a Gamma(2, 0.15) outputscale prior;
* ``inferred-noise``: the GP's noise fitted (floored at 1e-4) instead of fixed at 1e-4;
* ``trust-region``: the library's ``trust_region=True`` (TuRBO-style restarts);
* ``a+b``: two variants at once, e.g. ``classic-prior+trust-region``;
* ``input-warp``: a learned Kumaraswamy CDF warp of every input (BoTorch's ``Warp``);
* ``fully-bayesian``: BoTorch's `FullyBayesianSingleTaskGP` (NUTS; needs the optional
  ``numpyro`` and ``jax``, not dependencies of skipsnn), 64 warmup steps, 32 samples;
* ``mcmc``: log EI averaged over GP hyperparameters sampled from their posterior, the
  default model otherwise (Snoek et al. 2012's integrated acquisition; the samples come
  from ``emcee``'s ensemble sampler, an optional package, 16 walkers x 150 steps started
  around the MAP fit, the last position of each walker kept);
* ``jes``: joint entropy search (BoTorch's ``qJointEntropySearch``, lower bound, over 16
  optima sampled by ``get_optimal_samples``) instead of EI;
* ``saas-ensemble``: BoTorch's `EnsembleMapSaasSingleTaskGP`, MAP fits under four
  SAAS shrinkage levels averaged (BoTorch's cheap stand-in for the fully Bayesian GP);
* ``kg``: the knowledge gradient (BoTorch's one-shot ``qKnowledgeGradient``, 32
  fantasies) instead of EI, optimized by ``optimize_acqf`` with the same raw samples and
  restarts;
* ``tail-log``: the values warped by ``-log(max y - y + 0.001 range)`` before
  standardizing (monotone, so the minimum is the same point);
* ``second-basin``: every second BO step maximizes EI outside a ball of radius 0.5
  (unit cube) around the incumbent, over the best point outside it;
* ``two-regions-S`` (e.g. ``two-regions-0.5``): two local searches on the shared GP,
  alternating, started from the two best initial points at least 0.3 apart, each in a
  box of side S around its own incumbent with EI over that incumbent.

    .venv/bin/python benchmarks/bo_variants.py --variants default matern thompson \
        --out benchmarks/results/bo_variants.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import warnings

import numpy as np
import torch

from skipsnn.search import acquisition
from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

NOISE = 1e-4
VARIANTS = (
    "default",
    "yeo-johnson",
    "matern",
    "initial-3",
    "initial-12",
    "restarts-16",
    "thompson",
    "gibbon",
    "fully-bayesian",
    "classic-prior",
    "inferred-noise",
    "input-warp",
    "trust-region",
    "mcmc",
    "saas-ensemble",
    "jes",
    "kg",
    "tail-log",
    "second-basin",
)
ORIGINAL = dict(
    standardize=acquisition.standardize,
    fit_gp=acquisition.fit_gp,
    believer=acquisition.believer,
    LogExpectedImprovement=acquisition.LogExpectedImprovement,
    _best_continuous=acquisition._best_continuous,
    _propose=acquisition._propose,
)
KG_FANTASIES = 32


def yeo_johnson(y: torch.Tensor) -> torch.Tensor:
    from sklearn.preprocessing import PowerTransformer

    z = ORIGINAL["standardize"](y)
    out = PowerTransformer(method="yeo-johnson").fit_transform(z.numpy().reshape(-1, 1))
    return torch.tensor(out.reshape(-1), dtype=y.dtype) if np.isfinite(out).all() else z


def matern_gp(x, y, seed=0, noise=None, kernel="rbf"):
    import math

    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import MaternKernel
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from gpytorch.priors import LogNormalPrior

    torch.manual_seed(seed)
    d = x.shape[-1]
    prior = LogNormalPrior(math.sqrt(2) + 0.5 * math.log(d), math.sqrt(3))  # BoTorch's RBF prior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kernel = MaternKernel(nu=2.5, ard_num_dims=d, lengthscale_prior=prior)
        model = SingleTaskGP(
            x.double(), y.double().reshape(-1, 1), covar_module=kernel, outcome_transform=None
        )
        model.likelihood.noise = max(float(noise), 1.0001e-4)
        model.likelihood.raw_noise.requires_grad_(False)
        try:
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        except Exception:  # noqa: BLE001 - as the library: keep the prior on a failed fit
            pass
    model.eval()
    return model


def _fit(model, noise):
    from botorch.fit import fit_gpytorch_mll
    from gpytorch.mlls import ExactMarginalLogLikelihood

    if noise is not None:
        model.likelihood.noise = max(float(noise), 1.0001e-4)
        model.likelihood.raw_noise.requires_grad_(False)
    try:
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    except Exception:  # noqa: BLE001 - as the library: keep the prior on a failed fit
        pass
    model.eval()
    return model


def classic_gp(x, y, seed=0, noise=None, kernel="rbf"):
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import MaternKernel, ScaleKernel
    from gpytorch.priors import GammaPrior

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kernel = ScaleKernel(
            MaternKernel(nu=2.5, ard_num_dims=x.shape[-1], lengthscale_prior=GammaPrior(3.0, 6.0)),
            outputscale_prior=GammaPrior(2.0, 0.15),
        )
        model = SingleTaskGP(
            x.double(), y.double().reshape(-1, 1), covar_module=kernel, outcome_transform=None
        )
        return _fit(model, noise)


def warped_gp(x, y, seed=0, noise=None, kernel="rbf"):
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Warp
    from gpytorch.priors import LogNormalPrior

    torch.manual_seed(seed)
    d = x.shape[-1]
    warp = Warp(
        d=d,
        indices=list(range(d)),
        concentration1_prior=LogNormalPrior(0.0, 0.75**0.5),
        concentration0_prior=LogNormalPrior(0.0, 0.75**0.5),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SingleTaskGP(
            x.double(), y.double().reshape(-1, 1), outcome_transform=None, input_transform=warp
        )
        return _fit(model, noise)


def fully_bayesian_gp(x, y, seed=0, noise=None, kernel="rbf"):
    from botorch.fit import fit_fully_bayesian_model_nuts
    from botorch.models.fully_bayesian import FullyBayesianSingleTaskGP

    torch.manual_seed(seed)
    yvar = torch.full((len(y), 1), max(float(noise), 1e-6), dtype=torch.double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FullyBayesianSingleTaskGP(x.double(), y.double().reshape(-1, 1), train_Yvar=yvar)
        fit_fully_bayesian_model_nuts(
            model, warmup_steps=64, num_samples=32, thinning=2, disable_progbar=True
        )
    model.eval()
    return model


def _ensemble_class():
    from botorch.models import SingleTaskGP
    from botorch.posteriors.fully_bayesian import MCMC_DIM, GaussianMixturePosterior

    class EnsembleGP(SingleTaskGP):
        """A batch of GPs, one per hyperparameter sample, whose acquisition is averaged."""

        _is_ensemble = True
        _supports_batched_models = False

        def posterior(self, X, *args, **kwargs):
            post = super().posterior(X.unsqueeze(MCMC_DIM), *args, **kwargs)
            return GaussianMixturePosterior(distribution=post.distribution)

    return EnsembleGP


def _log_posterior(theta, x, y, noise, loc, scale):
    """Log posterior of the default GP at ``theta [W, d + 1]``: log lengthscales, mean."""
    import math

    th = torch.as_tensor(theta, dtype=torch.double)
    scaled = x.unsqueeze(0) / th[:, :-1].exp().unsqueeze(1)
    k = torch.exp(-0.5 * torch.cdist(scaled, scaled).pow(2))  # gpytorch's RBF kernel
    chol, info = torch.linalg.cholesky_ex(k + noise * torch.eye(len(y), dtype=torch.double))
    r = (y.unsqueeze(0) - th[:, -1:]).unsqueeze(-1)
    fit = -0.5 * (r * torch.cholesky_solve(r, chol)).sum((-1, -2))
    logdet = chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    # the lengthscale prior is log-normal: normal in the sampled log lengthscale
    prior = (-0.5 * ((th[:, :-1] - loc) / scale) ** 2).sum(-1)
    out = fit - logdet + prior  # the constant mean: flat prior, as in the MAP fit
    out[(info != 0) | ~torch.isfinite(out)] = -math.inf
    return out.numpy()


def mcmc_gp(x, y, seed=0, noise=None, kernel="rbf", walkers=16, steps=150):
    import emcee

    m0 = ORIGINAL["fit_gp"](x, y, seed, noise)
    prior = m0.covar_module.lengthscale_prior
    d = x.shape[-1]
    start = np.concatenate(
        [
            m0.covar_module.lengthscale.detach().log().reshape(-1).numpy(),
            [float(m0.mean_module.constant.detach())],
        ]
    )
    nz = max(float(noise), 1.0001e-4)
    xd, yd = x.double(), y.double()
    sampler = emcee.EnsembleSampler(
        walkers,
        d + 1,
        _log_posterior,
        vectorize=True,
        args=(xd, yd, nz, float(prior.loc), float(prior.scale)),
    )
    sampler.random_state = np.random.RandomState(seed).get_state()
    p0 = start + 0.3 * np.random.default_rng(seed).standard_normal((walkers, d + 1))
    sampler.run_mcmc(p0, steps, progress=False)
    theta = torch.as_tensor(sampler.get_last_sample().coords)
    from gpytorch.kernels import RBFKernel
    from gpytorch.means import ConstantMean

    batch = torch.Size([walkers])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _ensemble_class()(
            xd.repeat(walkers, 1, 1),
            yd.reshape(-1, 1).repeat(walkers, 1, 1),
            covar_module=RBFKernel(ard_num_dims=d, batch_shape=batch),
            mean_module=ConstantMean(batch_shape=batch),
            outcome_transform=None,
        )
        model.covar_module.lengthscale = theta[:, :-1].exp().unsqueeze(1)
        model.mean_module.constant = theta[:, -1]
        model.likelihood.noise = nz
    model.eval()
    return model


def saas_ensemble_gp(x, y, seed=0, noise=None, kernel="rbf"):
    from botorch.models.map_saas import EnsembleMapSaasSingleTaskGP

    torch.manual_seed(seed)
    yvar = torch.full((len(y), 1), max(float(noise), 1.0001e-4), dtype=torch.double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = EnsembleMapSaasSingleTaskGP(
            x.double(), y.double().reshape(-1, 1), train_Yvar=yvar, outcome_transform=None
        )
        return _fit(model, None)


def other_acquisition(kind: str):
    """A stand-in for LogExpectedImprovement: one acquisition object per fitted model."""
    made: dict = {}

    def make(model, best_f=None, maximize=False):
        if id(model) in made:  # Thompson: the same sample path for scoring and the ascent
            return made[id(model)]
        from torch.quasirandom import SobolEngine

        if kind == "jes":
            from botorch.acquisition.joint_entropy_search import qJointEntropySearch
            from botorch.acquisition.objective import ScalarizedPosteriorTransform
            from botorch.acquisition.utils import get_optimal_samples

            d = model.train_inputs[0].shape[-1]
            neg = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.double))
            bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
            torch.manual_seed(len(model.train_targets))
            xs, fs = get_optimal_samples(model, bounds, num_optima=16, posterior_transform=neg)
            acq = qJointEntropySearch(model, xs, fs, posterior_transform=neg)
        elif kind == "thompson":
            from botorch.acquisition.objective import GenericMCObjective
            from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

            acq = PathwiseThompsonSampling(
                model, objective=GenericMCObjective(lambda s, X=None: -s[..., 0])
            )
        else:
            from botorch.acquisition.max_value_entropy_search import (
                qLowerBoundMaxValueEntropy,
            )

            d = model.train_inputs[0].shape[-1]
            cand = SobolEngine(d, scramble=True, seed=len(model.train_targets)).draw(2000)
            cand = torch.cat([cand.double(), model.train_inputs[0]])
            acq = qLowerBoundMaxValueEntropy(model, cand, maximize=False)
        made.clear()
        made[id(model)] = acq
        return acq

    return make


def kg_best_continuous(space, model, seed, raw_samples, num_restarts, maxiter, region=None):
    """The point of highest knowledge gradient (one-shot, BoTorch's ``optimize_acqf``).

    KG values a point by how much observing it would lower the minimum of the posterior
    mean anywhere, so unlike EI it pays for learning about a basin it has not sampled.
    Hartmann-6 is unconstrained and continuous, so the feasibility gate has nothing to do.
    """
    from botorch.acquisition import qKnowledgeGradient
    from botorch.acquisition.objective import ScalarizedPosteriorTransform
    from botorch.optim import optimize_acqf

    torch.manual_seed(seed)
    neg = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.double))
    acq = qKnowledgeGradient(model, num_fantasies=KG_FANTASIES, posterior_transform=neg)
    bounds = torch.stack([torch.zeros(space.dim), torch.ones(space.dim)]).double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _ = optimize_acqf(
            acq,
            bounds,
            q=1,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            options={"maxiter": maxiter},
        )
    return space.decode(space.snap(x.detach().reshape(-1, space.dim)))[0]


def tail_log(y: torch.Tensor) -> torch.Tensor:
    """``-log(max y - y + 0.001 range)``, standardized: a monotone warp of the values.

    It turns each of Hartmann-6's Gaussian wells into a quadratic far from its centre,
    so the GP could see a well's tails from points with values near 0 (none of the
    other output transforms tried does this).
    """
    span = float(y.max() - y.min())
    if span <= 0:
        return ORIGINAL["standardize"](y)
    return ORIGINAL["standardize"](-torch.log(y.max() - y + 1e-3 * span))


def _observed_model(space, observed, values, seed, noise, kernel):
    """The encoded observations, their values and the GP on them, as `_propose` fits it."""
    x = space.encode(observed)
    y = torch.tensor(list(values), dtype=torch.double)
    return x, y, acquisition.fit_gp(x, acquisition.standardize(y), seed, noise, kernel=kernel)


def second_basin_propose(radius: float = 0.5):
    """Every second BO step, EI outside a ball around the incumbent (the rest as usual).

    The excluded steps take EI over the best point outside the ball, so they run a
    second descent somewhere else while the first one goes on.
    """

    def propose(space, observed, values, pending, n, seed, *rest):
        raw_samples, num_restarts, maxiter, noise, _tr, n_start, kernel = rest
        if (len(observed) - n_start) % 2 == 0:
            return ORIGINAL["_propose"](space, observed, values, pending, n, seed, *rest)
        x, y, model = _observed_model(space, observed, values, seed, noise, kernel)
        incumbent = x[torch.argmin(y)]

        def excluded(z):
            return (z - incumbent).norm(dim=-1) < radius

        outside = ~excluded(x)
        best_f = acquisition._scaled(float(y[outside].min()), y) if outside.any() else None
        cube = torch.zeros(space.dim, dtype=torch.double), torch.ones(space.dim, dtype=torch.double)
        region = acquisition._Region(*cube, best_f, None, excluded)
        args = (raw_samples, num_restarts, maxiter, region)
        return [acquisition._best_continuous(space, model, seed * 1009, *args)]

    return propose


def two_regions_propose(side: float, separation: float = 0.3):
    """Two local searches, alternating, from the two best well-separated initial points.

    Region 0 starts at the best initial point, region 1 at the best one farther than
    ``separation`` from it; BO step j belongs to region j mod 2. Each step maximizes EI
    over its region's incumbent in a box of side ``side`` (shaped by the GP's
    lengthscales, as the trust region's) around that incumbent, on the shared GP.
    """

    def propose(space, observed, values, pending, n, seed, *rest):
        raw_samples, num_restarts, maxiter, noise, _tr, n_start, kernel = rest
        x, y, model = _observed_model(space, observed, values, seed, noise, kernel)
        order = [int(i) for i in torch.argsort(y[:n_start])]
        far = [i for i in order[1:] if (x[i] - x[order[0]]).norm() > separation]
        members = [[order[0]], [far[0] if far else order[1]]]
        for j in range(n_start, len(observed)):
            members[(j - n_start) % 2].append(j)
        mine = torch.tensor(members[(len(observed) - n_start) % 2])
        b = int(mine[torch.argmin(y[mine])])
        w = acquisition._box_weights(model, list(range(space.dim)))
        lb = (x[b] - side * w / 2).clamp(0, 1)
        ub = (x[b] + side * w / 2).clamp(0, 1)
        best_f = acquisition._scaled(float(y[b]), y)
        nothing = lambda z: torch.zeros(z.shape[0], dtype=torch.bool)  # noqa: E731 - no tabu
        region = acquisition._Region(lb, ub, best_f, x[b], nothing)
        args = (raw_samples, num_restarts, maxiter, region)
        return [acquisition._best_continuous(space, model, seed * 1009, *args)]

    return propose


def use(variant: str) -> dict:
    """Swap the variant's pieces in (``a+b`` combines two); return extra `minimize` kwargs."""
    for name, fn in ORIGINAL.items():
        setattr(acquisition, name, fn)
    kwargs: dict = {}
    for part in variant.split("+"):
        kwargs.update(_use_one(part))
    return kwargs


def _use_one(variant: str) -> dict:
    if variant == "yeo-johnson":
        acquisition.standardize = yeo_johnson
    elif variant == "matern":
        acquisition.fit_gp = matern_gp
    elif variant == "classic-prior":
        acquisition.fit_gp = classic_gp
    elif variant == "input-warp":
        acquisition.fit_gp = warped_gp
    elif variant == "fully-bayesian":
        acquisition.fit_gp = fully_bayesian_gp
        acquisition.believer = lambda model, x: model  # one point per proposal: no fantasies
    elif variant in ("mcmc", "saas-ensemble"):
        acquisition.fit_gp = mcmc_gp if variant == "mcmc" else saas_ensemble_gp
        acquisition.believer = lambda model, x: model  # one point per proposal: no fantasies
    elif variant in ("thompson", "gibbon", "jes"):
        acquisition.LogExpectedImprovement = other_acquisition(variant)
    elif variant == "kg":
        acquisition._best_continuous = kg_best_continuous
    elif variant == "tail-log":
        acquisition.standardize = tail_log
    elif variant == "second-basin":
        acquisition._propose = second_basin_propose()
    elif variant.startswith("two-regions-"):
        acquisition._propose = two_regions_propose(float(variant.split("-")[2]))
    if variant.startswith("initial-"):
        return {"n_initial": int(variant.split("-")[1])}
    return {
        "restarts-16": {"raw_samples": 2048, "num_restarts": 16},
        "inferred-noise": {"noise": None},
        "trust-region": {"trust_region": True},
    }.get(variant, {})


def _variant(text: str) -> str:
    bad = [
        p
        for p in text.split("+")
        if p not in VARIANTS
        and not (p.startswith("initial-") and p[8:].isdigit())
        and not re.fullmatch(r"two-regions-\d*\.?\d+", p)
    ]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown variant {bad[0]!r}; choose from {VARIANTS}")
    return text


def run(variant: str, seeds: range, budget: int) -> dict:
    f = TestFunction("hartmann6")
    target = f.optimum + 0.01 * f.value_range()
    kwargs = use(variant)
    per_seed = []
    for seed in seeds:
        t0 = time.perf_counter()
        r = minimize(f, f.space, budget=budget, seed=seed, **{"noise": NOISE, **kwargs})
        hit = next(
            (i + 1 for i, b in enumerate(r.best_so_far()) if b is not None and b <= target), None
        )
        per_seed.append(
            dict(
                seed=seed,
                best=r.best_value,
                evals_to_1pct=hit,
                seconds=time.perf_counter() - t0,
                load=os.getloadavg()[0],
            )
        )
        print(variant, per_seed[-1], flush=True)
    return dict(
        variant=variant,
        function="hartmann6",
        budget=budget,
        within_1pct=sum(s["evals_to_1pct"] is not None for s in per_seed),
        seeds=len(per_seed),
        per_seed=per_seed,
    )


def proposal_overhead(variant: str, n_obs: int = 100, repeats: int = 3) -> dict:
    """Median seconds of one proposal at ``n_obs`` random observations (as `bench_bo.py`)."""
    f = TestFunction("hartmann6")
    points = f.space.sample(np.random.default_rng(0), n_obs)
    values = [f(p) for p in points]
    use(variant)
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        acquisition.propose(f.space, points, values, [], 1, seed=r, noise=NOISE)
        times.append(time.perf_counter() - t0)
    return dict(
        variant=variant,
        n_obs=n_obs,
        seconds=sorted(times)[len(times) // 2],
        all_seconds=times,
        load=os.getloadavg()[0],
    )


def _optional_versions() -> dict:
    """Versions of the optional packages the sampling variants need, where present."""
    out = {}
    for name in ("jax", "numpyro", "emcee"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["default"], type=_variant)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument(
        "--overhead", action="store_true", help="time one proposal at 100 observations instead"
    )
    ap.add_argument("--out", help="write the rows (per seed too) to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.overhead:
        rows = [proposal_overhead(v) for v in args.variants]
        for r in rows:
            print(f"{r['variant']:>15}: {r['seconds']:.2f} s per proposal at 100 observations")
    else:
        rows = [run(v, seeds, args.budget) for v in args.variants]
        for r in rows:
            print(f"{r['variant']:>15}: {r['within_1pct']}/{r['seeds']} seeds within 1%")
    if args.out:
        from bench_bo import search_host  # a script beside this one

        doc = dict(
            command="benchmarks/bo_variants.py " + " ".join(sys.argv[1:]),
            torch=torch.__version__,
            host=search_host(),
            optional=_optional_versions(),
            rows=rows,
        )
        with open(args.out, "w") as fh:
            json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
