"""Dual against joint against random search at equal budgets, paired over seeds.

`search_compare` runs, for every seed ``s`` and every strategy (`skipsnn.search.
strategies`), one complete search (search seed ``s``, training seed ``s`` for its
trials, so every strategy of a seed sees the same validation split) with the same
number of trials (``budget_v + budget_w``), then trains the best configuration found on
the whole training set (``final_epochs``, training seed ``s``) and scores it on the test
set. Each cell's folder under ``out/cells`` holds the search journal, the final run and
``result.json``; a cell whose ``result.json`` exists is read, not rerun, and a search
killed mid-way resumes from its journal.

``compare.md`` gives, per strategy, the final test accuracy and the search's best
validation loss, each as mean ± 95% CI over seeds with the paired difference to ``dual``
(`skipsnn.experiments.compare.paired_rows`); ``results.json`` holds every cell (chosen
architecture and dynamics, parameters, trials, seconds, commit) and the rows.
"""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..atomic import write_json, write_text
from ..config import Config
from ..errors import ConfigError
from .compare import paired_rows, pm
from .protocol import read_finished

EXPERIMENT = "search-compare"


def git_commit(path: Path | None = None) -> dict[str, Any]:
    """The commit of the git tree holding ``path`` (default: this package) and whether
    any file under ``path`` differs from it (None, None outside a git tree)."""
    root = Path(path) if path is not None else Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "src_modified": None}
    return {"commit": head, "src_modified": bool(dirty)}


def _cell(
    cfg: Config,
    settings: dict,
    strategy: str,
    seed: int,
    cell_dir: Path,
    budget_v: int,
    budget_w: int,
    final_epochs: int,
    data: Any,
) -> dict[str, Any]:
    """One search and its final training; the cell's record."""
    from ..search.mmnd import MMNDProblem
    from ..search.objective import TrainingObjective
    from ..search.settings import SearchSettings
    from ..search.strategies import run_strategy
    from ..train import run_training

    train_set, test_set = data
    run_cfg = cfg.replace(train={"seed": seed})
    s = SearchSettings.from_dict(settings)
    problem = MMNDProblem(run_cfg, s, tuple(int(v) for v in train_set.x.shape[2:]))
    objective = TrainingObjective(run_cfg.to_dict(), s.to_dict())
    # BPTT trials never see the test set; the STDP trainer requires one (it is not read).
    objective.data = (train_set, test_set if run_cfg.train.method == "stdp" else None)
    journal = cell_dir / "journal.jsonl"
    cell_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = run_strategy(
        problem,
        objective,
        strategy,
        budget_v,
        budget_w,
        seed=seed,
        journal=journal,
        resume=journal.exists(),
    )
    t1 = time.perf_counter()
    summary = res.summary(problem)
    write_json(cell_dir / "best.json", summary)
    trials = sum(len(ph.trials) for ph in res.phases)
    record: dict[str, Any] = {
        "strategy": strategy,
        "seed": seed,
        "trials": trials,
        "finished": sum(ph.n_finished for ph in res.phases),
        "failed": sum(ph.n_failed for ph in res.phases),
        "best_val_loss": res.best_value,
        "search_seconds": t1 - t0,
    }
    if res.best_params is None:
        return {**record, "test_accuracy": None, "error": "every trial failed"}
    best = summary["best"]
    final_cfg = problem.config_for(res.best_params).replace(
        train={"val_fraction": 0.0, "epochs": final_epochs}
    )
    final_dir = cell_dir / "final"
    m = run_training(
        final_cfg,
        final_dir,
        resume=(final_dir / "checkpoint.pt").exists(),
        progress=False,
        data=(train_set, test_set),
    )
    return {
        **record,
        "test_accuracy": m.get("test_accuracy"),
        "architecture": best["architecture"],
        "dynamics": best["dynamics"],
        "params": m.get("params"),
        "best_phase": _best_phase(summary),
        "final_epochs": final_epochs,
        "final_seconds": time.perf_counter() - t1,
        "wall_seconds": time.perf_counter() - t0,
    }


