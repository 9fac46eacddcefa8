"""Benchmark `skipsnn.search.minimize` on standard test functions against random search.

For Branin and Hartmann-6 (botorch.test_functions), each strategy gets the same budget
over several seeds. Reported per function and strategy: the median final gap
``best - optimum`` as a fraction of the function's value range, how many seeds ended
within 1% of the range, and the median number of evaluations needed to get there.
``--overhead`` also times one proposal (GP fit + gated EI optimization, trust region
included) at 100 observations on Hartmann-6 (default settings: 512 raw samples, 8
restarts). ``--out FILE`` writes everything, per seed too, as JSON (with the load average
of the shared machine before, during and after).

    .venv/bin/python benchmarks/bench_bo.py --seeds 10 --budget 40 --overhead \
        --out benchmarks/results/bench_bo.json
    .venv/bin/python benchmarks/bench_bo.py --seeds 5 --first-seed 5   # held-out seeds 5-9
    .venv/bin/python benchmarks/bench_bo.py --trust-region   # with trust-region restarts
    .venv/bin/python benchmarks/bench_bo.py --kernel matern-gamma   # the other GP kernel
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

from skipsnn.search import optimizer
from skipsnn.search.acquisition import propose
from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

NOISE = 1e-4  # the test functions are deterministic: fix the GP noise at its floor


def evals_to_target(best_so_far: list[float | None], target: float) -> int | None:
    for i, b in enumerate(best_so_far):
        if b is not None and b <= target:
            return i + 1
    return None


def search_host() -> dict:
    """Where a run was made: the CPU and torch build (`skipsnn.train.devices.host`) and the
    versions of the libraries a GP fit's floating point runs through. The same seeded run
    reached the target at another evaluation on another day (docs/search.md, "Ninth
    round"), so every result file records these."""
    from importlib.metadata import version

    from skipsnn.train.devices import host

    here = host()
    for name in ("numpy", "scipy", "botorch", "gpytorch", "linear_operator"):
        here[name] = version(name)
    return here


def run(
    functions: list[str],
    strategies: list[str],
    seeds: int,
    budget: int,
    first_seed: int = 0,
    trust_region: bool = False,
    kernel: str = "rbf",
) -> list[dict]:
    rows = []
    for name in functions:
        f = TestFunction(name)
        value_range = f.value_range()
        target = f.optimum + 0.01 * value_range
        for strategy in strategies:
            gaps, hits, needed, seconds, per_seed = [], 0, [], [], []
            for seed in range(first_seed, first_seed + seeds):
                t0 = time.perf_counter()
                r = minimize(
                    f,
                    f.space,
                    budget=budget,
                    strategy=strategy,
                    seed=seed,
                    noise=NOISE,
                    trust_region=trust_region,
                    kernel=kernel,
                )
                seconds.append(time.perf_counter() - t0)
                gaps.append((r.best_value - f.optimum) / value_range)
                n = evals_to_target(r.best_so_far(), target)
                hits += n is not None
                needed.append(n if n is not None else float("inf"))
                per_seed.append(
                    dict(
                        seed=seed,
                        best=r.best_value,
                        gap_pct=100 * gaps[-1],
                        evals_to_1pct=n,
                        seconds=seconds[-1],
                        load=os.getloadavg()[0],
                    )
                )
            rows.append(
                dict(
                    function=name,
                    strategy=strategy,
                    budget=budget,
                    seeds=seeds,
                    first_seed=first_seed,
                    median_gap_pct=100 * statistics.median(gaps),
                    worst_gap_pct=100 * max(gaps),
                    within_1pct=hits,
                    median_evals_to_1pct=statistics.median(needed),
                    seconds_per_run=statistics.mean(seconds),
                    trust_region=trust_region and strategy == "bo",
                    kernel=kernel if strategy == "bo" else None,
                    per_seed=per_seed,
                )
            )
    return rows


def proposal_overhead(
    n_obs: int = 100, repeats: int = 3, trust_region: bool = False, kernel: str = "rbf"
) -> dict:
    """Median seconds of one proposal at ``n_obs`` random observations, as `minimize` makes it."""
    f = TestFunction("hartmann6")
    space = f.space
    points = space.sample(np.random.default_rng(0), n_obs)
    values = [f(p) for p in points]
    times, loads = [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        propose(
            space,
            points,
            values,
            [],
            1,
            seed=r,
            noise=NOISE,
            trust_region=optimizer.TRUST_REGION if trust_region else None,
            n_start=space.dim + 1,  # minimize's initial design for 6 dimensions
            kernel=kernel,
        )
        times.append(time.perf_counter() - t0)
        loads.append(os.getloadavg()[0])
    return dict(seconds=statistics.median(times), all_seconds=times, load=loads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", nargs="+", default=["branin", "hartmann6"])
    ap.add_argument("--strategies", nargs="+", default=["bo", "random"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (5 for held-out seeds 5-9)"
    )
    ap.add_argument(
        "--overhead", action="store_true", help="also time a proposal at 100 observations"
    )
    ap.add_argument(
        "--trust-region",
        action="store_true",
        help="BO with trust-region restarts (skipsnn.search.optimizer.TRUST_REGION)",
    )
    ap.add_argument("--kernel", default="rbf", help="the GP kernel (rbf or matern-gamma)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", help="also write the results (per seed too) to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tr = args.trust_region
    load_before = os.getloadavg()
    rows = run(
        args.functions, args.strategies, args.seeds, args.budget, args.first_seed, tr, args.kernel
    )
    overhead = proposal_overhead(trust_region=tr, kernel=args.kernel) if args.overhead else None
    result = {
        "command": " ".join(sys.argv),
        "rows": rows,
        "proposal_overhead_at_100_obs": overhead,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "trust_region": str(optimizer.TRUST_REGION) if tr else None,
        "host": search_host(),
    }
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        "| function | strategy | budget | median gap (% of range) | worst gap | seeds within 1% | median evals to 1% | s/run |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['function']} | {r['strategy']} | {r['budget']} | {r['median_gap_pct']:.3f} | "
            f"{r['worst_gap_pct']:.3f} | {r['within_1pct']}/{r['seeds']} | {r['median_evals_to_1pct']} | "
            f"{r['seconds_per_run']:.1f} |"
        )
    for r in rows:
        print(
            f"{r['function']} {r['strategy']} per seed: "
            + ", ".join(
                f"{s['seed']}: {s['best']:.4f} ({s['gap_pct']:.2f}%, {s['evals_to_1pct']})"
                for s in r["per_seed"]
            )
        )
    if overhead is not None:
        print(
            "\nproposal overhead at 100 observations (Hartmann-6, GP fit + gated EI): "
            f"{overhead['seconds']:.2f} s (load average {max(overhead['load']):.1f})"
        )


if __name__ == "__main__":
    main()
