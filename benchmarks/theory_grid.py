"""Theorem 1 / Lemma 2 on the grid of issue #14, and the layer count as a function of eps.

Grid: ``t_in`` in {7, 10, 13}, 16 ratios ``t_out / t_in`` spaced geometrically from 1.04
to 4.6, ``eps`` = 1% of ``t_out``. For every point:

- ``approximate_period`` (skips, non-tonic, excitatory; default budget 16 layers): is a
  network returned, is every neuron non-tonic (``a < v_th``) and every synapse excitatory,
  is there a skip (needed unless an integer multiple of ``t_in`` lies within ``eps``), and
  does a separate event-driven simulation of the network's JSON (written below, not
  `skipsnn.neuron`) give a period within ``eps``, measured over whole cycles;
- ``search_chains`` (no skips, every parameter free, ``--samples`` random chains plus the
  grid, up to the same 16 layers): does it find a chain, and its best error.

Then ``--eps-sweep``: for random ratios in [1.02, 5] and eps from 10% down to 0.01% of
``t_out``, the layers of the returned network (mean and max).

    .venv/bin/python benchmarks/theory_grid.py                # grid + eps sweep
    .venv/bin/python benchmarks/theory_grid.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from skipsnn.neuron import NeuronParams
from skipsnn.theory import approximate_period, search_chains


def simulate_json(net: dict, t_in: float, n_inputs: int) -> np.ndarray:
    """Event-driven simulation of `PeriodNetwork.to_dict()`; spike times of the last layer."""
    trains = [t_in * np.arange(1, n_inputs + 1)]
    for layer in net["layers"]:
        p = layer["neuron"]
        if not p["a"] < p["v_th"]:
            raise ValueError("tonic neuron: this simulator has no tonic firing")
        events: dict[float, float] = {}
        for inp in layer["inputs"]:
            dv = p["r_m"] * inp["g"] / p["tau_m"]
            for t in trains[inp["from"]]:
                events[t] = events.get(t, 0.0) + dv
        v, last, out = p["v_reset"], 0.0, []
        for t in sorted(events):
            v = p["a"] + (v - p["a"]) * math.exp(-(t - last) / p["tau_m"]) + events[t]
            last = t
            if v >= p["v_th"]:
                out.append(t)
                v = p["v_reset"]
        trains.append(np.asarray(out))
    return trains[-1]


def independent_period(r, cycles: int = 8) -> float:
    slots, t_in = r.plan.cycle_slots, r.t_in
    out = simulate_json(r.network.to_dict(), t_in, cycles * slots + 1)
    lo, hi = 2 * slots * t_in, cycles * slots * t_in
    n = np.count_nonzero((out > lo + 1e-9 * t_in) & (out <= hi + 1e-9 * t_in))
    return (hi - lo) / n if n else math.inf


def grid(samples: int, max_layers: int) -> dict:
    rows = []
    for t_in in (7.0, 10.0, 13.0):
        for ratio in np.geomspace(1.04, 4.6, 16):
            t_out = float(ratio * t_in)
            eps = 0.01 * t_out
            r = approximate_period(t_in, t_out, eps, max_layers=max_layers)
            near_int = abs(round(ratio) * t_in - t_out) <= eps
            row = {"t_in": t_in, "ratio": round(float(ratio), 6), "found": r.found}
            if r.found:
                layers = r.network.layers
                row.update(
                    construction=r.plan.kind,
                    plan_ratio=str(r.plan.ratio),
                    layers=len(layers),
                    skips=len(r.network.skips),
                    non_tonic=all(ly.neuron.a < ly.neuron.v_th for ly in layers),
                    excitatory=all(g > 0 for ly in layers for _, g in ly.inputs),
                    skip_needed=bool(not near_int),
                    independent_error=float(abs(independent_period(r) - t_out)),
                )
                row["confirmed"] = bool(row["independent_error"] <= eps)
            c = search_chains(t_in, t_out, eps, max_layers, samples)
            row.update(no_skip_found=c.found, no_skip_best_error=c.error, chains=c.candidates)
            rows.append(row)
    ok = [
        r
        for r in rows
        if r["found"]
        and r["non_tonic"]
        and r["excitatory"]
        and (r["skips"] > 0 or not r["skip_needed"])
        and r["confirmed"]
    ]
    non_integer = [r for r in rows if r.get("skip_needed", True)]
    return {
        "points": len(rows),
        "returned": sum(r["found"] for r in rows),
        "non_tonic_excitatory_skip_confirmed": len(ok),
        "non_integer_points": len(non_integer),
        "no_skip_found_on_non_integer": sum(r["no_skip_found"] for r in non_integer),
        "max_layers_used": max(r.get("layers", 0) for r in rows),
        "rows": rows,
    }


def eps_sweep(n_ratios: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    ratios = rng.uniform(1.02, 5.0, n_ratios)
    out = []
    for rel in (0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001):
        layers, found = [], 0
        t0 = time.perf_counter()
        for ratio in ratios:
            r = approximate_period(10.0, 10.0 * ratio, rel * 10.0 * ratio, NeuronParams(), 40)
            found += r.found
            if r.found:
                layers.append(len(r.network.layers))
        out.append(
            {
                "eps_relative": rel,
                "found": found,
                "of": n_ratios,
                "mean_layers": float(np.mean(layers)) if layers else None,
                "max_layers": max(layers) if layers else None,
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
    return out


def near_one(max_layers: int = 40) -> list[dict]:
    """Ratios 1 + 1/k, eps = 1 / (4 k^2) of t_in: the hardest targets, block P ~ k needed."""
    out = []
    for k in (4, 8, 16, 32, 64, 128, 256, 512, 1024):
        t_in = 10.0
        r = approximate_period(
            t_in, t_in * (1 + 1 / k), t_in / (4 * k * k), NeuronParams(), max_layers
        )
        out.append(
            {
                "k": k,
                "eps_over_t_in": 1 / (4 * k * k),
                "found": r.found,
                "plan": r.plan.args if r.found else None,
                "layers": len(r.network.layers) if r.found else None,
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=2000, help="random chains per no-skip search")
    ap.add_argument("--max-layers", type=int, default=16)
    ap.add_argument("--sweep-ratios", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the full results here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    g = grid(args.samples, args.max_layers)
    print(
        f"grid: {g['points']} points; returned {g['returned']}; non-tonic, excitatory, skip "
        f"where needed, confirmed by the separate simulator: "
        f"{g['non_tonic_excitatory_skip_confirmed']}; most layers used {g['max_layers_used']}"
    )
    print(
        f"no-skip search: found a chain on {g['no_skip_found_on_non_integer']} of "
        f"{g['non_integer_points']} non-integer points"
    )
    print("t_in  ratio   construction  layers skips  indep.err/eps  no-skip best err/eps")
    for r in g["rows"]:
        eps = 0.01 * r["ratio"] * r["t_in"]
        print(
            f"{r['t_in']:4g}  {r['ratio']:.4f}  {r.get('construction', '-'):12s}  "
            f"{r.get('layers', 0):5d}  {r.get('skips', 0):5d}  "
            f"{r.get('independent_error', math.nan) / eps:12.3g}  "
            f"{(r['no_skip_best_error'] or math.nan) / eps:12.3g}"
        )
    print(f"(grid: {time.perf_counter() - t0:.1f} s)")
    sweep = eps_sweep(args.sweep_ratios, args.seed)
    print(f"layers vs eps ({args.sweep_ratios} random ratios in [1.02, 5], budget 40):")
    for s in sweep:
        print(
            f"  eps = {s['eps_relative']:.2%} of t_out: found {s['found']}/{s['of']}, "
            f"layers mean {s['mean_layers']:.2f}, max {s['max_layers']}  ({s['seconds']} s)"
        )
    hard = near_one()
    print("near one: ratio 1 + 1/k with eps = t_in / (4 k^2) (budget 40):")
    for h in hard:
        print(
            f"  k = {h['k']:5d}: found {h['found']}, layers {h['layers']}, "
            f"plan (n, P, stages...) {h['plan']}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"grid": g, "eps_sweep": sweep, "near_one": hard}, f, indent=1)


if __name__ == "__main__":
    main()
