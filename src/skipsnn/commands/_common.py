"""Small helpers shared by the command modules: printing results, options."""

from __future__ import annotations

import json
from typing import Any

from ..atomic import jsonable


def emit(result: dict[str, Any], as_json: bool, text: str) -> int:
    """Print ``result`` as JSON (``--json``) or ``text`` for people; return exit status 0."""
    print(json.dumps(jsonable(result), indent=2) if as_json else text)
    return 0


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
