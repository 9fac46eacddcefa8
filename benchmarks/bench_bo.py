"""Benchmark `skipsnn.search.minimize` on standard test functions against random search.

For Branin and Hartmann-6 (botorch.test_functions), each strategy gets the same budget
over several seeds. Reported per function and strategy: the median final gap
``best - optimum`` as a fraction of the function's value range, how many seeds ended
within 1% of the range, and the median number of evaluations needed to get there.
``--overhead`` also times one proposal (GP fit + gated EI optimization) at 100
observations on Hartmann-6 (default settings: 512 raw samples, 8 restarts).

    .venv/bin/python benchmarks/bench_bo.py --seeds 5 --budget 40 --overhead
    .venv/bin/python benchmarks/bench_bo.py --seeds 5 --first-seed 5   # held-out seeds 5-9
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from skipsnn.search.acquisition import propose
from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

NOISE = 1e-4  # the test functions are deterministic: fix the GP noise at its floor


def evals_to_target(best_so_far: list[float | None], target: float) -> int | None:
    for i, b in enumerate(best_so_far):
        if b is not None and b <= target:
            return i + 1
    return None


def run(
    functions: list[str], strategies: list[str], seeds: int, budget: int, first_seed: int = 0
) -> list[dict]:
    rows = []
    for name in functions:
        f = TestFunction(name)
        value_range = f.value_range()
        target = f.optimum + 0.01 * value_range
        for strategy in strategies:
            gaps, hits, needed, seconds = [], 0, [], []
            for seed in range(first_seed, first_seed + seeds):
                t0 = time.perf_counter()
                r = minimize(f, f.space, budget=budget, strategy=strategy, seed=seed, noise=NOISE)
                seconds.append(time.perf_counter() - t0)
                gaps.append((r.best_value - f.optimum) / value_range)
                n = evals_to_target(r.best_so_far(), target)
                hits += n is not None
                needed.append(n if n is not None else float("inf"))
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
                )
            )
    return rows


def proposal_overhead(n_obs: int = 100, repeats: int = 3) -> float:
    f = TestFunction("hartmann6")
    space = f.space
    points = space.sample(np.random.default_rng(0), n_obs)
    values = [f(p) for p in points]
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        propose(space, points, values, [], 1, seed=r, noise=NOISE)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = run(args.functions, args.strategies, args.seeds, args.budget, args.first_seed)
    overhead = proposal_overhead() if args.overhead else None
    if args.json:
        print(json.dumps({"rows": rows, "proposal_seconds_at_100_obs": overhead}, indent=2))
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
    if overhead is not None:
        print(
            f"\nproposal overhead at 100 observations (Hartmann-6, GP fit + gated EI): {overhead:.2f} s"
        )


if __name__ == "__main__":
    main()
