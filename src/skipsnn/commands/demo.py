"""``skipsnn demo``: the main job end to end, for newcomers (``make demo``).

1. The theory tour (`skipsnn.theory.tour.theory_tour`): closed forms beside the exact
   simulator, printed, plus a PNG figure.
2. A small dual-search-space Bayesian optimization on the synthetic gestures (phase V
   over the architecture, then phase W over the neuron dynamics; short BPTT trials,
   validation loss as the objective), then the best configuration trained on the whole
   training set and scored once on the test set (`skipsnn search`).
3. One markdown report of it all (`skipsnn report`).

Running it again resumes: finished trials and the final model are reused.
"""

from __future__ import annotations

from pathlib import Path

from ..folders import check_writable
from ._common import add_json_flag, emit, seed_int

# Small enough for about ten minutes on two cores, large enough for the GP to matter.
DEMO_SEARCH = ("--budget-v", "8", "--budget-w", "6", "--trial-epochs", "3")


def _demo(args) -> int:
    from ..cli import build_parser
    from ..experiments.report import build_report
    from ..theory.tour import theory_tour
    from .search import JOURNAL

    out = Path(args.out)
    check_writable(out)
    tour = theory_tour(out / "theory")
    result = {"theory": {k: v for k, v in tour.items() if k != "text"}}
    if not args.json:  # the tour now, before the search's long minutes
        print(tour["text"], flush=True)
    text = []
    if not args.theory_only:
        search_dir = out / "search"
        argv = ["search", "--dataset", "gestures", "--strategy", "dual", *DEMO_SEARCH]
        argv += ["--out", str(search_dir), "--seed", str(args.seed), "--json"]
        if (search_dir / JOURNAL).exists():
            argv.append("--resume")
        if args.no_progress:
            argv.append("--no-progress")
        print(
            "\nDual-search-space Bayesian optimization on synthetic gestures "
            f"({' '.join(DEMO_SEARCH)}), then the final training ...",
            flush=True,
        )
        search_args = build_parser().parse_args(argv)
        search_args.json = False  # print the people's summary; the JSON goes in result
        search_args.handler(search_args)
        report = out / "report.md"
        build_report([out / "theory", search_dir, search_dir / "final"], report, "skipsnn demo")
        import json

        result["search"] = json.loads((search_dir / "best.json").read_text())
        result["report"] = str(report)
        text.append(f"\nReport with every plot: {report}")
    return emit(result, args.json, "\n".join(text))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the main job end to end: theory tour, a small dual search, final training, report",
        description="Theory tour (printed and plotted), then a small dual-search-space "
        "Bayesian optimization of an mMND network on synthetic gestures, the final "
        "training of the best configuration and its test accuracy, and a markdown report. "
        "About ten minutes on two cores; a rerun resumes.",
    )
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument("--theory-only", action="store_true", help="run the theory tour only")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the search (0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(p)
    p.set_defaults(handler=_demo)
