"""One markdown report from run folders: a summary table and every plot they hold.

A run folder is anything skipsnn wrote with ``--out``: a training run (``metrics.json``),
a search (``best.json``, convergence plot), or a reproduction (``table3.md`` /
``ablation.md``). Plots are linked relative to the report, so the report and the runs can
be moved together.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import write_text
from ..errors import ConfigError, SkipSNNError
from ..folders import check_run_folder, read_json_object, read_result_text

SUMMARY_KEYS = (
    "test_accuracy",
    "val_accuracy",
    "val_loss",
    "params",
    "epochs",
    "label_fraction",
    "train_seconds",
)
# Plots people look for first come first; the rest follow alphabetically.
PLOT_ORDER = ("curves", "training", "confusion", "raster", "kernels", "convergence", "accuracy")


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _mapping(v) -> dict:
    """A part of best.json that should be an object; anything else shows as missing."""
    return v if isinstance(v, dict) else {}


def _table(path: Path) -> str:
    try:
        return read_result_text(path).strip()
    except UnicodeDecodeError as e:
        raise SkipSNNError(f"{path} is not UTF-8 text (byte {e.start} is not valid)") from None


def _plot_rank(p: Path) -> tuple[int, str]:
    name = p.name.lower()
    for i, key in enumerate(PLOT_ORDER):
        if key in name:
            return i, name
    return len(PLOT_ORDER), name


def describe_run(run_dir: Path) -> dict:
    """What a run folder holds: kind, metrics, markdown tables, plots."""
    check_run_folder(run_dir)
    metrics = {}
    for name in ("metrics.json", "best.json"):
        f = run_dir / name
        if f.exists():
            metrics.update(read_json_object(f))
    tables = sorted(p for p in run_dir.glob("*.md") if p.name != "report.md")
    plots = sorted(run_dir.glob("*.png"), key=_plot_rank)
    for p in plots:  # linked, not read: a folder or pipe would be linked as a plot
        if not p.is_file():
            raise ConfigError(f"{p} is not a regular file")
    if not (metrics or tables or plots):
        raise SkipSNNError(
            f"{run_dir} holds no skipsnn results (no metrics.json, best.json, tables or plots)"
        )
    if (run_dir / "best.json").exists():
        kind = "search"
    elif tables:
        kind = "reproduction"
    elif (run_dir / "metrics.json").exists():
        kind = "training run"
    else:
        kind = "plots"
    return {"dir": run_dir, "kind": kind, "metrics": metrics, "tables": tables, "plots": plots}


def build_report(run_dirs: list[Path], out_file: Path, title: str = "skipsnn report") -> str:
    """Write the report to ``out_file`` (atomically) and return its text."""
    runs = [describe_run(Path(d)) for d in run_dirs]
    base = out_file.parent.resolve()
    lines = [f"# {title}", ""]
    trained = [r for r in runs if r["kind"] == "training run"]
    if trained:
        lines += [
            "| run | " + " | ".join(SUMMARY_KEYS) + " |",
            "|---" * (len(SUMMARY_KEYS) + 1) + "|",
        ]
        for r in trained:
            row = [_fmt(r["metrics"].get(k)) for k in SUMMARY_KEYS]
            lines.append(f"| {r['dir'].name} | " + " | ".join(row) + " |")
        lines.append("")
    for r in runs:
        lines += [f"## {r['dir'].name} ({r['kind']})", ""]
        if r["kind"] == "search":
            m = r["metrics"]
            best = _mapping(m.get("best"))
            arch = ", ".join(f"{k}={v}" for k, v in _mapping(best.get("architecture")).items())
            lines += [
                f"- {m.get('strategy', '?')} search, objective: {m.get('objective', '?')}",
                f"- best: {_fmt(best.get('val_loss'))} with {arch or '?'}",
            ]
            final = _mapping(m.get("final"))
            if final.get("test_accuracy") is not None:
                lines.append(f"- final model test accuracy: {_fmt(final['test_accuracy'])}")
            lines.append("")
        for t in r["tables"]:
            lines += [_table(t), ""]
        for p in r["plots"]:
            rel = os.path.relpath(p.resolve(), base)
            lines += [f"![{p.stem}]({rel})", ""]
    text = "\n".join(lines)
    write_text(out_file, text)
    return text
