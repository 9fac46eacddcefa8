"""The paired-difference figure of a comparison: every seed's difference, not just the mean.

A comparison's table gives each variant's mean paired difference to the reference with a
95% interval. The interval hides what a researcher checks next: is the mean carried by a
few seeds that trained badly, or by a shift on every seed? The figure answers that at a
glance: one column per variant (and label fraction), one dot per seed at
``variant - reference`` in accuracy points, the mean with its 95% Student-t interval
beside the dots, and a line at 0. The most extreme seed of each column is labelled.

`compare` draws it as ``paired_differences.png``; `plot_from_results` redraws it from a
finished comparison's ``results.json``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import save_figure
from ..errors import ConfigError
from ..folders import read_json_object
from .tables import accuracy_by_seed, ci95, fraction_percent, mean_ci

FIGURE = "paired_differences.png"


def paired_differences(
    results: list[dict], names: list[str], level: float = 0.95
) -> list[dict[str, Any]]:
    """Per (fraction, variant other than ``names[0]``): the seeds both ran and the differences
    ``variant - reference`` in points, with their mean, 95% half-width (``ci95``) and
    half-width at ``level`` (``ci``)."""
    columns = []
    fractions = list(dict.fromkeys(r["fraction"] for r in results))
    for f in fractions:
        acc = accuracy_by_seed(results, names, f)
        ref = acc[names[0]]
        for n in names[1:]:
            seeds = sorted(set(acc[n]) & set(ref))
            diffs = [acc[n][s] - ref[s] for s in seeds]
            mean, half, _ = ci95(diffs)
            label = n if len(fractions) == 1 else f"{n} ({fraction_percent(f)}%)"
            columns.append(
                {
                    "label": label,
                    "seeds": seeds,
                    "diffs": diffs,
                    "mean": mean,
                    "ci95": half,
                    "ci": mean_ci(diffs, level)[1],
                    "level": level,
                }
            )
    return columns


def plot_paired_differences(
    results: list[dict], names: list[str], title: str, path: str | Path, level: float = 0.95
) -> list[dict[str, Any]]:
    """Draw the figure to ``path`` (PNG, atomically), intervals at ``level``; return its
    columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = paired_differences(results, names, level)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 + 2.1 * len(columns)), 4.2))
    # A fixed spread, so that a redrawn figure is the same picture.
    jitter = np.random.default_rng(0)
    for i, col in enumerate(columns):
        d = np.asarray(col["diffs"], dtype=float)
        if d.size == 0:
            continue
        xs = i - 0.12 + jitter.uniform(-0.1, 0.1, d.size)
        ax.scatter(xs, d, s=12, alpha=0.6, color="C0", lw=0)
        if np.isfinite(col["ci"]):
            ax.errorbar(i + 0.18, col["mean"], yerr=col["ci"], fmt="o", color="k", capsize=4)
        else:  # one seed: a mean without an interval
            ax.plot(i + 0.18, col["mean"], "o", color="k")
        k = int(np.argmax(np.abs(d)))
        ax.annotate(
            f"seed {col['seeds'][k]}",
            (xs[k], d[k]),
            xytext=(6, 0),
            textcoords="offset points",
            fontsize=7,
            va="center",
        )
    ax.axhline(0, color="grey", lw=1, ls="--")
    labels = [textwrap.fill(c["label"], 24) for c in columns]  # long variant names wrap
    ax.set_xticks(range(len(columns)), labels, fontsize=8)
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylabel(f"minus {names[0]} (points)")
    n = max((len(c["seeds"]) for c in columns), default=0)
    ci = f"{100 * level:g}% CI"
    ax.set_title(f"{title}\nper-seed paired difference, mean ± {ci} ({n} seeds)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return columns


def _number(v, lo: float, hi: float) -> bool:
    return type(v) in (int, float) and lo <= v <= hi  # NaN fails both comparisons


def read_comparison(path: str | Path) -> tuple[dict, list[dict], list[str]]:
    """A comparison's results.json (a folder or the file): its data, its runs and its
    variants in table order, checked."""
    folder = Path(path)
    path = folder / "results.json" if folder.is_dir() else folder
    if not path.exists():
        raise ConfigError(f"{path} does not exist: give a comparison folder or its results.json")
    data = read_json_object(path)
    if "settings" in data and "experiment" in data:  # `reproduce search` writes these
        raise ConfigError(
            f"{path} is a search comparison ('skipsnn reproduce search'), whose table "
            "compares strategies; this reads 'skipsnn reproduce compare' folders"
        )
    runs, names = _runs(data, path)
    return data, runs, names


def _runs(data: dict, path: Path) -> tuple[list[dict], list[str]]:
    """The runs of a comparison's results.json and its variants in table order, checked."""
    runs, rows = data.get("runs"), data.get("rows")
    if not isinstance(runs, list) or not isinstance(rows, list) or not runs or not rows:
        raise ConfigError(f"{path} holds no comparison (no 'runs' and 'rows' lists)")
    for i, r in enumerate(runs):
        ok = (
            isinstance(r, dict)
            and isinstance(r.get("variant"), str)
            and type(r.get("seed")) is int
            and _number(r.get("fraction"), 1e-9, 1.0)
            and "test_accuracy" in r
            and (r["test_accuracy"] is None or _number(r["test_accuracy"], 0.0, 1.0))
        )
        if not ok:
            raise ConfigError(
                f"{path}: run {i} is not a comparison cell (a variant name, a whole seed, "
                "a label fraction in (0, 1] and a test accuracy in [0, 1] or null)"
            )
    names = [r.get("variant") if isinstance(r, dict) else None for r in rows]
    if not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{path}: every row must name its variant")
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        raise ConfigError(f"{path} compares fewer than two variants: nothing to pair")
    return runs, names


def plot_from_results(folder: str | Path, out: str | Path | None = None) -> dict[str, Any]:
    """Redraw the figure of a finished comparison folder (or its ``results.json``)."""
    folder = Path(folder)
    path = folder / "results.json" if folder.is_dir() else folder
    data, runs, names = read_comparison(path)
    out = Path(out) if out is not None else path.parent / FIGURE
    title = f"{path.parent.resolve().name} ({data.get('variant_set', 'compare')})"
    level = data.get("level", 0.95)  # a pooled comparison's declared level
    if not _number(level, 0.5, 0.9999):
        raise ConfigError(f"{path}: 'level' must be a confidence level in [0.5, 0.9999]")
    columns = plot_paired_differences(runs, names, title, out, level)
    return {"figure": str(out), "reference": names[0], "columns": columns}