def _best_phase(summary: dict) -> str | None:
    phases = [p for p in summary["phases"] if p["best_val_loss"] is not None]
    return min(phases, key=lambda p: p["best_val_loss"])["phase"] if phases else None


def search_compare(
    cfg: Config,
    out: Path,
    *,
    settings: dict | None = None,
    seeds: int = 5,
    first_seed: int = 0,
    budget_v: int = 8,
    budget_w: int = 8,
    trial_epochs: int = 2,
    final_epochs: int | None = None,
    strategies: Sequence[str] = ("dual", "joint", "random"),
    progress: bool = True,
    data: Any = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Run every (seed, strategy) cell, seeds in order; write compare.md and results.json.

    The seeds are ``first_seed .. first_seed + seeds - 1``: several processes (or machines)
    can share the seeds of one comparison in one ``out`` folder, and a final call over all
    of them reuses every finished cell and writes the whole table.
    """
    import torch

    from ..search.settings import SearchSettings
    from ..search.strategies import STRATEGIES
    from ..train.devices import host
    from .protocol import _load_data

    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    if first_seed < 0:
        raise ConfigError(f"--first-seed must be at least 0, got {first_seed}")
    if budget_v < 1 or budget_w < 1:
        raise ConfigError(f"the budgets must be positive, got {budget_v} and {budget_w}")
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad or not strategies:
        raise ConfigError(f"unknown strategies {bad}; choose from {', '.join(STRATEGIES)}")
    settings = dict(settings or {})
    settings["trial_train"] = {**settings.get("trial_train", {}), "epochs": trial_epochs}
    settings = SearchSettings.from_dict(settings).to_dict()  # validated, complete
    final_epochs = final_epochs or cfg.train.epochs
    torch.set_num_threads(cfg.train.num_threads)  # the GP fits too, not only the training
    data = _load_data(cfg, progress) if data is None else data
    data = (data["train"], data["test"]) if isinstance(data, dict) else tuple(data)
    source = git_commit()
    meta = {
        "experiment": EXPERIMENT,
        "dataset": cfg.dataset.name,
        "command": command,
        "settings": {
            "seeds": seeds,
            "first_seed": first_seed,
            "strategies": list(strategies),
            "budget_v": budget_v,
            "budget_w": budget_w,
            "trials_per_search": budget_v + budget_w,
            "trial_epochs": trial_epochs,
            "final_epochs": final_epochs,
            "num_threads": cfg.train.num_threads,
            "search": settings,
            "config": cfg.to_dict(),
        },
    }
    runs: list[dict] = []
    cells = [(s, st) for s in range(first_seed, first_seed + seeds) for st in strategies]
    bar = tqdm(cells, desc="search compare", disable=not progress)
    for seed, strategy in bar:
        cell_dir = out / "cells" / f"{strategy}-s{seed}"
        done = cell_dir / "result.json"
        if done.exists():
            r = read_finished(
                done,
                ("test_accuracy", "best_val_loss", "params", "wall_seconds"),
                ("strategy", "seed", "trials", "failed", "best_val_loss"),
            )
        else:
            r = _cell(
                cfg, settings, strategy, seed, cell_dir, budget_v, budget_w, final_epochs, data
            )
            r.update(source, host=host())
            write_json(done, r)
        runs.append(r)
        if progress:
            tqdm.write(_progress_line(r))
        _write(out, meta, runs)  # the tables so far, after every cell
    return _write(out, meta, runs)


def _progress_line(r: dict) -> str:
    acc = r.get("test_accuracy")
    arch = r.get("architecture") or {}
    return (
        f"{r['strategy']:>6} seed {r['seed']}: {r['trials']} trials, best val loss "
        f"{r['best_val_loss'] if r['best_val_loss'] is None else round(r['best_val_loss'], 4)}, "
        f"test {'n/a' if acc is None else f'{100 * acc:.1f}%'}, "
        f"arch {tuple(arch.values())}, {r.get('wall_seconds', math.nan):.0f} s"
    )


def _write(out: Path, meta: dict, runs: list[dict]) -> dict[str, Any]:
    rows = summarize_search(runs, meta["settings"]["strategies"])
    data = {**meta, "runs": runs, "rows": rows}
    md = search_markdown(data)
    write_text(out / "compare.md", md)
    write_json(out / "results.json", data)
    return {"table": md, "rows": rows, "results": runs}


def summarize_search(runs: list[dict], strategies: list[str]) -> dict[str, list[dict]]:
    """Test accuracy (%) and the search's best validation loss, per strategy: mean, 95% CI,
    paired difference to the first strategy."""
    out = {}
    for key, scale in (("test_accuracy", 100.0), ("best_val_loss", 1.0)):
        values = {
            st: {
                r["seed"]: scale * r[key]
                for r in runs
                if r["strategy"] == st and r.get(key) is not None
            }
            for st in strategies
        }
        out[key] = paired_rows(values, strategies)
    return out


def search_markdown(data: dict) -> str:
    """The table of ``compare.md``, from the content of ``results.json`` alone."""
    st = data["settings"]
    acc = {r["variant"]: r for r in data["rows"]["test_accuracy"]}
    loss = {r["variant"]: r for r in data["rows"]["best_val_loss"]}
    ref = st["strategies"][0]
    lines = [
        f"| {data['dataset']} (search, {st['budget_v']}+{st['budget_w']} trials of "
        f"{st['trial_epochs']} epochs, final {st['final_epochs']} epochs) "
        f"| test accuracy (%), mean ± 95% CI | paired difference to {ref} (points) "
        f"| best validation loss of the search, mean ± 95% CI | paired difference to {ref} "
        "| seeds | trials per search |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in st["strategies"]:
        a, v = acc[name], loss[name]
        trials = sorted({r["trials"] for r in data["runs"] if r["strategy"] == name})
        lines.append(
            f"| {name} | {pm(a['mean'], a['ci95'])} "
            f"| {'reference' if a['reference'] else pm(a['diff_mean'], a['diff_ci95'])} "
            f"| {pm(v['mean'], v['ci95'], 3)} "
            f"| {'reference' if v['reference'] else pm(v['diff_mean'], v['diff_ci95'], 3)} "
            f"| {a['n']} | {', '.join(map(str, trials)) or '—'} |"
        )
    lines += ["", *cells_markdown(data["runs"], st["strategies"])]
    return "\n".join(lines) + "\n"


def cells_markdown(runs: list[dict], strategies: list[str]) -> list[str]:
    """One line per (strategy, seed): what the search chose and what it scored."""
    lines = [
        "| strategy | seed | layers, dynamics, skips, l_start, l_end "
        "| dynamics (a, tau_m, R_m) | params | trials (failed) | best from phase "
        "| best validation loss | test accuracy (%) | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {name: i for i, name in enumerate(strategies)}
    for r in sorted(runs, key=lambda r: (order.get(r["strategy"], 99), r["seed"])):
        arch = r.get("architecture")
        v = "—" if arch is None else ", ".join(str(x) for x in arch.values())
        dyn = "; ".join(
            f"({d['a']:.2g}, {d['tau_m']:.3g}, {d['r_m']:.3g})" for d in r.get("dynamics") or []
        )
        loss, acc, params = r["best_val_loss"], r["test_accuracy"], r.get("params")
        lines.append(
            f"| {r['strategy']} | {r['seed']} | {v} | {dyn or '—'} "
            f"| {'—' if params is None else f'{params:,}'} "
            f"| {r['trials']} ({r['failed']}) | {r.get('best_phase') or '—'} "
            f"| {'—' if loss is None else f'{loss:.3f}'} "
            f"| {'—' if acc is None else f'{100 * acc:.1f}'} "
            f"| {r.get('wall_seconds', math.nan):.0f} |"
        )
    return lines
