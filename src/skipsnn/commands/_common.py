"""Small helpers shared by the command modules: printing results, options."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import Any

from ..atomic import jsonable
from ..errors import shown
from ..limits import LIMITS


def emit(result: dict[str, Any], as_json: bool, text: str) -> int:
    """Print ``result`` as JSON (``--json``) or ``text`` for people; return exit status 0."""
    print(json.dumps(jsonable(result), indent=2) if as_json else text)
    return 0


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


SEED_MAX = 2**32 - 1  # seeds are 32-bit everywhere (numpy, torch, the configs)


def int_in(lo: int | None, hi: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in ``[lo, hi]`` (``lo = None``: at most ``hi``,
    the lower bound then checked by the command), else a usage error (exit 2)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {shown(text)}") from None
        if lo is None and v > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi}, got {v}")
        if lo is not None and not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {v}")
        return v

    return parse


def fraction(text: str) -> float:
    """An argparse ``type``: a label fraction, a number from `LIMITS`' 1e-06 to 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {shown(text)}") from None
    lowest = LIMITS["train.label_fraction"][0]
    if not (math.isfinite(v) and lowest <= v <= 1):
        raise argparse.ArgumentTypeError(
            f"must be a number from {lowest:g} to 1, got {shown(text)}"
        )
    return v


seed_int = int_in(0, SEED_MAX)


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``[lo, hi]``, else a usage error (exit 2)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {shown(text)}") from None
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(
                f"must be a number between {lo:g} and {hi:g}, got {shown(text)}"
            )
        return v

    return parse


def add_device_flags(parser) -> None:
    """``--device`` and ``--precision`` (train.device, train.precision)."""
    from ..config import PRECISIONS
    from ..limits import DEVICES_HELP

    parser.add_argument("--device", help=f"where to compute: {DEVICES_HELP} (train.device)")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="32 (float32), bf16 or 16 (float16 with loss scaling): train.precision",
    )


def device_options(args) -> dict[str, Any]:
    """The train-section changes that ``--device`` / ``--precision`` ask for."""
    return {
        k: v
        for k, v in {"device": args.device, "precision": args.precision}.items()
        if v is not None
    }
