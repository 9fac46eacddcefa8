"""Does a Hartmann-6 run end in the basin of its best initial point? Measured, per seed.

Hartmann-6 has two deep minima: the global one (-3.322) and a local one (-3.203) that
traps the stuck runs of every variant in `bo_variants.py`. For each seed this script
rebuilds the library's initial design (the first ``n_initial`` random points `minimize`
draws; they do not depend on the surrogate, so every variant with the same ``n_initial``
shares them), takes the best of them, and lets L-BFGS-B descend the true function from
it: the minimum it reaches names that point's basin. It then reads the committed
per-seed results (``benchmarks/results/bo_variants_*.json`` and ``bench_bo_*.json``)
and counts, per variant, how often a run reached the target (1% of the range) when
its best initial point lay in the global basin and when it did not. Last, a Monte Carlo
of the same descent from the best of ``n`` uniform points, for several ``n``: how often
a method that descends from its best initial point could start in the right basin.

    .venv/bin/python benchmarks/bo_basins.py \
        --out benchmarks/results/bo_basins_2026-12-03.json
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys

import numpy as np
import torch
from scipy.optimize import minimize as scipy_minimize

from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

GLOBAL, LOCAL = -3.32237, -3.20316  # Hartmann-6's two deepest minima
DEFAULT_INITIAL = 7  # `minimize`'s n_initial for 6 dimensions and a budget of 40


def _hartmann():
    from botorch.test_functions import Hartmann

    return Hartmann(dim=6)


def basin(x0: np.ndarray, fn=None) -> str:
    """``"global"``, ``"local"`` or ``"other"``: where L-BFGS-B on the true function ends."""
    fn = fn or _hartmann()

    def value_and_grad(x):
        t = torch.tensor(x, dtype=torch.double, requires_grad=True)
        v = fn(t.unsqueeze(0)).sum()
        v.backward()
        return float(v.detach()), t.grad.detach().numpy()

    r = scipy_minimize(value_and_grad, x0, jac=True, method="L-BFGS-B", bounds=[(0, 1)] * 6)
    if abs(r.fun - GLOBAL) < 0.01:
        return "global"
    return "local" if abs(r.fun - LOCAL) < 0.01 else "other"


def initial_design(seed: int, n_initial: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_initial`` random points `minimize` starts seed ``seed`` with, and their values."""
    f = TestFunction("hartmann6")
    r = minimize(f, f.space, budget=n_initial, n_initial=n_initial, seed=seed, noise=1e-4)
    done = [t for t in r.trials if t.status == "finished"]
    # Hartmann-6's box is the unit cube: the parameters are the coordinates
    x = np.array([[t.params[f"x{i}"] for i in range(6)] for t in done])
    return x, np.array([t.value for t in done])


def best_initial_point(seed: int, n_initial: int) -> tuple[np.ndarray, float]:
    """The best of the ``n_initial`` random points `minimize` starts seed ``seed`` with."""
    x, y = initial_design(seed, n_initial)
    return x[int(np.argmin(y))], float(np.min(y))


def n_initial_of(variant: str) -> int:
    m = re.search(r"initial-(\d+)", variant)
    return int(m.group(1)) if m else DEFAULT_INITIAL


def committed_outcomes(folder: str) -> dict[str, dict[int, bool]]:
    """Per variant, per seed: did the committed run reach 1% of the range in 40 evaluations?"""
    out: dict[str, dict[int, bool]] = {}
    for path in sorted(glob.glob(os.path.join(folder, "bo_variants_*.json"))):
        for row in json.load(open(path))["rows"]:
            if row.get("budget") != 40 or "per_seed" not in row:
                continue
            for s in row["per_seed"]:
                out.setdefault(row["variant"], {})[s["seed"]] = s["evals_to_1pct"] is not None
    for path, name in (
        ("bench_bo_2026-12-02.json", "default"),
        ("bench_bo_2026-12-02_trust_region.json", "trust-region"),
        ("bench_bo_matern_gamma_2026-12-02.json", "classic-prior"),
    ):
        doc = json.load(open(os.path.join(folder, path)))
        for row in doc["rows"]:
            if row["function"] == "hartmann6" and row["strategy"] == "bo":
                for s in row["per_seed"]:
                    out.setdefault(name, {})[s["seed"]] = s["evals_to_1pct"] is not None
    return out


def monte_carlo(sizes: list[int], draws: int, seed: int) -> dict:
    """How often the best of ``n`` uniform points lies in each basin (``draws`` per size)."""
    rng = np.random.default_rng(seed)
    fn = _hartmann()
    out = {}
    for n in sizes:
        counts = {"global": 0, "local": 0, "other": 0}
        for _ in range(draws):
            x = rng.random((n, 6))
            with torch.no_grad():
                y = fn(torch.tensor(x)).numpy()
            counts[basin(x[int(np.argmin(y))], fn)] += 1
        out[str(n)] = dict(draws=draws, **counts)
        print(f"best of {n:2d} uniform points: {counts}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60, help="seeds 0..N-1")
    ap.add_argument("--results", default="benchmarks/results")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 3, 7, 12, 20])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    outcomes = committed_outcomes(args.results)
    designs = sorted({n_initial_of(v) for v in outcomes} | {DEFAULT_INITIAL})
    starts: dict[str, dict[str, dict]] = {}
    for n in designs:
        starts[str(n)] = {}
        for seed in range(args.seeds):
            x, value = best_initial_point(seed, n)
            starts[str(n)][str(seed)] = dict(value=value, basin=basin(x))
        found = [s["basin"] for s in starts[str(n)].values()]
        print(
            f"{n:2d} initial points: best one in the global basin on "
            f"{found.count('global')}/{len(found)} seeds",
            flush=True,
        )
    by_variant = {}
    for variant, seeds in sorted(outcomes.items()):
        table = starts[str(n_initial_of(variant))]
        split = {"global": [0, 0], "not_global": [0, 0]}
        for seed, hit in seeds.items():
            if str(seed) not in table:
                continue
            side = "global" if table[str(seed)]["basin"] == "global" else "not_global"
            split[side][0] += int(hit)
            split[side][1] += 1
        by_variant[variant] = dict(n_initial=n_initial_of(variant), **split)
        g, ng = split["global"], split["not_global"]
        print(
            f"{variant:>30}: target reached from a global-basin start {g[0]}/{g[1]}, "
            f"from another start {ng[0]}/{ng[1]}",
            flush=True,
        )
    doc = dict(
        command="benchmarks/bo_basins.py " + " ".join(sys.argv[1:]),
        torch=torch.__version__,
        best_initial_basin=starts,
        outcome_by_start=by_variant,
        monte_carlo=monte_carlo(args.sizes, args.draws, seed=12345),
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(doc, fh, indent=1)


if __name__ == "__main__":
    main()
