"""``skipsnn demo``: a short tour for newcomers (``make demo``).

For now the demo is the theory tour (`skipsnn.theory.tour.theory_tour`): closed forms
beside the exact simulator, printed, plus a PNG figure. A training part will join it
later; ``--theory-only`` already selects the tour alone.
"""

from __future__ import annotations

from ..theory.tour import theory_tour
from ._common import add_json_flag, emit


def _demo(args) -> int:
    summary = theory_tour(args.out)
    result = {"theory": {k: v for k, v in summary.items() if k != "text"}}
    return emit(result, args.json, summary["text"])


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="a short tour: theory (printed and plotted)")
    p.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    p.add_argument(
        "--theory-only", action="store_true", help="run the theory tour only (no training part)"
    )
    add_json_flag(p)
    p.set_defaults(handler=_demo)
