"""How many evaluations does one descent into Hartmann-6's global minimum take? By method.

The eighth round (docs/search.md) found that a run ends in the basin of its best initial
point, so reaching 8 of 10 seeds would take a second descent inside 40 evaluations. This
script measures the length of one descent, from a start that already lies in the global
basin to the target (1% of the value range), for two kinds of method:

* scipy's local derivative-free methods (COBYQA, Powell, Nelder-Mead, COBYLA), from
  uniform random starts that lie in the global basin (checked by an L-BFGS-B descent of
  the true function, `bo_basins.basin`), each capped at ``--cap`` evaluations;
* GP descents with the classic prior (``kernel="matern-gamma"``, the library's fastest
  descent) from the library's 7-point initial design, on the seeds whose best initial
  point lies in the global basin, 40 evaluations in all: the library's own run (log EI
  over the whole cube), and three purely local searches in a box of side ``--side``
  around the incumbent (shaped by the GP's lengthscales, as the trust region's box):
  log EI, a lower confidence bound (beta 0.5) and the posterior mean.

"Evaluations" counts every evaluation of the function from the first one, the initial
design included for the GP descents.

``--warp tail-log`` runs the GP descents on values warped as `bo_variants.py`'s
``tail-log`` variant does (`bo_variants.tail_log`: ``-log(max y - y + 0.001 range)``,
then standardized); evaluations still count on the true values. ``--gp-only`` skips
scipy's local methods.

    .venv/bin/python benchmarks/bo_descent_speed.py \
        --out benchmarks/results/bo_descent_speed_2026-12-03.json
    .venv/bin/python benchmarks/bo_descent_speed.py --gp-only --warp tail-log \
        --out benchmarks/results/bo_descent_speed_warp_2026-12-03.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement, PosteriorMean, UpperConfidenceBound
from botorch.optim import optimize_acqf
from scipy.optimize import minimize as scipy_minimize

from skipsnn.search import acquisition
from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
from bench_bo import search_host  # noqa: E402
from bo_basins import (  # noqa: E402
    DEFAULT_INITIAL,
    _hartmann,
    basin,
    best_initial_point,
    initial_design,
)
from bo_variants import tail_log  # noqa: E402

WARPS = {"none": None, "tail-log": tail_log}  # value warps in place of `standardize`

BUDGET = 40
LOCAL_METHODS = ("COBYQA", "Powell", "Nelder-Mead", "COBYLA")
BOX_ACQUISITIONS = ("log-ei", "lcb-0.5", "posterior-mean")


def first_hit(values: list[float], target: float) -> int | None:
    """1-based index of the first value at or below ``target`` (None if none)."""
    return next((i + 1 for i, v in enumerate(values) if v <= target), None)


def global_basin_starts(n: int, seed: int, fn) -> list[np.ndarray]:
    """``n`` uniform random points of the unit cube that lie in the global basin."""
    rng = np.random.default_rng(seed)
    starts = []
    while len(starts) < n:
        x = rng.random(6)
        if basin(x, fn) == "global":
            starts.append(x)
    return starts


def local_descent(method: str, x0: np.ndarray, fn, cap: int) -> list[float]:
    """The values scipy's ``method`` evaluates from ``x0``, in order (at most ``cap``)."""
    values: list[float] = []

    def f(x):
        if len(values) >= cap:  # past the cap: a constant, so every method stops soon
            return values[-1]
        with torch.no_grad():
            v = float(fn(torch.tensor(np.clip(x, 0.0, 1.0)).unsqueeze(0)))
        values.append(v)
        return v

    bounds = None if method == "COBYLA" else [(0.0, 1.0)] * 6
    options = {"maxfev": cap} if method in ("Powell", "Nelder-Mead") else {"maxiter": cap}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scipy_minimize(f, x0, method=method, bounds=bounds, options=options)
    return values


def library_run(seed: int, f: TestFunction) -> list[float]:
    """The library's classic-prior run (log EI over the cube): its values in order."""
    r = minimize(f, f.space, budget=BUDGET, seed=seed, noise=1e-4, kernel="matern-gamma")
    return [t.value for t in r.trials]


