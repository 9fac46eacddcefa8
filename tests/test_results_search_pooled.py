"""The 10-seed search comparison quoted in the README pools two committed folders.

``search_rhythms_16`` (seeds 0-4) and ``search_rhythms_16_s5`` (seeds 5-9) were run with
the same settings at the same commit; the README's pooled table is recomputed here from
their ``results.json`` with the functions that write a single folder's table.
"""

import json
from pathlib import Path

from skipsnn.experiments.search_compare import search_markdown, summarize_search

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
README = (RESULTS / "README.md").read_text()
FOLDERS = ("search_rhythms_16", "search_rhythms_16_s5")


def _pooled() -> dict:
    parts = [json.loads((RESULTS / f / "results.json").read_text()) for f in FOLDERS]
    first, second = parts
    same = {k: v for k, v in first["settings"].items() if k not in ("seeds", "first_seed")}
    other = {k: v for k, v in second["settings"].items() if k not in ("seeds", "first_seed")}
    assert same == other  # one protocol
    runs = first["runs"] + second["runs"]
    assert len({r["commit"] for r in runs}) == 1 and not any(r["src_modified"] for r in runs)
    seeds = sorted({r["seed"] for r in runs})
    assert seeds == list(range(10))  # disjoint halves, nothing missing
    settings = {**first["settings"], "seeds": len(seeds), "first_seed": 0}
    strategies = settings["strategies"]
    return {**first, "settings": settings, "runs": runs, "rows": summarize_search(runs, strategies)}


def test_pooled_table_is_in_the_readme():
    table = search_markdown(_pooled()).split("\n\n")[0]  # the summary, not the cells
    for line in table.splitlines()[2:]:
        assert line in README, line
