"""The paper's protocol and the pathway ablation, as resumable grids of training runs.

`table3` trains every (method, label fraction, seed) cell of Table 3; `ablation` trains
homogeneous and heterogeneous networks, with and without skips, at an equal parameter
budget, beside each network's memory-pathway count (Lemmas 4 and 5). Every run has its
own folder under ``out/runs``; a cell whose ``metrics.json`` exists is read, not
retrained, so a killed grid resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from tqdm import tqdm

from ..atomic import save_figure, write_json, write_text
from ..config import Config, default_config
from ..errors import ConfigError, shown
from ..folders import read_json_object
from ..limits import LIMITS
from ..network import count_params
from ..theory.pathways import count_pathways
from .paper import DEFAULT_FRACTIONS
from .tables import aggregate, fraction_percent, half_ci95, mean_std, table3_markdown

TrainFn = Callable[..., dict]


def _default_train(cfg: Config, out_dir: Path, data: Any, progress: bool) -> dict:
    from ..train import run_training

    # A cell killed mid-run continues from its checkpoint.
    resume = (out_dir / "checkpoint.pt").exists()
    return run_training(cfg, out_dir, data=data, progress=progress, resume=resume)


def _load_data(cfg: Config, progress: bool):
    from ..train.setup import load_data

    return load_data(cfg, None, progress)


def read_finished(
    path: Path, numbers: Sequence[str] = ("test_accuracy",), keys: Sequence[str] = ()
) -> dict[str, Any]:
    """The record of a cell that finished on an earlier run of a grid. A damaged one (not
    JSON, not an object, one of ``keys`` missing, one of ``numbers`` neither a number nor
    null) is one `ConfigError` sentence naming the file, not a traceback in the tables."""
    r = read_json_object(path)
    for key in keys:
        if key not in r:
            raise ConfigError(f"{path} has no {key!r}; delete it to run the cell again")
    for key in numbers:
        v = r.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ConfigError(
                f"{path} holds {key} = {shown(v)}, not a number; delete it to run the cell again"
            )
    return r


def _run_cell(
    cfg: Config, run_dir: Path, data: Any, train_fn: TrainFn, progress: bool
) -> dict[str, Any]:
    """Metrics of one run: read if it finished before, else trained now."""
    done = run_dir / "metrics.json"
    if done.exists():
        return read_finished(done, ("test_accuracy", "val_accuracy", "train_accuracy", "params"))
    try:
        return train_fn(cfg, run_dir, data, progress)
    except (ArithmeticError, RuntimeError) as e:  # one failed cell does not stop the grid
        error = f"{type(e).__name__}: {e}"
        tqdm.write(f"skipsnn: {run_dir} failed ({error}); recorded as failed, going on")
        return {"test_accuracy": None, "error": error}


def _fraction_tag(f: float) -> str:
    """The label fraction in a run folder's name: f010 for 10% (zero-padded whole percent,
    as every existing run is named), f0.1 for 0.1%."""
    whole = round(100 * f)
    return f"f{whole:03d}" if whole >= 1 else f"f{fraction_percent(f)}"


LOWEST_FRACTION = LIMITS["train.label_fraction"][0]


def check_fractions(fractions: Sequence[float]) -> None:
    """Label fractions in the range of `LIMITS` (down to 0.0001%, the least percentage a
    run folder and a table column can name in plain digits), no two of them in one run
    folder (named at whole percent: 0.5 twice, or 0.3 and 0.304, would read one run as two
    cells) or in one column of the table (`aggregate` groups fractions at three decimals:
    0.001 and 0.0011)."""
    seen: dict[str, float] = {}
    columns: dict[float, float] = {}
    for f in fractions:
        if not LOWEST_FRACTION <= f <= 1:
            raise ConfigError(
                f"label fractions must lie between {LOWEST_FRACTION:g} and 1, got {f:g}"
            )
        tag = _fraction_tag(f)
        if tag in seen:
            raise ConfigError(
                f"label fractions {seen[tag]!r} and {f!r} are the same at whole percent, which "
                "names the run folders; give fractions that differ there"
            )
        seen[tag] = f
        column = round(f, 3)
        if column in columns:
            raise ConfigError(
                f"label fractions {columns[column]!r} and {f!r} are the same at three decimals, "
                "which the tables group them by; give fractions that differ there"
            )
        columns[column] = f


def table3(
    cfg: Config,
    out: Path,
    *,
    fractions: Sequence[float] | None = None,
    methods: Sequence[str] = ("stdp", "bptt"),
    seeds: int = 3,
    progress: bool = True,
    train_fn: TrainFn = _default_train,
    data: Any = None,
) -> dict[str, Any]:
    """Accuracy against the labelled fraction for each method, mean +- std over seeds.

    Writes ``out/table3.md`` (the paper's layout, its numbers beside ours for its own
    datasets), ``out/results.json`` and ``out/accuracy_vs_labels.png``.
    """
    name = cfg.dataset.name
    fractions = list(fractions or DEFAULT_FRACTIONS[name])
    check_fractions(fractions)
    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    data = _load_data(cfg, progress) if data is None else data
    cells = [(m, f, s) for m in methods for f in fractions for s in range(seeds)]
    results = []
    for m, f, s in tqdm(cells, desc=f"table3 {name}", disable=not progress):
        run_cfg = cfg.replace(train={"method": m, "label_fraction": f, "seed": s})
        run_dir = out / "runs" / f"{m}-{_fraction_tag(f)}-s{s}"
        r = _run_cell(run_cfg, run_dir, data, train_fn, progress)
        results.append(
            {
                "method": m,
                "fraction": f,
                "seed": s,
                "test_accuracy": r.get("test_accuracy"),
                "params": r.get("params"),
                "train_seconds": r.get("train_seconds"),
                "run": str(run_dir),
                **({"error": r["error"]} if "error" in r else {}),
            }
        )
    md = table3_markdown(name, results, fractions)
    write_text(out / "table3.md", md)
    write_json(out / "results.json", results)
    plot_accuracy_vs_fraction(name, results, out / "accuracy_vs_labels.png")
    return {"table": md, "results": results}


def _no_nan(half: float) -> float:
    """An error bar's half-width: none (0) where one seed gives no interval (nan)."""
    return 0.0 if math.isnan(half) else half


