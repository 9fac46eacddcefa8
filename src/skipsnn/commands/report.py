"""``skipsnn report RUN_DIR...``: one markdown report from run folders."""

from __future__ import annotations

from pathlib import Path

from ..folders import check_output_file
from ._common import add_json_flag, emit


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="collect metrics and plots of run folders into one markdown report",
        description="Collect the metrics, tables and plots (training curves, confusion "
        "matrices, rasters, search convergence) of run folders into one markdown file.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", type=Path)
    p.add_argument("--out", type=Path, default=Path("report.md"), help="report file (report.md)")
    p.add_argument("--title", default="skipsnn report")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..experiments.report import build_report

    check_output_file(args.out)
    build_report(args.run_dirs, args.out, args.title)
    result = {"report": str(args.out), "runs": [str(d) for d in args.run_dirs]}
    return emit(result, args.json, f"wrote {args.out} from {len(args.run_dirs)} run folder(s)")
