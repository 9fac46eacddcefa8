r"""Paired comparisons over seeds: every variant trained on the same seeds, mean and 95% CI.

`compare` runs a named set of variants (`VARIANT_SETS`) over label fractions and
training seeds ``first_seed .. first_seed + n - 1`` (``0..n-1`` by default). Every variant of a seed shares the seed's splits (validation
set, labelled subset) and the test set, so differences are paired: for each variant the
table gives the mean test accuracy with a 95% confidence interval over seeds (Student t)
and the mean paired difference against the set's first variant (the reference), also
with a 95% interval; ``paired_differences.png`` shows every seed's difference
(`paired_plot`). Runs are kept under ``out/runs``; a finished one is read, not
retrained, so a killed comparison resumes.

Variant kinds: ``mmnd`` (a `run_training` run of the base config with overrides),
``raw`` (logistic regression on pooled raw events, `baselines.raw_readout`) and ``gru``
(the conv-GRU of about the mMND network's parameter count, `baselines.train_conv_gru`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..atomic import write_json, write_text
from ..config import Config
from ..errors import ConfigError
from ..network import count_params
from ..train.devices import host
from .paired_plot import FIGURE, plot_paired_differences
from .protocol import VARIANTS as PATHWAY_VARIANTS
from .protocol import (
    _default_train,
    _fraction_tag,
    _load_data,
    _no_nan,
    _run_cell,
    check_fractions,
    match_budget,
    read_finished,
    variant_config,
)
from .tables import accuracy_by_seed, ci95, fraction_percent, mean_ci
from .variant_sets import VARIANT_SETS, Variant


def _data_key(cfg: Config) -> tuple:
    """What the loaded splits depend on (time collapse is applied later, per batch)."""
    ds = cfg.dataset
    return (ds.name, ds.root, ds.n_bins, ds.size, ds.seed, ds.train_per_class)


def _tag(text: str) -> str:
    keep = [c if c.isalnum() else "_" for c in text.lower()]
    return "".join(keep).strip("_").replace("__", "_")


def variant_cfg(base: Config, v: Variant, fraction: float, seed: int, budget=None) -> Config:
    """The config of one cell: the base with the variant's overrides, fraction and seed."""
    cfg = base.replace(**v.overrides) if v.overrides else base
    if "pathway" in v.options:
        dynamics = cfg.network.dynamics
        cfg = variant_config(cfg, PATHWAY_VARIANTS[v.options["pathway"]])
        if "single" in v.options:  # one of the base's extremes instead of their middle
            pick = min if v.options["single"] == "fastest" else max
            d = pick(dynamics, key=lambda d: d.tau_m)
            cfg = cfg.with_dynamics([(d.a, d.tau_m, d.r_m)])
        if budget is not None:
            cfg = match_budget(cfg, *budget)
    tr: dict[str, Any] = {"label_fraction": fraction, "seed": seed}
    if v.options.get("equal_steps"):
        tr["epochs"] = max(1, round(cfg.train.epochs / fraction))
    # relative to the base config, so a set fits any dataset's config
    if "epochs_scale" in v.options:
        tr["epochs"] = max(1, round(cfg.train.epochs * v.options["epochs_scale"]))
    if "lr_scale" in v.options:
        tr["lr"] = cfg.train.lr * v.options["lr_scale"]
    return cfg.replace(train=tr)


def _cell_cfg(base: Config, v: Variant, fraction: float, seed: int, budget) -> Config:
    """`variant_cfg`, with the cell named in the sentence if its config is refused."""
    try:
        return variant_cfg(base, v, fraction, seed, budget)
    except ConfigError as e:
        raise ConfigError(f"{v.name} at label fraction {fraction:g}: {e}") from None


def trained_epochs(cfg: Config) -> int:
    """The epochs a run trains its network: STDP's per-layer epochs, else ``train.epochs``.

    (STDP's readout is a logistic regression: ``train.epochs`` means nothing to it.)
    """
    if cfg.train.method == "stdp":
        from ..train.stdp_options import stdp_options

        return stdp_options(cfg.stdp, len(cfg.network.layers)).epochs or cfg.train.epochs
    return cfg.train.epochs