def box_run(seed: int, kind: str, side: float, fn) -> list[float]:
    """The 7-point design, then each step optimizes ``kind`` in a box around the incumbent."""
    x, y = (torch.tensor(a, dtype=torch.double) for a in initial_design(seed, DEFAULT_INITIAL))
    for k in range(BUDGET - DEFAULT_INITIAL):
        model = acquisition.fit_gp(x, acquisition.standardize(y), seed, 1e-4, "matern-gamma")
        incumbent = x[torch.argmin(y)]
        w = acquisition._box_weights(model, list(range(6)))
        bounds = torch.stack(
            [(incumbent - side * w / 2).clamp(0, 1), (incumbent + side * w / 2).clamp(0, 1)]
        )
        if kind == "log-ei":
            acq = LogExpectedImprovement(model, best_f=model.train_targets.min(), maximize=False)
        elif kind == "lcb-0.5":
            acq = UpperConfidenceBound(model, beta=0.5, maximize=False)
        else:
            acq = PosteriorMean(model, maximize=False)
        torch.manual_seed(seed * 1009 + k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new, _ = optimize_acqf(acq, bounds=bounds, q=1, num_restarts=8, raw_samples=256)
        new = new.detach()
        with torch.no_grad():
            x, y = torch.cat([x, new]), torch.cat([y, fn(new)])
    return y.tolist()


def summary(hits: list[int | None]) -> dict:
    """Reached count, and the median and range of the evaluations (misses count as last)."""
    reached = sorted(h for h in hits if h is not None)
    ranked = sorted(h if h is not None else float("inf") for h in hits)
    median = float(np.median(ranked)) if ranked else None
    return dict(
        runs=len(hits),
        reached=len(reached),
        median_evals=median if median is not None and np.isfinite(median) else None,
        fewest=reached[0] if reached else None,
        most=reached[-1] if reached else None,
        evals=hits,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=30, help="random starts per local method")
    ap.add_argument("--cap", type=int, default=200, help="evaluations per local descent")
    ap.add_argument("--seeds", type=int, default=20, help="GP descents: seeds 0..N-1")
    ap.add_argument("--side", type=float, default=0.4, help="box side of the local GP searches")
    ap.add_argument("--warp", choices=WARPS, default="none", help="GP descents: value warp")
    ap.add_argument("--gp-only", action="store_true", help="skip scipy's local methods")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if WARPS[args.warp] is not None:  # in this process only, as bo_variants.py swaps it
        acquisition.standardize = WARPS[args.warp]
    fn, f = _hartmann(), TestFunction("hartmann6")
    target = f.optimum + 0.01 * f.value_range()
    t0 = time.perf_counter()

    local = {}
    starts = [] if args.gp_only else global_basin_starts(args.starts, seed=0, fn=fn)
    for method in () if args.gp_only else LOCAL_METHODS:
        hits = [first_hit(local_descent(method, x0, fn, args.cap), target) for x0 in starts]
        local[method] = summary(hits)
        print(method, {k: v for k, v in local[method].items() if k != "evals"}, flush=True)

    seeds = [
        s
        for s in range(args.seeds)
        if basin(best_initial_point(s, DEFAULT_INITIAL)[0], fn) == "global"
    ]
    print("seeds whose best initial point is in the global basin:", seeds, flush=True)
    runs = [first_hit(library_run(s, f), target) for s in seeds]
    gp = {"library (log EI, whole cube)": summary(runs)}
    for kind in BOX_ACQUISITIONS:
        name = f"{kind}, box {args.side:g}"
        gp[name] = summary([first_hit(box_run(s, kind, args.side, fn), target) for s in seeds])
    for name, row in gp.items():
        print(name, {k: v for k, v in row.items() if k != "evals"}, flush=True)

    doc = dict(
        command="benchmarks/bo_descent_speed.py " + " ".join(sys.argv[1:]),
        host=search_host(),
        target=target,
        budget=BUDGET,
        n_initial=DEFAULT_INITIAL,
        cap=args.cap,
        **({"warp": args.warp} if args.warp != "none" else {}),
        local_methods=local,
        gp_seeds=seeds,
        gp_descents=gp,
        seconds=time.perf_counter() - t0,
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