def plot_accuracy_vs_fraction(dataset: str, results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .paper import TABLE3
    from .tables import METHOD_LABEL

    agg = aggregate(results)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for i, m in enumerate(sorted({m for m, _ in agg})):
        fs = sorted(f for mm, f in agg if mm == m)
        mean = [agg[(m, f)]["mean"] for f in fs]
        ci = [_no_nan(agg[(m, f)]["ci95"]) for f in fs]
        ax.errorbar(
            [100 * f for f in fs],
            mean,
            yerr=ci,
            marker="o",
            capsize=3,
            color=f"C{i}",
            label=f"{METHOD_LABEL.get(m, m)} (measured)",
        )
        paper = TABLE3.get(dataset, {}).get(m, {}).get("acc")
        if paper:
            pf = sorted(paper)
            ax.plot(
                [100 * f for f in pf],
                [paper[f] for f in pf],
                ls="--",
                marker="x",
                color=f"C{i}",
                label=f"{METHOD_LABEL.get(m, m)} (paper)",
            )
    ax.set_xlabel("labelled training data (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{dataset}: accuracy against labels (mean, 95% CI)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------------------
# Ablation: heterogeneous dynamics and skips, at an equal parameter budget
# ---------------------------------------------------------------------------------------


class Variant(NamedTuple):
    name: str
    n_dynamic: int
    skip: bool


VARIANTS = (
    Variant("homogeneous, no skip", 1, False),
    Variant("homogeneous, skip", 1, True),
    Variant("heterogeneous, no skip", 0, False),  # 0: the base config's n_dynamic (>= 2)
    Variant("heterogeneous, skip", 0, True),
)


def variant_config(base: Config, v: Variant) -> Config:
    """The base config changed to the variant's dynamics and skips (architecture otherwise equal).

    Homogeneous networks use one dynamic, the middle of the base's (tau_m and the gain
    R_m/tau_m geometric, a linear; `config.spread_dynamics`); heterogeneous ones keep the
    base's dynamics (at least two). With skips the base's skip rule is kept, or one skip
    from the input to layer 2 is added.
    """
    net = base.network
    m = len(net.layers)
    hetero = max(net.n_dynamic, 2) if v.n_dynamic == 0 else v.n_dynamic
    if v.skip:
        s = net.skip
        skip = (s.n_skip, s.l_start, s.l_end) if s.n_skip > 0 else (1, 0, min(2, m))
    else:
        skip = (0, 0, 0)
    # with_architecture spreads a new number of dynamics between the base's extremes;
    # one dynamic is their geometric middle.
    return base.with_architecture(m, hetero, *skip)


def match_budget(cfg: Config, target: int, input_shape, n_classes) -> Config:
    """Widen or narrow the last spiking layer so the parameter count is closest to ``target``.

    Skip adapters add parameters; equal budgets keep the comparison about dynamics and
    pathways rather than size.
    """
    layers = [dataclasses.asdict(layer) for layer in cfg.network.layers]
    best, best_gap = cfg, abs(count_params(cfg, input_shape, n_classes) - target)
    c0 = layers[-1]["channels"]
    for c in range(max(cfg.network.n_dynamic, c0 // 2), 2 * c0 + 1):
        layers[-1]["channels"] = c
        cand = cfg.replace(network={"layers": [dict(x) for x in layers]})
        gap = abs(count_params(cand, input_shape, n_classes) - target)
        if gap < best_gap:
            best, best_gap = cand, gap
    return best


def ablation(
    cfg: Config,
    out: Path,
    *,
    seeds: int = 3,
    progress: bool = True,
    train_fn: TrainFn = _default_train,
    data: Any = None,
) -> dict[str, Any]:
    """Train the four variants over ``seeds`` seeds; write ``ablation.md`` and a plot."""
    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    data = _load_data(cfg, progress) if data is None else data
    train_set = data["train"] if isinstance(data, dict) else data[0]
    input_shape = tuple(int(v) for v in train_set.x.shape[2:])
    n_classes = len(train_set.classes)
    configs = [variant_config(cfg, v) for v in VARIANTS]
    budget = max(count_params(c, input_shape, n_classes) for c in configs)
    configs = [match_budget(c, budget, input_shape, n_classes) for c in configs]

    rows = []
    cells = [(v, c, s) for v, c in zip(VARIANTS, configs, strict=True) for s in range(seeds)]
    results: dict[str, list] = {v.name: [] for v in VARIANTS}
    for v, c, s in tqdm(cells, desc="ablation", disable=not progress):
        tag = v.name.replace(", ", "-").replace(" ", "_")
        r = _run_cell(
            c.replace(train={"seed": s}), out / "runs" / f"{tag}-s{s}", data, train_fn, progress
        )
        results[v.name].append(r.get("test_accuracy"))
    for v, c in zip(VARIANTS, configs, strict=True):
        net = c.network
        pathways = count_pathways([net.n_dynamic] * len(net.layers), c.skip_edges())
        accs = [100 * a for a in results[v.name] if a is not None]
        mean, std, n = mean_std(accs)
        rows.append(
            {
                "variant": v.name,
                "n_dynamic": net.n_dynamic,
                "skips": [list(e) for e in c.skip_edges()],
                "params": count_params(c, input_shape, n_classes),
                "pathways": pathways,
                "accuracy_mean": mean,
                "accuracy_std": std,
                "accuracy_per_seed": accs,  # seeds 0.. in order, failed runs left out
                "seeds": n,
                "failed": len(results[v.name]) - n,
            }
        )
    md = ablation_markdown(cfg.dataset.name, rows)
    write_text(out / "ablation.md", md)
    write_json(out / "results.json", rows)
    plot_ablation(rows, out / "accuracy_vs_pathways.png")
    return {"table": md, "rows": rows}


def ablation_markdown(dataset: str, rows: list[dict]) -> str:
    lines = [
        f"| {dataset} | dynamics per layer | skips | params | memory pathways | test accuracy (%) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        skips = ", ".join(f"{a}->{b}" for a, b in r["skips"]) or "none"
        if r["seeds"] == 0:
            acc = "—"
        elif r["seeds"] == 1:  # no interval from one seed
            acc = f"{r['accuracy_mean']:.1f} (n=1)"
        else:
            half = half_ci95(r["accuracy_std"], r["seeds"])
            acc = f"{r['accuracy_mean']:.1f} ± {half:.1f} (n={r['seeds']})"
        lines.append(
            f"| {r['variant']} | {r['n_dynamic']} | {skips} | {r['params']:,} | {r['pathways']} | {acc} |"
        )
    lines += ["", "Test accuracy: mean ± half-width of its 95% confidence interval (Student t)."]
    return "\n".join(lines) + "\n"


def plot_ablation(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for i, r in enumerate(rows):
        if r["seeds"]:
            ax.errorbar(
                r["pathways"],
                r["accuracy_mean"],
                yerr=_no_nan(half_ci95(r["accuracy_std"], r["seeds"])),
                marker="o",
                capsize=3,
                color=f"C{i}",
                label=r["variant"],
            )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("memory pathways (Lemmas 4, 5)")
    ax.set_title("mean and 95% CI over seeds", fontsize=9)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)


def base_config(
    dataset: str, config_file: Path | None, root: str | None, epochs: int | None
) -> Config:
    cfg = Config.load(config_file) if config_file else default_config(dataset)
    ds = {"name": dataset, **({"root": root} if root is not None else {})}
    tr = {"epochs": epochs} if epochs is not None else {}
    return cfg.replace(dataset=ds, train=tr)