def _baseline_cell(v: Variant, cfg: Config, run_dir: Path, data) -> dict[str, Any]:
    from .baselines import raw_readout, train_conv_gru

    done = run_dir / "metrics.json"
    if done.exists():
        return read_finished(done, ("test_accuracy", "val_accuracy", "train_accuracy", "params"))
    if v.kind == "raw":
        r = raw_readout(cfg, data=data, **v.options)
    else:
        r = train_conv_gru(cfg, data=data, **v.options.get("gru", {}))
    r = {**r, "host": host()}  # as a training run's metrics record it
    write_json(done, r)
    return r


def compare(
    cfg: Config,
    out: Path,
    variant_set: str,
    *,
    fractions: Sequence[float] = (1.0,),
    seeds: int = 5,
    first_seed: int = 0,
    progress: bool = True,
    train_fn=_default_train,
    data: Any = None,
    variants: Sequence[Variant] | None = None,
) -> dict[str, Any]:
    """Train every (variant, fraction, seed) cell; write ``compare.md`` and ``results.json``.

    ``variant_set`` names one of `VARIANT_SETS`, or is ``"configs"`` with ``variants``
    given (`variant_sets.config_variants`: whole configs compared, ``cfg`` the first).
    """
    if variant_set == "configs":
        if not variants:
            raise ConfigError("the 'configs' comparison needs its variants (config_variants)")
    elif variants is not None:
        raise ConfigError("variants are given only to the 'configs' comparison")
    elif variant_set not in VARIANT_SETS:
        choices = ", ".join([*VARIANT_SETS, "configs"])
        raise ConfigError(f"unknown variant set {variant_set!r}; choose {choices}")
    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    if first_seed < 0:
        raise ConfigError(f"--first-seed must be at least 0, got {first_seed}")
    check_fractions(fractions)
    variants = tuple(variants) if variants else VARIANT_SETS[variant_set]
    data = _load_data(cfg, progress) if data is None else data
    train_set = data["train"] if isinstance(data, dict) else data[0]
    # A variant that changes the data itself (its training size) gets its own splits.
    loaded = {_data_key(cfg): data}
    budget = None
    if any("pathway" in v.options for v in variants):  # one equal budget
        shape = tuple(int(v) for v in train_set.x.shape[2:])
        k = len(train_set.classes)
        pcs = [variant_config(cfg, v) for v in PATHWAY_VARIANTS]
        budget = (max(count_params(c, shape, k) for c in pcs), shape, k)
    cells = [
        (f, v, s)
        for f in fractions
        for v in variants
        for s in range(first_seed, first_seed + seeds)
    ]
    # Every cell's config is checked before any cell trains: equal gradient steps at a
    # small fraction can ask for more epochs than the limit, found only hours in.
    run_cfgs = [_cell_cfg(cfg, v, f, s, budget) for f, v, s in cells]
    results, seen = [], {}
    for (f, v, s), run_cfg in tqdm(
        list(zip(cells, run_cfgs, strict=True)),
        desc=f"compare {variant_set}",
        disable=not progress,
    ):
        run_dir = out / "runs" / f"{_tag(v.name)}-{_fraction_tag(f)}-s{s}"
        # Two variants that come to the same run (equal steps at 100% labels is the
        # fixed-epoch run) share it instead of training it twice.
        key = json.dumps(
            [v.kind, v.options.get("grid"), v.options.get("windows"), run_cfg.to_dict()]
            + ([v.options["gru"]] if "gru" in v.options else []),
            sort_keys=True,
            default=str,
        )
        dkey = _data_key(run_cfg)
        if dkey not in loaded and key not in seen:
            loaded[dkey] = _load_data(run_cfg, progress)
        cell_data = loaded.get(dkey)
        if key in seen:
            r = seen[key]
        elif v.kind == "mmnd":
            r = _run_cell(run_cfg, run_dir, cell_data, train_fn, progress)
        else:
            r = _baseline_cell(v, run_cfg, run_dir, cell_data)
        seen[key] = r
        results.append(
            {
                "variant": v.name,
                "fraction": f,
                "seed": s,
                "test_accuracy": r.get("test_accuracy"),
                "val_accuracy": r.get("val_accuracy"),
                # the last epoch's, on the training set: what tells overfitting from not learning
                "train_accuracy": r.get("train_accuracy"),
                "params": r.get("params"),
                "epochs": trained_epochs(run_cfg) if v.kind != "raw" else None,
                "method": run_cfg.train.method if v.kind == "mmnd" else v.kind,
                # where it ran: batches pooled from several machines stay traceable
                "host": r.get("host"),
                **({"error": r["error"]} if "error" in r else {}),
            }
        )
    rows = summarize(results, [v.name for v in variants], list(fractions))
    recorded = [v._asdict() for v in variants]
    md = compare_markdown(cfg.dataset.name, variant_set, rows, variants=recorded)
    write_text(out / "compare.md", md)
    doc = {
        "variant_set": variant_set,
        "config": cfg.to_dict(),
        "variants": recorded,
        "runs": results,
        "rows": rows,
    }
    write_json(out / "results.json", doc)  # config and variants let `pool` check what it joins
    if seeds >= 2 and len(variants) >= 2:
        title = f"{cfg.dataset.name} ({variant_set})"
        plot_paired_differences(results, [v.name for v in variants], title, out / FIGURE)
    if any("train_per_class" in v.overrides.get("dataset", {}) for v in variants):
        sizes = {v.name: variant_cfg(cfg, v, 1.0, 0).dataset.train_per_class for v in variants}
        plot_accuracy_vs_train_size(cfg, variants, sizes, rows, out / "accuracy_vs_train_size.png")
    return {"table": md, "rows": rows, "results": results}


