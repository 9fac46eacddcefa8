"""Every `skipsnn ...` command shown in README.md and docs/results/README.md parses.

The commands are parsed, not run (they train for minutes to hours); a renamed option or
subcommand, or a typo in the docs, fails here instead of on a user's machine.
"""

import re
import shlex
from pathlib import Path

import pytest

from skipsnn.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "results" / "README.md"]


def _commands() -> list[tuple[str, str]]:
    """Lines of code blocks (fenced or indented by 4) that start with ``skipsnn``."""
    out = []
    for path in DOCS:
        fenced = False
        for line in path.read_text().splitlines():
            if line.startswith("```"):
                fenced = not fenced
                continue
            text = line.strip()
            in_code = fenced or line.startswith("    ")
            if not in_code or not text.startswith("skipsnn ") or "..." in text or "<" in text:
                continue  # prose, and placeholders ("--resume ...", "<folder>")
            text = re.split(r"\s+#", text)[0]  # a trailing comment
            out.append((path.name, text))
    return out


def _filled(args: list[str]) -> list[str]:
    """Placeholder values written in capitals (``--seed S``, ``--root DIR``) get a value."""
    return ["1" if re.fullmatch(r"[A-Z]+", a) else a for a in args]


COMMANDS = _commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) > 20  # so the parametrized test below cannot pass empty


@pytest.mark.parametrize("where,command", COMMANDS, ids=[c for _, c in COMMANDS])
def test_documented_command_parses(where, command):
    args = _filled(shlex.split(command)[1:])
    build_parser().parse_args(args)  # argparse exits (SystemExit 2) on any unknown option
