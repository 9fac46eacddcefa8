"""The ``skipsnn`` command.

Each command group lives in ``skipsnn.commands.<name>`` and exposes
``register(subparsers)``; its handlers take the parsed args and return an exit status.
Bad input (`SkipSNNError`) becomes one sentence on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from . import __version__
from .errors import SkipSNNError

# Command modules, in the order `skipsnn --help` lists them.
COMMAND_MODULES = ("theory", "data", "train", "search", "reproduce", "report", "export", "demo")


# What argparse takes for a value rather than an option: a word that starts like a
# negative number (-1e9, -.5, -1,2 for --dynamics, -1:3 for --skip) or is -inf or -nan.
# argparse's own pattern knows only -5 and -.5, so `--g -1e9` failed with "expected one
# argument" before the option's own check could name the value. (argparse has no public
# setting for this; no skipsnn option starts with a digit.)
NEGATIVE_NUMBER = re.compile(r"^-\.?\d|^-(inf|infinity|nan)$", re.I)
# argparse's time grows with the square of the options on the command line (5,000 took
# 1 s, 20,000 16 s), so a command line is counted before it is parsed. The one option
# given many times is `theory pathways --skip`; 10,000 of them parse in about 4 s.
MAX_OPTIONS = 10_000


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # argparse's own errors: also exit 2, one line
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skipsnn",
        description="Feedforward spiking neural networks with heterogeneous dynamics and "
        "skip-layer connections (She, Dash & Mukhopadhyay, ICLR 2022).",
    )
    parser.add_argument("--version", action="version", version=f"skipsnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = sum(a.startswith("-") and not NEGATIVE_NUMBER.match(a) for a in argv)
    if options > MAX_OPTIONS:
        print(
            f"skipsnn: error: the command line gives {options:,} options; at most "
            f"{MAX_OPTIONS:,} are read.",
            file=sys.stderr,
        )
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except SkipSNNError as e:
        msg = str(e).rstrip(".")
        print(f"skipsnn: error: {msg}.", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`skipsnn ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:  # a path the checks could not foresee (a full disk, a race)
        where = f": {e.filename}" if e.filename else ""
        print(f"skipsnn: error: {e.strerror or type(e).__name__}{where}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skipsnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
