"""Small helpers shared by the command modules: printing results, options."""

from __future__ import annotations

import json
import math
from typing import Any


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "tolist"):
        return _jsonable(x.tolist())
    return x


def emit(result: dict[str, Any], as_json: bool, text: str) -> int:
    """Print ``result`` as JSON (``--json``) or ``text`` for people; return exit status 0."""
    print(json.dumps(_jsonable(result), indent=2) if as_json else text)
    return 0


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
