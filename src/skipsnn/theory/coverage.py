"""Coverage: which ``(t_in, t_out)`` pairs a layer budget reaches, with skips and without.

For every point of an ``N x N`` grid over ``[t_min, t_max]^2``, `coverage` runs the
skip-layer solver (`approximate_period`, non-tonic and excitatory) and the chain search
(`search_chains`, no skips), and reports per layer budget ``L = 1..max_layers`` the share
of points reached within ``eps``: with skips when the solver's verified network has at
most ``L`` layers, without when some searched chain of at most ``L`` layers hit. Points
with ``t_out < t_in`` are out of reach in this model (a non-tonic network cannot output
faster than its input); the shares are given over all points and over those with
``t_out >= t_in``. `coverage_figure` draws the reached points and the error maps.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..atomic import save_figure
from ..errors import ParameterError
from ..neuron import NeuronParams
from .approximate import approximate_period, check_target
from .chains import search_chains


def coverage(
    t_min: float,
    t_max: float,
    grid: int,
    eps: float,
    max_layers: int = 8,
    base: NeuronParams = NeuronParams(),
    samples: int = 600,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Run both searches on the grid; return shares per budget and the per-point results.

    ``progress`` draws a bar over the grid points on a terminal: a 200 x 200 grid with a
    million chains per point runs for hours, and should say so.
    """
    check_target(t_min, t_max, eps, max_layers)
    if not t_max > t_min:
        raise ParameterError(f"t_max ({t_max}) must be above t_min ({t_min})")
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 2:
        raise ParameterError(f"grid must be a whole number >= 2, got {grid!r}")
    ts = np.linspace(t_min, t_max, grid)
    skip_layers = np.full((grid, grid), np.nan)  # [i_in, i_out]: layers of the solver's network
    skip_err = np.full((grid, grid), np.nan)
    chain_err = np.full((grid, grid, max_layers), np.nan)  # best error per chain length
    bar = tqdm(
        total=grid * grid,
        desc="coverage",
        unit="point",
        disable=not progress or not sys.stderr.isatty(),
    )
    for i, t_in in enumerate(ts):
        for j, t_out in enumerate(ts):
            r = approximate_period(float(t_in), float(t_out), eps, base, max_layers)
            if r.network is not None:
                skip_err[i, j] = r.error
                if r.found:
                    skip_layers[i, j] = len(r.network.layers)
            c = search_chains(float(t_in), float(t_out), eps, max_layers, samples, seed, base)
            for n, e in c.best_error_by_layers.items():
                if e is not None:
                    chain_err[i, j, n - 1] = e
            if c.error is not None:  # the event-driven check of the best chain
                n = len(c.network.layers)
                chain_err[i, j, n - 1] = min(
                    np.nan_to_num(chain_err[i, j, n - 1], nan=math.inf), c.error
                )
            bar.update()
    bar.close()
    upper = ts[None, :] >= ts[:, None]  # t_out >= t_in
    budgets = []
    for n in range(1, max_layers + 1):
        with_skips = np.nan_to_num(skip_layers, nan=math.inf) <= n
        best_chain = np.nanmin(
            np.where(np.isnan(chain_err[:, :, :n]), np.inf, chain_err[:, :, :n]), 2
        )
        without = best_chain <= eps
        budgets.append(
            {
                "max_layers": n,
                "with_skips": float(with_skips.mean()),
                "without_skips": float(without.mean()),
                "with_skips_ratio_ge_1": float(with_skips[upper].mean()),
                "without_skips_ratio_ge_1": float(without[upper].mean()),
            }
        )
    best_chain_all = np.min(np.where(np.isnan(chain_err), np.inf, chain_err), 2)
    return {
        "t_min": t_min,
        "t_max": t_max,
        "grid": grid,
        "eps": eps,
        "max_layers": max_layers,
        "samples": samples,
        "seed": seed,
        "base": base._asdict(),
        "t": ts.tolist(),
        "budgets": budgets,
        "skip_layers": [[None if math.isnan(x) else int(x) for x in row] for row in skip_layers],
        "skip_error": [[None if math.isnan(x) else float(x) for x in row] for row in skip_err],
        "chain_error": [
            [None if math.isinf(x) else float(x) for x in row] for row in best_chain_all
        ],
    }


def coverage_figure(result: dict[str, Any], path: str | Path) -> None:
    """Reached points (with / without skips) and the two error maps, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = np.asarray(result["t"])
    eps = result["eps"]

    def arr(key):
        return np.array([[np.nan if x is None else x for x in row] for row in result[key]], float)

    skip_err, chain_err = arr("skip_error"), arr("chain_error")
    reached_skip = ~np.isnan(arr("skip_layers"))
    reached_chain = chain_err <= eps
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), constrained_layout=True)
    ti, to = np.meshgrid(ts, ts, indexing="ij")
    ax = axes[0]
    ax.scatter(ti[~reached_skip], to[~reached_skip], s=12, c="lightgray", label="not reached")
    ax.scatter(ti[reached_skip], to[reached_skip], s=22, c="tab:blue", label="with skips")
    ax.scatter(ti[reached_chain], to[reached_chain], s=8, c="tab:red", label="chain (no skip)")
    for k in range(1, int(ts[-1] / ts[0]) + 1):
        ax.plot(ts, k * ts, color="tab:red", lw=0.5, alpha=0.5)
    pad = 0.04 * (ts[-1] - ts[0])
    lim = (ts[0] - pad, ts[-1] + pad)
    ax.set(xlabel="t_in", ylabel="t_out", xlim=lim, ylim=lim)
    ax.set_title(f"reached within eps={eps:g}, <= {result['max_layers']} layers", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    for ax, err, name in (
        (axes[1], skip_err, "with skips"),
        (axes[2], chain_err, "chains, no skip"),
    ):
        shown = np.log10(np.clip(err / eps, 1e-3, 1e3))
        im = ax.imshow(
            shown.T,
            origin="lower",
            extent=(ts[0], ts[-1], ts[0], ts[-1]),
            cmap="RdBu_r",
            vmin=-3,
            vmax=3,
            aspect="auto",
        )
        ax.set(xlabel="t_in", ylabel="t_out")
        ax.set_title(f"log10(error / eps), {name} (blue: reached)", fontsize=9)
    fig.colorbar(im, ax=axes[1:], shrink=0.8)
    save_figure(fig, Path(path), dpi=100)
    plt.close(fig)
