"""``skipsnn search``: dual-search-space Bayesian optimization of an mMND network.

Writes into ``--out``: ``search_config.yaml`` (the resolved config with its ``search:``
section), ``journal.jsonl`` (one line per proposed/finished/failed trial), ``best.json``,
``convergence.png``, and ``final/`` (the best configuration trained on the whole
training set, with its test accuracy). ``--resume`` continues a killed search.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from ..atomic import write_json, write_text
from ..config import DATASETS, METHODS, Config, default_config
from ..errors import ConfigError
from ..folders import JOURNAL, check_writable, folder_lock
from ..limits import LIMITS, read_yaml
from ._common import (
    add_device_flags,
    add_json_flag,
    device_options,
    emit,
    float_in,
    int_in,
    seed_int,
)

MAX_BUDGET = 1000  # trials per phase: the Gaussian process grows with the cube of the trials
EPOCHS_MAX = int(LIMITS["train.epochs"][1])
epochs = int_in(1, EPOCHS_MAX)

CONFIG_FILE = "search_config.yaml"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "search",
        help="Bayesian optimization of architecture (V) and neuron dynamics (W)",
        description="Search the architecture space V, then the neuron-dynamics space W "
        "(--strategy dual), or both at once (joint), or at random, minimizing the validation "
        "loss of short training runs; then train the best configuration on the whole "
        "training set and report its test accuracy. The search ranges come from the "
        "search: section of --config (see docs/search.md).",
    )
    p.add_argument(
        "--dataset", choices=DATASETS, help="dataset (default: the config's, else gestures)"
    )
    p.add_argument("--method", choices=METHODS, help="training method (default: the config's)")
    p.add_argument("--strategy", choices=("dual", "joint", "random"), default="dual")
    p.add_argument(
        "--budget-v",
        type=int_in(None, MAX_BUDGET),
        default=12,
        help="trials of phase V (dual); joint and random run budget-v + budget-w trials",
    )
    p.add_argument(
        "--budget-w",
        type=int_in(None, MAX_BUDGET),
        default=12,
        help="trials of phase W (dual)",
    )
    p.add_argument(
        "--workers", type=int_in(None, 1024), default=1, help="parallel trials (Ray when > 1)"
    )
    p.add_argument("--address", help="address of an existing Ray cluster to run trials on")
    p.add_argument(
        "--gpus-per-trial",
        type=float_in(0, 1024),
        default=0,
        help="GPUs reserved for each trial through Ray's resources (0: none)",
    )
    add_device_flags(p)
    p.add_argument("--out", type=Path, required=True, help="output folder of the search")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the search")
    p.add_argument("--resume", action="store_true", help="continue the search in --out")
    p.add_argument("--config", type=Path, help="YAML config, optionally with a search: section")
    p.add_argument("--trial-epochs", type=epochs, help="epochs of each trial (search.trial_train)")
    p.add_argument(
        "--final-epochs", type=int_in(None, EPOCHS_MAX), help="epochs of the final training run"
    )
    p.add_argument("--no-final", action="store_true", help="skip training the final model")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(p)
    p.set_defaults(handler=search_command)


def read_config(path: Path) -> tuple[Config, dict]:
    """A YAML file holding a training config plus an optional ``search:`` section."""
    d = read_yaml(path)  # bounded: strict UTF-8, no aliases, limited size and depth; a mapping
    search = d.pop("search", None) or {}
    if not isinstance(search, dict):
        raise ConfigError(f"the search section of {path} must be a mapping")
    return Config.from_dict(d), search


def resolve(args) -> tuple[Config, dict]:
    saved = args.out / CONFIG_FILE
    if args.resume and saved.exists():
        return read_config(saved)  # a resumed search keeps the settings it started with
    if args.config is not None:
        cfg, search = read_config(args.config)
    else:
        cfg, search = default_config(args.dataset or "gestures"), {}
    if args.dataset:
        cfg = cfg.replace(dataset={"name": args.dataset})
    if args.method:
        cfg = cfg.replace(train={"method": args.method})
    cfg = cfg.replace(train=device_options(args))
    if args.trial_epochs is not None:
        search = {
            **search,
            "trial_train": {
                **search.get("trial_train", {"epochs": 2}),
                "epochs": args.trial_epochs,
            },
        }
    return cfg, search


def search_command(args) -> int:
    # Everything that can fail on bad input is checked before anything is written.
    if args.budget_v < 1 or args.budget_w < (1 if args.strategy == "dual" else 0):
        raise ConfigError(
            f"--budget-v and --budget-w must be positive, got {args.budget_v} and {args.budget_w}"
        )
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.final_epochs is not None and args.final_epochs < 1:
        raise ConfigError(f"--final-epochs must be at least 1, got {args.final_epochs}")
    if args.resume and not (args.out / JOURNAL).exists():
        raise ConfigError(f"there is no search to resume in {args.out} (no {JOURNAL})")
    check_writable(args.out)
    with folder_lock(args.out, "search"):
        return _search(args)


def _search(args) -> int:
    """`search_command` while holding the search folder's lock."""
    from ..search.mmnd import MMNDProblem
    from ..search.objective import TrainingObjective
    from ..search.settings import SearchSettings
    from ..search.strategies import plot_convergence, run_strategy
    from ..train.setup import load_data

    journal = args.out / JOURNAL
    if journal.exists() and journal.stat().st_size > 0 and not args.resume:
        raise ConfigError(
            f"{args.out} already holds a search; pass --resume to continue it or choose another --out"
        )
    if args.resume and journal.exists():
        from ..search.journal import Journal

        phases = {r.get("phase") for r in Journal(journal).read() if r.get("event") == "proposed"}
        allowed = {"dual": {"V", "W"}, "joint": {"joint"}, "random": {"random"}}[args.strategy]
        if not phases <= allowed:
            raise ConfigError(
                f"the search in {args.out} used another strategy (phases {', '.join(sorted(phases))}); "
                f"resume it with the same --strategy"
            )
    cfg, search = resolve(args)
    settings = SearchSettings.from_dict(search)
    objective = TrainingObjective(cfg.to_dict(), settings.to_dict())
    probe = objective.trial_config(
        {
            "n_layers": cfg.n_layers,
            "n_dynamic": cfg.network.n_dynamic,
            **dataclasses.asdict(cfg.network.skip),
        }
    )
    progress = not args.no_progress
    train_set, test_set = load_data(probe, None, progress=progress)
    input_shape = tuple(int(v) for v in train_set.x.shape[2:])
    problem = MMNDProblem(cfg, settings, input_shape)
    if not any(problem.v_feasible(p) for p in problem.v_space().enumerate()):
        raise ConfigError(
            "no architecture in the search ranges satisfies the skip rule and the parameter budget"
        )
    local = args.workers == 1 and not args.address
    if local:
        # BPTT trials never get the test set. The STDP trainer insists on one (it scores it
        # at the end); the search reads only its validation loss.
        objective.data = (train_set, test_set if cfg.train.method == "stdp" else None)

    args.out.mkdir(parents=True, exist_ok=True)
    if not (args.out / CONFIG_FILE).exists():
        write_text(
            args.out / CONFIG_FILE,
            yaml.safe_dump({**cfg.to_dict(), "search": settings.to_dict()}, sort_keys=False),
        )
    result = run_strategy(
        problem,
        objective,
        args.strategy,
        args.budget_v,
        args.budget_w,
        workers=args.workers,
        address=args.address,
        seed=args.seed,
        journal=journal,
        resume=args.resume,
        progress=progress,
        gpus_per_trial=args.gpus_per_trial,
    )
    summary = {
        "dataset": cfg.dataset.name,
        "method": cfg.train.method,
        "seed": args.seed,
        "budget_v": args.budget_v,
        "budget_w": args.budget_w,
        **result.summary(problem),
    }
    if result.best_params is None:
        write_json(args.out / "best.json", summary)
        raise ConfigError("every trial of the search failed; see the errors in the journal")
    plot_convergence(result, args.out / "convergence.png")
    write_json(args.out / "best.json", summary)

    if not args.no_final:
        from ..train import run_training

        final_cfg = problem.config_for(result.best_params).replace(train={"val_fraction": 0.0})
        if args.final_epochs is not None:
            final_cfg = final_cfg.replace(train={"epochs": args.final_epochs})
        final_dir = args.out / "final"
        resume_final = (final_dir / "checkpoint.pt").exists()
        m = run_training(
            final_cfg, final_dir, resume=resume_final, progress=progress, data=(train_set, test_set)
        )
        summary["final"] = {
            k: m.get(k) for k in ("test_accuracy", "params", "epochs", "train_seconds")
        }
        summary["final"]["folder"] = str(final_dir)
        write_json(args.out / "best.json", summary)
    return emit(summary, args.json, _text(summary, args.out))


def _text(s: dict, out: Path) -> str:
    b = s["best"]
    arch = ", ".join(f"{k}={v}" for k, v in b["architecture"].items())
    dyn = "; ".join(
        f"a={d['a']:.3g} tau_m={d['tau_m']:.3g} R_m={d['r_m']:.3g}" for d in b["dynamics"]
    )
    lines = [
        f"{s['strategy']} search on {s['dataset']} ({s['method']}): best validation loss {b['val_loss']:.4f}",
        f"architecture: {arch}",
        f"dynamics: {dyn}",
    ]
    for ph in s["phases"]:
        lines.append(f"phase {ph['phase']}: {ph['finished']} finished, {ph['failed']} failed")
    if "final" in s:
        acc = s["final"]["test_accuracy"]
        lines.append(
            f"final model: test accuracy {'n/a' if acc is None else f'{100 * acc:.1f}%'} ({s['final']['folder']})"
        )
    lines.append(f"results in {out} (best.json, journal.jsonl, convergence.png)")
    return "\n".join(lines) if b else json.dumps(s)
