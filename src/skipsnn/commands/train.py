"""``skipsnn train`` and ``skipsnn evaluate``: train an mMND network, re-evaluate a run."""

from __future__ import annotations

from pathlib import Path

from ..config import DATASETS, METHODS, Config, default_config
from ..errors import ConfigError
from ..folders import CHECKPOINT, check_run_folder, check_writable
from ._common import add_device_flags, add_json_flag, device_options, emit, int_in


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train an mMND network with BPTT or STDP",
        description="Train an mMND network. The output folder gets config.yaml, metrics.jsonl "
        "(one line per epoch), checkpoint.pt (every epoch), and at the end metrics.json and "
        "PNG plots. Without --config the dataset's default config is used.",
    )
    p.add_argument(
        "--dataset",
        help=f"dataset: {', '.join(DATASETS)}, or tonic:NAME for a tonic dataset under --root "
        "(default: the config's, else gestures)",
    )
    p.add_argument("--root", help="folder of a downloaded real dataset")
    p.add_argument("--method", choices=METHODS, help="training method (default: the config's)")
    p.add_argument(
        "--label-fraction", type=float, help="fraction of training labels used, 1e-06 to 1"
    )
    p.add_argument("--config", type=Path, help="YAML config file (see configs/)")
    p.add_argument("--out", type=Path, required=True, help="output folder of the run")
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--threads", type=int, help="CPU threads (train.num_threads)")
    p.add_argument(
        "--deterministic",
        action="store_true",
        default=None,
        help="the same bits at any --threads (train.deterministic; slower, docs/training.md)",
    )
    add_device_flags(p)
    p.add_argument(
        "--nproc",
        type=int_in(1, 1024),
        default=1,
        help="data-parallel processes on this machine (torch.distributed; "
        "for many machines use torchrun -m skipsnn train ...)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(p)
    p.set_defaults(handler=train_command)

    e = subparsers.add_parser(
        "evaluate",
        help="evaluate a finished run's checkpoint on the test set",
        description="Load RUN_DIR's config and checkpoint, evaluate the test set again and "
        "compare with the accuracy stored in its metrics.json.",
    )
    e.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    e.add_argument("--device", help="where to compute (default auto: CUDA when present)")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(e)
    e.set_defaults(handler=evaluate_command)


def resolve_config(args) -> Config:
    """The run's config: saved (on resume), else --config, else the dataset's default;
    then the options given on the command line."""
    saved = args.out / "config.yaml"
    if args.resume:
        if not (args.out / CHECKPOINT).is_file():
            raise ConfigError(f"there is no run to resume in {args.out} (no {CHECKPOINT})")
        base = Config.load(saved) if saved.is_file() else None
        if base is None:
            raise ConfigError(f"{args.out} has a checkpoint but no config.yaml to resume with")
        if args.config is not None:
            given = Config.load(args.config)
            if given.replace(train=base_changes(base)) != base:
                raise ConfigError(
                    f"--config {args.config} differs from the config of the run in {args.out}; "
                    "resume without --config, or start a new run in another folder"
                )
    elif args.config is not None:
        base = Config.load(args.config)
    else:
        base = default_config(args.dataset or "gestures")
    dataset = {k: v for k, v in {"name": args.dataset, "root": args.root}.items() if v is not None}
    train = {
        k: v
        for k, v in {
            "method": args.method,
            "label_fraction": args.label_fraction,
            "epochs": args.epochs,
            "seed": args.seed,
            "num_threads": args.threads,
            "deterministic": args.deterministic,
        }.items()
        if v is not None
    }
    train.update(device_options(args))
    return base.replace(dataset=dataset, train=train)


def train_command(args) -> int:
    check_writable(args.out)
    cfg = resolve_config(args)  # bad options and configs fail here, before torch is imported
    from ..train import run_spawned, run_training

    if args.nproc > 1:
        m = run_spawned(
            cfg, args.out, args.nproc, resume=args.resume, progress=not args.no_progress
        )
    else:
        m = run_training(cfg, args.out, resume=args.resume, progress=not args.no_progress)
    return emit(m, args.json, _summary(m, args.out))


def evaluate_command(args) -> int:
    from ..train import evaluate_run

    check_run_folder(args.run_dir)
    r = evaluate_run(args.run_dir, progress=not args.no_progress, device=args.device)
    text = f"{r['run']}: test accuracy {_pct(r.get('test_accuracy'))}"
    if r.get("recomputed"):
        text += f" (recomputed; stored {_pct(r.get('stored_test_accuracy'))})"
    if r.get("direction_pair_accuracy") is not None:
        text += f", clockwise/counter-clockwise pairs {_pct(r['direction_pair_accuracy'])}"
    return emit(r, args.json, text)


def _pct(v) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return f"{100 * v:.1f}%"
    return "n/a" if v is None else f"{v!r} (not a number)"  # a hand-edited metrics.json


def _summary(m: dict, out: Path) -> str:
    lines = [
        f"{m.get('method', '?')} on {m.get('dataset', '?')}: test accuracy {_pct(m.get('test_accuracy'))}, "
        f"validation {_pct(m.get('val_accuracy'))}",
        f"{m.get('params', 0):,} parameters, {m.get('epochs')} epochs, "
        f"{m.get('train_seconds', 0):.0f} s of training, label fraction {m.get('label_fraction')}",
    ]
    if m.get("direction_pair_accuracy") is not None:
        lines.append(
            f"clockwise/counter-clockwise pair accuracy {_pct(m['direction_pair_accuracy'])}"
        )
    lines.append(f"results in {out}")
    return "\n".join(lines)


def base_changes(base: Config) -> dict:
    """The run's own values of the settings a resumed run may change."""
    tr = base.train
    return {"epochs": tr.epochs, "device": tr.device, "loader_workers": tr.loader_workers}
