"""``skipsnn reproduce table3|ablation|compare|plot|search``: the paper's protocol, the pathway
ablation, paired comparisons over seeds with baselines (and their per-seed figure), and the
search strategies compared."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DATASETS, METHODS
from ..errors import ConfigError
from ..folders import check_output_file, check_writable
from ..limits import LIMITS
from ._common import (
    add_device_flags,
    add_json_flag,
    device_options,
    emit,
    float_in,
    fraction,
    int_in,
)


def _floats(text: str) -> list[float]:
    parts = [v for v in text.split(",") if v.strip()]
    if not parts or len(parts) > 20:
        raise argparse.ArgumentTypeError(f"must list 1 to 20 fractions, got {len(parts)}")
    try:
        return [fraction(v) for v in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated numbers from {LIMITS['train.label_fraction'][0]:g} to 1, "
            f"got {text[:40]!r}"
        ) from None


def _methods(text: str) -> list[str]:
    ms = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in ms if m not in METHODS]
    if bad or not ms:
        raise argparse.ArgumentTypeError(f"must list some of {', '.join(METHODS)}, got {text!r}")
    return ms


def _common(p, epochs: bool = True, seeds: int = 3) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="gestures")
    p.add_argument("--root", help="folder of a downloaded real dataset")
    p.add_argument("--config", type=Path, help="base YAML config (default: the dataset's)")
    if epochs:
        p.add_argument(
            "--epochs",
            type=int_in(*map(int, LIMITS["train.epochs"])),
            help="epochs per run (default: the config's)",
        )
    p.add_argument("--seeds", type=int_in(1, 100), default=seeds, help=f"seeds per cell ({seeds})")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--threads", type=int_in(1, 256), help="train.num_threads of every run")
    add_device_flags(p)
    add_json_flag(p)


def _first_seed(p) -> None:
    p.add_argument(
        "--first-seed",
        type=int_in(0, 2**31 - 1),
        default=0,
        help="seeds run from here (0): split one comparison's seeds across processes, "
        "or run fresh seeds as an independent replication",
    )


def _train_options(args) -> dict:
    """The train: section every run of the experiment shares: device flags and threads."""
    opts = device_options(args)
    if args.threads is not None:
        opts["num_threads"] = args.threads
    return opts


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="the paper's Table 3 protocol and the pathway ablation")
    s = p.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)
    t = s.add_parser(
        "table3",
        help="accuracy against the labelled fraction, STDP and BPTT, mean and 95%% CI over seeds",
        description="Train every (method, label fraction, seed) cell; write table3.md laid "
        "out like the paper's Table 3 (its numbers beside ours for DVS128 Gesture and "
        "N-Caltech101), results.json and a plot. Finished cells are reused on a rerun.",
    )
    _common(t)
    t.add_argument("--fractions", type=_floats, help="label fractions (default: the paper's)")
    t.add_argument("--methods", type=_methods, default=["stdp", "bptt"], help="stdp,bptt")
    t.set_defaults(handler=run_table3)
    a = s.add_parser(
        "ablation",
        help="homogeneous vs heterogeneous dynamics, with and without skips, equal budget",
        description="Lemmas 4 and 5 in practice: accuracy beside memory-pathway counts for "
        "four networks of equal parameter budget. Writes ablation.md, results.json, a plot.",
    )
    _common(a)
    a.set_defaults(handler=run_ablation)
    c = s.add_parser(
        "compare",
        help="paired comparisons over seeds (baselines, labels, stdp-random, pathways), 95%% CI",
        description="Train a set of variants on the same seeds (same splits and test set): "
        "'baselines' (mMND beside raw-event readouts, a time-collapsed control and a conv-GRU "
        "of the same budget), 'raw' (the raw-event readouts alone), 'gru-lr' (the conv-GRU at "
        "the config's learning rate and at 0.002), 'gru-regularized' (the mMND network beside "
        "the conv-GRU with weight decay 0.001 and 0.01 and with half the epochs), 'gru-tuned' (the "
        "mMND network beside the conv-GRU with dropout 0.3, a readout averaged over time, both, "
        "and half the parameters), 'gru-readout' (the mMND network beside the conv-GRU reading "
        "its last hidden state and its hidden state averaged over time), 'data-readout' (that "
        "GRU at 800 and 200 training samples per class), 'data-readout-more' (at 400 and 50), "
        "'readout' (the "
        "temporal config's readout against "
        "the mean over time, a flattened map and 5% rate calibration), 'timescales' (a third, "
        "slower dynamic, learned dynamics, no downsampling), 'capacity' (twice the epochs, twice "
        "the channels), 'data' (the mMND network and the conv-GRU at 50 to 800 training "
        "samples per class of a generated set), 'data-large' (400 per class trained longer or "
        "wider), 'labels' (STDP vs BPTT at fixed epochs and at equal gradient "
        "steps), 'stdp-random' (STDP vs the same network with random kernels, same epochs), "
        "'pathways' (heterogeneous dynamics x skips at an equal budget), 'single-dynamic' (the "
        "full network beside one dynamic at the fastest and at the slowest of its two, same "
        "budget), 'mix-vs-middle' (the full network beside one dynamic at the middle of its "
        "two, both with the skip), 'skip' (the full network beside the same network without "
        "its skip, same budget), 'mix-vs-gru' (the full network beside the conv-GRU of its "
        "budget reading its hidden state averaged over time), 'gru-training' (the full network "
        "beside that GRU at the config's training settings, with twice the epochs, and at 3x "
        "and 0.3x the learning rate), 'trained-longer' (the full network and that GRU, each "
        "at the config's epochs and at twice them), 'longer-still' (the full network at twice "
        "and four times the config's epochs), 'threads-bptt' and "
        "'threads-stdp' (the same seeded run at 1 and 2 threads), 'configs' (whole configs: "
        "--config, or the dataset's default, beside each --against FILE). Writes compare.md "
        "(mean ± 95% CI, paired differences to the first variant) and results.json.",
    )
    _common(c, seeds=5)
    _first_seed(c)
    c.add_argument(
        "variant_set",
        choices=(
            "baselines",
            "raw",
            "gru-lr",
            "gru-regularized",
            "gru-tuned",
            "gru-readout",
            "data-readout",
            "data-readout-more",
            "readout",
            "timescales",
            "capacity",
            "data",
            "data-large",
            "labels",
            "stdp-random",
            "pathways",
            "single-dynamic",
            "mix-vs-middle",
            "skip",
            "mix-vs-gru",
            "gru-training",
            "trained-longer",
            "longer-still",
            "threads-bptt",
            "threads-stdp",
            "configs",
        ),
    )
    c.add_argument("--fractions", type=_floats, default=[1.0], help="label fractions (1.0)")
    c.add_argument(
        "--against",
        type=Path,
        action="append",
        metavar="FILE",
        help="'configs' only: a YAML config trained beside --config (the reference) on the "
        "same seeds; repeat for more. Variants are named by file name.",
    )
    c.set_defaults(handler=run_compare)
    g = s.add_parser(
        "plot",
        help="redraw a finished comparison's per-seed paired-difference figure",
        description="Read FOLDER/results.json, written by 'skipsnn reproduce compare', and "
        "draw every seed's paired difference to the first variant, with the mean and its "
        "95%% CI, to FOLDER/paired_differences.png (or --out). Trains nothing.",
    )
    g.add_argument(
        "folder", type=Path, metavar="FOLDER", help="a compare folder or its results.json"
    )
    g.add_argument("--out", type=Path, help="the PNG to write (FOLDER/paired_differences.png)")
    add_json_flag(g)
    g.set_defaults(handler=run_plot)
    p = s.add_parser(
        "pool",
        help="join comparisons of the same variants run on disjoint seeds into one table",
        description="Read FOLDER/results.json of every folder, written by 'skipsnn reproduce "
        "compare' with the same variant set (e.g. seed batches run on different machines "
        "or at different times), check that every (variant, fraction, seed) appears once "
        "and that each variant has the same parameters and epochs everywhere, and write "
        "the pooled compare.md, results.json and paired_differences.png to --out. --level "
        "adds the paired differences at a declared wider level (e.g. 0.975 for a second "
        "look at a question first tested at 95%%). Trains nothing.",
    )
    p.add_argument("folders", type=Path, nargs="+", metavar="FOLDER", help="compare folders")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--level",
        type=float_in(0.5, 0.9999),
        default=0.95,
        help="confidence level of the extra paired-difference column (0.95: none)",
    )
    add_json_flag(p)
    p.set_defaults(handler=run_pool)
    _register_search(s)


def _register_search(s) -> None:
    epochs = int_in(*map(int, LIMITS["train.epochs"]))
    q = s.add_parser(
        "search",
        help="dual vs joint vs random search at equal budgets, paired over seeds, 95%% CI",
        description="For every seed s and strategy (dual, joint, random): one search with "
        "budget-v + budget-w trials (search seed and training seed s), then the best "
        "configuration trained on the whole training set and scored on the test set. "
        "Writes compare.md (test accuracy and the search's best validation loss, mean ± 95% "
        "CI, paired differences to dual) and results.json (every cell's architecture, "
        "dynamics, trials, seconds, commit). Finished cells are reused on a rerun. --config "
        "may hold a search: section (docs/search.md).",
    )
    _common(q, epochs=False, seeds=5)
    _first_seed(q)
    q.add_argument("--budget-v", type=int_in(1, 1000), default=8, help="trials of phase V (8)")
    q.add_argument("--budget-w", type=int_in(1, 1000), default=8, help="trials of phase W (8)")
    q.add_argument("--trial-epochs", type=epochs, default=20, help="epochs per trial (20)")
    q.add_argument("--final-epochs", type=epochs, help="final run's epochs (the config's)")
    q.add_argument(
        "--strategies",
        nargs="+",
        choices=("dual", "joint", "random"),
        default=["dual", "joint", "random"],
        help="strategies to run, the first one the reference of the paired differences (all three)",
    )
    q.set_defaults(handler=run_search_compare)


def run_table3(args) -> int:
    from ..experiments.protocol import base_config, table3

    check_writable(args.out)  # before the data loads
    cfg = base_config(args.dataset, args.config, args.root, args.epochs)
    cfg = cfg.replace(train=_train_options(args))
    r = table3(
        cfg,
        args.out,
        fractions=args.fractions,
        methods=args.methods,
        seeds=args.seeds,
        progress=not args.no_progress,
    )
    return emit(
        {"table3": str(args.out / "table3.md"), "results": r["results"]}, args.json, r["table"]
    )


def run_ablation(args) -> int:
    from ..experiments.protocol import ablation, base_config

    check_writable(args.out)  # before the data loads
    cfg = base_config(args.dataset, args.config, args.root, args.epochs)
    cfg = cfg.replace(train=_train_options(args))
    r = ablation(cfg, args.out, seeds=args.seeds, progress=not args.no_progress)
    return emit(
        {"ablation": str(args.out / "ablation.md"), "rows": r["rows"]}, args.json, r["table"]
    )


def _config_variants(args, cfg):
    """The 'configs' comparison's variants: --config (or the default) and each --against,
    loaded as --config is and given the same command-line train options."""
    from ..experiments.protocol import base_config
    from ..experiments.variant_sets import config_variants

    if not args.against:
        raise ConfigError("the 'configs' comparison needs at least one --against FILE")
    named = [(args.config.stem if args.config else "default", cfg)]
    for path in args.against:
        other = base_config(args.dataset, path, args.root, args.epochs)
        named.append((path.stem, other.replace(train=_train_options(args))))
    return config_variants(named)


def run_compare(args) -> int:
    from ..experiments.compare import compare
    from ..experiments.protocol import base_config

    if args.against and args.variant_set != "configs":
        raise ConfigError("--against is for the 'configs' comparison only")
    check_writable(args.out)  # before the data loads
    cfg = base_config(args.dataset, args.config, args.root, args.epochs)
    cfg = cfg.replace(train=_train_options(args))
    variants = _config_variants(args, cfg) if args.variant_set == "configs" else None
    r = compare(
        cfg,
        args.out,
        args.variant_set,
        fractions=args.fractions,
        seeds=args.seeds,
        first_seed=args.first_seed,
        progress=not args.no_progress,
        variants=variants,
    )
    return emit({"compare": str(args.out / "compare.md"), "rows": r["rows"]}, args.json, r["table"])


def run_plot(args) -> int:
    from ..experiments.compare import pm
    from ..experiments.paired_plot import FIGURE, plot_from_results

    folder = args.folder
    out = args.out or (folder if folder.is_dir() else folder.parent) / FIGURE
    check_output_file(out)
    r = plot_from_results(folder, out)
    lines = [f"wrote {r['figure']} (paired differences to {r['reference']})"]
    lines += [
        f"  {c['label']}: {pm(c['mean'], c['ci95'])} points over {len(c['seeds'])} seeds"
        for c in r["columns"]
    ]
    return emit(r, args.json, "\n".join(lines))


def run_pool(args) -> int:
    from ..experiments.pool import pool

    check_writable(args.out)
    r = pool(args.folders, args.out, args.level)
    keep = ("variant_set", "pooled_from", "level", "rows", "figure")
    return emit(
        {"compare": str(args.out / "compare.md"), **{k: r[k] for k in keep}}, args.json, r["table"]
    )


def run_search_compare(args) -> int:
    import shlex
    import sys

    from ..config import default_config
    from ..experiments.search_compare import search_compare
    from .search import read_config

    check_writable(args.out)  # before the data loads
    if args.config is not None:
        cfg, settings = read_config(args.config)
    else:
        cfg, settings = default_config(args.dataset), {}
    ds = {"name": args.dataset, **({"root": args.root} if args.root is not None else {})}
    cfg = cfg.replace(dataset=ds, train=_train_options(args))
    r = search_compare(
        cfg,
        args.out,
        settings=settings,
        seeds=args.seeds,
        first_seed=args.first_seed,
        budget_v=args.budget_v,
        budget_w=args.budget_w,
        trial_epochs=args.trial_epochs,
        final_epochs=args.final_epochs,
        strategies=list(dict.fromkeys(args.strategies)),  # each once, in the order given
        progress=not args.no_progress,
        command=shlex.join(["skipsnn", *sys.argv[1:]]),
    )
    return emit({"compare": str(args.out / "compare.md"), "rows": r["rows"]}, args.json, r["table"])