def plot_accuracy_vs_train_size(
    cfg: Config, variants: Sequence[Variant], sizes: dict, rows: list[dict], path: Path
) -> None:
    """Test accuracy (mean, 95% CI) against training samples per class, one line per
    model kind, for the variants that differ in nothing else."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..data.catalog import default_train_per_class, get_dataset_info

    default = default_train_per_class(cfg.dataset.name)
    first = rows[0]["fraction"]
    by_name = {r["variant"]: r for r in rows if r["fraction"] == first}
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for i, kind in enumerate(("mmnd", "gru")):
        # only the variants whose one change is the data: (size, mean, ci)
        pts = sorted(
            (sizes[v.name] or default, by_name[v.name]["mean"], _no_nan(by_name[v.name]["ci95"]))
            for v in variants
            if v.kind == kind and set(v.overrides) <= {"dataset"} and v.name in by_name
        )
        if pts:
            x, m, e = zip(*pts, strict=True)
            label = {"mmnd": "mMND, BPTT", "gru": "conv-GRU (same budget)"}[kind]
            ax.errorbar(x, m, yerr=e, marker="o", capsize=3, color=f"C{i}", label=label)
    chance = 100 / len(get_dataset_info(cfg.dataset.name).classes)
    ax.axhline(chance, color="grey", linestyle=":", label=f"chance ({chance:.1f}%)")
    ax.set_xscale("log", base=2)
    ticks = sorted({s or default for s in sizes.values()})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training samples per class")
    ax.set_ylabel("test accuracy (%), mean ± 95% CI")
    ax.set_title(f"{cfg.dataset.name}: accuracy against training size")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def paired_rows(
    values: dict[str, dict[int, float]], names: list[str], level: float | None = None
) -> list[dict]:
    """Per name: mean, 95% CI over seeds and the paired difference (shared seeds) to
    ``names[0]``, the reference. ``values[name]`` maps a seed to its value. With a
    ``level``, ``diff_ci`` is the difference's half-width at that level too."""
    ref = values[names[0]]
    rows = []
    for n in names:
        vals = values[n]
        mean, half, k = ci95(list(vals.values()))
        shared = sorted(set(vals) & set(ref))
        diffs = [vals[s] - ref[s] for s in shared]
        dmean, dhalf, dk = ci95(diffs) if n != names[0] else (math.nan, math.nan, 0)
        rows.append(
            {
                "variant": n,
                "reference": n == names[0],
                "mean": mean,
                "ci95": half,
                "n": k,
                "per_seed": [vals[s] for s in sorted(vals)],
                "diff_mean": dmean,
                "diff_ci95": dhalf,
                "diff_n": dk,
            }
        )
        if level is not None:
            rows[-1]["diff_ci"] = mean_ci(diffs, level)[1] if n != names[0] else math.nan
    return rows


