"""Aggregate run results over seeds and lay them out like the paper's Table 3."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from .paper import published, published_params_m

METHOD_LABEL = {"stdp": "mMND, STDP", "bptt": "mMND, BPTT"}


def mean_std(values: Iterable[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for a single value) and count."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0, int(v.size)


def half_ci(std: float, n: int, level: float = 0.95) -> float:
    """Half-width of the ``level`` confidence interval of a mean of ``n`` values with sample
    standard deviation ``std`` (Student t, n - 1 degrees of freedom; nan for n < 2)."""
    from scipy.stats import t as student_t

    if n < 2:
        return float("nan")
    return float(student_t.ppf(0.5 + level / 2, n - 1) * std / np.sqrt(n))


def half_ci95(std: float, n: int) -> float:
    """`half_ci` at 95%."""
    return half_ci(std, n, 0.95)


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, int]:
    """Mean, half-width of its ``level`` confidence interval (`half_ci`) and count."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    if v.size == 1:
        return float(v[0]), float("nan"), 1
    return float(v.mean()), half_ci(float(v.std(ddof=1)), int(v.size), level), int(v.size)


def ci95(values: Iterable[float]) -> tuple[float, float, int]:
    """`mean_ci` at 95%."""
    return mean_ci(values, 0.95)


def accuracy_by_seed(
    results: Iterable[Mapping], names: Iterable[str], fraction: float
) -> dict[str, dict[int, float]]:
    """Per variant name: seed -> test accuracy in points at ``fraction``; failed runs (no
    accuracy) are left out, so paired differences use the seeds both variants finished."""
    results = list(results)
    return {
        n: {
            r["seed"]: 100 * r["test_accuracy"]
            for r in results
            if r["variant"] == n and r["fraction"] == fraction and r["test_accuracy"] is not None
        }
        for n in names
    }


def aggregate(results: Iterable[Mapping]) -> dict[tuple[str, float], dict]:
    """Group results by (method, fraction): accuracy in percent over seeds, its mean, sample
    std and the half-width of the mean's 95% confidence interval (``ci95``, nan for one seed).

    Each result has ``method``, ``fraction``, ``seed``, ``test_accuracy`` (0..1) and
    ``params``. Failed runs (``test_accuracy`` None) are counted but not averaged.
    """
    groups: dict[tuple[str, float], list[Mapping]] = defaultdict(list)
    for r in results:
        groups[(r["method"], round(float(r["fraction"]), 3))].append(r)
    out = {}
    for key, rs in sorted(groups.items()):
        accs = [100.0 * r["test_accuracy"] for r in rs if r.get("test_accuracy") is not None]
        mean, std, n = mean_std(accs)
        out[key] = {
            "mean": mean,
            "std": std,
            "ci95": ci95(accs)[1],
            "n": n,
            "failed": len(rs) - n,
            "params": max((r.get("params") or 0) for r in rs),
        }
    return out


def _cell(stats: dict | None, paper: float | None) -> str:
    if stats is None or stats["n"] == 0:
        measured = "—"
    elif stats["n"] == 1:  # no interval from one seed
        measured = f"{stats['mean']:.1f}"
    else:
        measured = f"{stats['mean']:.1f} ± {stats['ci95']:.1f}"
    return f"{measured} ({paper:.1f})" if paper is not None else measured


def _has_paper(dataset: str, methods, fractions) -> bool:
    return any(published(dataset, m, f) is not None for m in methods for f in fractions)


def fraction_percent(f: float) -> str:
    """A label fraction in percent, as run folders and tables show it: whole percent, and
    below 0.5%, which whole percent would show as 0, three significant digits."""
    whole = round(100 * f)
    return str(whole) if whole >= 1 else f"{100 * f:.3g}"


def table3_markdown(dataset: str, results: Iterable[Mapping], fractions: Iterable[float]) -> str:
    """Markdown table: one row per method, one column per label fraction, then params.

    Cells read ``mean ± half-width of its 95% CI over seeds (paper)``; the paper's number
    appears only for the paper's own datasets.
    """
    agg = aggregate(results)
    shown = [float(f) for f in fractions]
    fractions = [round(f, 3) for f in shown]
    methods = sorted({m for m, _ in agg}, key=lambda m: (m != "stdp", m))
    head = (
        "| " + dataset + ", labelled data | " + " | ".join(f"{fraction_percent(f)}%" for f in shown)
    )
    lines = [head + " | params |", "|---" * (len(fractions) + 2) + "|"]
    for m in methods:
        cells = [_cell(agg.get((m, f)), published(dataset, m, f)) for f in fractions]
        params = max((s["params"] for (mm, _), s in agg.items() if mm == m), default=0)
        pp = published_params_m(dataset, m)
        ptxt = f"{params / 1e6:.3g}M" + (f" ({pp}M)" if pp is not None else "")
        lines.append(f"| {METHOD_LABEL.get(m, m)} | " + " | ".join(cells) + f" | {ptxt} |")
    seeds = sorted({s["n"] for s in agg.values()})
    lines += [
        "",
        "Test accuracy (%): mean ± half-width of its 95% confidence interval (Student t) over "
        + "/".join(map(str, seeds))
        + " seeds"
        + ("; the paper's number in brackets" if _has_paper(dataset, methods, fractions) else "")
        + ".",
    ]
    return "\n".join(lines) + "\n"
