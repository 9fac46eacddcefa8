"""A short tour of the theory, printed and drawn: ``skipsnn demo --theory-only``.

`theory_tour` computes every number it shows (closed forms next to the exact simulator),
writes ``theory_tour.png`` and ``theory_tour.json`` into the output folder, and returns
the same summary with the printable text.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import save_figure, write_text
from ..neuron import NeuronParams, jump, periodic_times, simulate_neuron
from .approximate import approximate_period
from .chains import search_chains
from .coverage import coverage, coverage_figure
from .pathways import closed_form, count_pathways
from .response import conductance_interval, cutoff_period, response_rate

NEURON = NeuronParams(a=0.0, tau_m=20.0, r_m=1.0, v_th=1.0, v_reset=0.0)
PERIOD, G = 5.0, 10.0
STAIRCASE_G = (6.0, 10.0, 14.0, 19.0)
COVERAGE = dict(t_min=5.0, t_max=20.0, grid=6, eps=0.1, max_layers=8, samples=200)


def membrane_trace(trace, p: NeuronParams, dv: float, points_per_gap: int = 40):
    """Continuous ``(t, v)`` from the simulator's event record ``(t, v_before, v_after)``.

    Exponential decay between events; at each input the jump ``dv`` is drawn up to its
    peak before the reset, so threshold crossings show. (Input events only: no tonic.)
    """
    ts, vs = [], []
    for (t0, _, v0), (t1, v1_before, v1_after) in zip(trace, trace[1:], strict=False):
        tt = np.linspace(t0, t1, points_per_gap)
        ts.append(tt)
        vs.append(p.a + (v0 - p.a) * np.exp(-(tt - t0) / p.tau_m))
        if v1_after != v1_before:  # an input arrived (the last record only closes the run)
            ts.append([t1, t1])
            vs.append([v1_before + dv, v1_after])
    return np.concatenate(ts), np.concatenate(vs)


def _figure(path: Path, summary: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 7), constrained_layout=True)
    t_end = 12 * PERIOD
    inputs = periodic_times(PERIOD, t_end)
    out, trace = simulate_neuron(inputs, jump(NEURON, G), NEURON, t_end, record=True)
    t, v = membrane_trace(trace, NEURON, jump(NEURON, G))
    ax1.plot(t, v, color="tab:blue", lw=1.2, label="membrane potential v(t)")
    ax1.axhline(NEURON.v_th, color="k", ls="--", lw=0.8, label="v_th")
    ax1.vlines(inputs, -0.35, -0.15, color="tab:gray", label="input spikes")
    ax1.vlines(out, 1.35, 1.55, color="tab:red", lw=2, label="output spikes")
    ax1.set(
        xlabel="time",
        ylabel="v",
        title=f"one neuron, inputs every T={PERIOD:g}, G={G:g}: gamma = "
        f"{summary['response_rate']['gamma']}",
    )
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, ncols=4)

    periods = np.linspace(0.2, 70.0, 1000)
    for g in STAIRCASE_G:
        gammas = np.array([response_rate(T, g, NEURON) for T in periods], dtype=float)
        (line,) = ax2.step(periods, np.where(np.isinf(gammas), np.nan, gammas), where="post")
        tc = cutoff_period(g, NEURON)
        label = f"G={g:g}" + (f", cutoff {tc:.3g}" if tc else ", no cutoff")
        line.set_label(label)
        if tc:
            ax2.axvline(tc, color=line.get_color(), ls=":", lw=1)
    ax2.set(
        xlabel="input period T",
        ylabel="response rate gamma(T)",
        ylim=(0, 12),
        title="response-rate staircase; dotted: cutoff period (gamma infinite beyond)",
    )
    ax2.legend(fontsize=8, loc="center right")
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def theory_tour(out_dir: str | os.PathLike) -> dict[str, Any]:
    """Compute the tour, write the figure and summary into ``out_dir``, return the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = NEURON
    gamma = response_rate(PERIOD, G, p)
    sim = simulate_neuron(periodic_times(PERIOD, 10 * PERIOD), jump(p, G), p, 10 * PERIOD)
    intervals = [conductance_interval(k, PERIOD, p) for k in (1, 2, 3, 4)]
    tc = cutoff_period(G, p)

    def fires(period: float) -> bool:
        t_end = 3000 * period
        return simulate_neuron(periodic_times(period, t_end), jump(p, G), p, t_end).size > 0

    dyn, skips = [2, 3, 2, 4], [(1, 3)]
    approx = {
        "x1.5 with skips": approximate_period(10.0, 15.0, 0.01, p),
        "x1.04 with skips": approximate_period(10.0, 10.4, 0.01, p),
        "x0.4 (non-tonic)": approximate_period(10.0, 4.0, 0.01, p),
        "x0.4 with --allow-tonic": approximate_period(10.0, 4.0, 0.01, p, allow_tonic=True),
    }
    chains = {
        "x1.5 without skips": search_chains(10.0, 15.0, 0.01, 8, 1000, 0, p),
        "x6 without skips": search_chains(10.0, 60.0, 0.01, 8, 1000, 0, p),
    }
    cov = coverage(base=p, **COVERAGE)
    cov_path = out / "theory_coverage.png"
    coverage_figure(cov, cov_path)
    summary: dict[str, Any] = {
        "neuron": p._asdict(),
        "response_rate": {
            "period": PERIOD,
            "g": G,
            "gamma": gamma,
            "simulated_output_spikes": sim.tolist(),
        },
        "lemma1": [
            {
                "gamma": iv.gamma,
                "g_min": iv.g_min,
                "g_max": iv.g_max if math.isfinite(iv.g_max) else None,
            }
            for iv in intervals
        ],
        "cutoff": {
            "g": G,
            "cutoff_period": tc,
            "fires_at_0.99": fires(0.99 * tc),
            "fires_at_1.01": fires(1.01 * tc),
        },
        "pathways": {
            "dynamics": dyn,
            "skips": skips,
            "count": count_pathways(dyn, skips),
            "closed_form": closed_form(dyn, skips),
        },
        "approximate": {
            name: {
                "found": r.found,
                "measured_period": r.measured_period,
                "construction": r.plan.kind if r.plan else None,
                "layers": len(r.network.layers) if r.network else None,
                "skips": r.network.skips if r.network else None,
                "setting": r.setting(),
                "reason": r.reason,
            }
            for name, r in approx.items()
        },
        "chain_search": {
            name: {
                "found": c.found,
                "measured_period": c.measured_period,
                "error": c.error,
                "candidates": c.candidates,
            }
            for name, c in chains.items()
        },
        "coverage": {
            **COVERAGE,
            "budgets": cov["budgets"],
            "figure": str(cov_path),
        },
    }
    lines = [
        "skipsnn theory tour (every number below is computed now)",
        f"1. Neuron a={p.a:g} tau_m={p.tau_m:g} R_m={p.r_m:g} v_th={p.v_th:g} v_reset={p.v_reset:g};"
        f" inputs every T={PERIOD:g} through G={G:g}: response rate gamma = {gamma};"
        f" the exact simulator fires at {', '.join(f'{s:g}' for s in sim)}.",
        f"2. Lemma 1, conductance intervals at T={PERIOD:g}: "
        + "; ".join(f"gamma {iv.gamma}: [{iv.g_min:.4g}, {iv.g_max:.4g})" for iv in intervals),
        f"3. Lemma 3, cutoff period for G={G:g}: {tc:.6g}; simulated 3000 inputs: fires at"
        f" 0.99 x cutoff: {summary['cutoff']['fires_at_0.99']}, at 1.01 x cutoff:"
        f" {summary['cutoff']['fires_at_1.01']}.",
        f"4. Memory pathways, dynamics {dyn} with skip 1->3: {summary['pathways']['count']}"
        f" by path counting, {summary['pathways']['closed_form']} by Lemma 5 (48 without the skip).",
        "5. Theorem 1, t_in = 10, eps = 0.01, non-tonic excitatory neurons unless told:",
    ]
    for name, r in approx.items():
        if r.found:
            n, sk = len(r.network.layers), r.network.skips
            skip_text = ", ".join(f"{a}->{b}" for a, b in sk) if sk else "none"
            lines.append(
                f"   {name}: found, measured period {r.measured_period:.6g} "
                f"({r.plan.kind}, {n} layer{'s' if n != 1 else ''}, skips {skip_text}; "
                f"{r.setting()})"
            )
        else:
            lines.append(f"   {name}: none found; {r.reason or 'no construction fits'}")
    lines.append("6. Lemma 2, searched: chains of 1..8 non-tonic neurons, every parameter free:")
    for name, c in chains.items():
        verdict = "found" if c.found else "none found"
        lines.append(
            f"   {name}: {verdict} among {c.candidates} simulated chains "
            f"(best measured period {c.measured_period:.6g}, error {c.error:.3g})"
        )
    b = cov["budgets"][-1]
    lines.append(
        f"7. Coverage of a {COVERAGE['grid']}x{COVERAGE['grid']} grid of (t_in, t_out) in "
        f"[{COVERAGE['t_min']:g}, {COVERAGE['t_max']:g}], eps {COVERAGE['eps']:g}, <= "
        f"{COVERAGE['max_layers']} layers, points with t_out >= t_in: with skips "
        f"{b['with_skips_ratio_ge_1']:.2f}, without {b['without_skips_ratio_ge_1']:.2f} "
        f"({cov_path})"
    )
    fig_path = out / "theory_tour.png"
    _figure(fig_path, summary)
    lines.append(f"Figure: {fig_path}")
    summary["figure"] = str(fig_path)
    summary["text"] = "\n".join(lines)
    write_text(out / "theory_tour.json", json.dumps(summary, indent=2))
    return summary