def summarize(
    results: list[dict], names: list[str], fractions: list[float], level: float | None = None
) -> list[dict]:
    """Per (fraction, variant): mean, 95% CI, paired difference to the fraction's reference
    (and its half-width at ``level``, `paired_rows`)."""
    rows = []
    for f in fractions:
        cell = accuracy_by_seed(results, names, f)
        for row in paired_rows(cell, names, level):
            params = [
                r["params"] for r in results if r["variant"] == row["variant"] and r["params"]
            ]
            rows.append({"fraction": f, **row, "params": max(params) if params else None})
    return rows


def _dotted(overrides: dict, at: str = "") -> list[str]:
    """The dotted keys a nested override sets (``network.dynamics``)."""
    keys = []
    for k, v in overrides.items():
        keys += _dotted(v, f"{at}{k}.") if isinstance(v, dict) and v else [f"{at}{k}"]
    return keys


def configs_note(variants: list[dict]) -> str:
    """Below a 'configs' table: which keys each config changes in the reference (the file
    names alone do not say what was compared; results.json holds the values)."""
    ref = variants[0]["name"]
    lines = [
        f"- {v['name']} differs from {ref} in: {', '.join(_dotted(v['overrides'])) or 'nothing'}"
        for v in variants[1:]
    ]
    return "\n" + "\n".join(lines) + "\n"


def pm(mean: float | None, half: float | None, digits: int = 1) -> str:
    """``mean ± half`` with ``digits`` decimals; ``—`` for no value, the mean alone for one
    (NaN or None, as read back from JSON, is no value)."""
    if mean is None or math.isnan(mean):
        return "—"
    if half is None or math.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def compare_markdown(
    dataset: str,
    variant_set: str,
    rows: list[dict],
    level: float = 0.95,
    variants: list[dict] | None = None,
) -> str:
    """One row per (fraction, variant): accuracy mean ± 95% CI, paired difference, seeds.

    At a ``level`` other than 95% (a pooled comparison's declared level, `pool`) a column
    gives the paired difference with its interval at that level too (row key ``diff_ci``).
    A 'configs' comparison's recorded ``variants`` add a line per config below the table:
    which keys it changes in the reference (`configs_note`).
    """
    extra = level != 0.95
    head = f" paired difference, {100 * level:g}% CI (points) |" if extra else ""
    lines = [
        f"| {dataset} ({variant_set}) | labels | test accuracy (%), mean ± 95% CI "
        f"| paired difference to the first row (points) |{head} seeds | params |",
        "|---|---|---|---|---|---|" + ("---|" if extra else ""),
    ]
    for r in rows:
        diff = "reference" if r["reference"] else pm(r["diff_mean"], r["diff_ci95"])
        wide = "reference" if r["reference"] or not extra else pm(r["diff_mean"], r["diff_ci"])
        params = "—" if r["params"] is None else f"{r['params']:,}"
        labels = f"{fraction_percent(r['fraction'])}%"
        lines.append(
            f"| {r['variant']} | {labels} | {pm(r['mean'], r['ci95'])} | {diff} "
            + (f"| {wide} " if extra else "")
            + f"| {r['n']} | {params} |"
        )
    note = configs_note(variants) if variant_set == "configs" and variants else ""
    return "\n".join(lines) + "\n" + note
