r"""Pool comparisons of the same variants run on disjoint seeds into one table.

`compare --first-seed` splits one comparison's seeds over processes or machines; run
into one folder they make one table. Run into different folders (another machine's
disk, a later batch of fresh seeds), `pool` joins them: the same variant set and
variants, each (variant, label fraction, seed) cell once, and the table and figure
`compare` would have written had every seed run in one folder.

A look at a question with seeds added after an earlier look is not the test a study of
that size planned from the start: each look spends error. ``level`` gives the paired
differences a declared wider interval as well, e.g. 0.975 for a second look when the
first was at 95% (the two looks together are then wrong at most 7.5% of the time,
Bonferroni). The 95% columns stay, so the table reads like every other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_json, write_text
from ..errors import ConfigError
from .compare import compare_markdown, summarize
from .paired_plot import FIGURE, plot_paired_differences, read_comparison


def _dataset(folder: Path) -> str | None:
    """The dataset a comparison folder's table names (``| rhythms (skip) | ...``)."""
    md = folder / "compare.md" if folder.is_dir() else folder.parent / "compare.md"
    m = re.match(r"\| (\S+) \(", md.read_text(errors="replace")) if md.is_file() else None
    return m.group(1) if m else None


def _hosts(runs: list[dict]) -> list[dict]:
    """The distinct machines a folder's runs record (none for folders written before
    comparisons recorded them)."""
    seen = {json.dumps(r["host"], sort_keys=True) for r in runs if isinstance(r.get("host"), dict)}
    return [json.loads(h) for h in sorted(seen)]


def _same_runs(runs: list[dict], sources: list[str]) -> None:
    """Refuse pooling runs of one variant that differ in parameters, epochs or method:
    those come from different configs, and their seeds are not draws of one experiment."""
    for key, kind in (("params", int), ("epochs", int), ("method", str)):
        seen: dict[tuple, tuple] = {}
        for r, src in zip(runs, sources, strict=True):
            v = r.get(key)
            if v is None:
                continue
            if type(v) is not kind:
                raise ConfigError(
                    f"{src}: a run of {r['variant']!r} has {key} {v!r}, not a {kind.__name__}"
                )
            cell = (r["variant"], r["fraction"])
            if cell in seen and seen[cell][0] != v:
                raise ConfigError(
                    f"{r['variant']!r} has {key} {seen[cell][0]} in {seen[cell][1]} and {v} in "
                    f"{src}: these runs come from different configs and are not pooled"
                )
            seen.setdefault(cell, (v, src))


# Where a batch ran, not what it ran: machines differ in threads and device.
PLACE = {"num_threads", "device"}


def _first_difference(a: Any, b: Any, at: str = "") -> str | None:
    """The dotted key where two config dicts first differ (train.num_threads and
    train.device ignored), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if at == "train." and k in PLACE:
                continue
            d = _first_difference(a.get(k), b.get(k), f"{at}{k}.")
            if d is not None:
                return d
        return None
    return None if a == b else at.rstrip(".")


def _same_config(loaded: list[tuple], folders: list[Path]) -> bool:
    """Refuse folders whose recorded configs differ; False when a folder has none
    (written before comparisons recorded it), so nothing could be checked."""
    configs = [d.get("config") for d, _, _ in loaded]
    if not all(isinstance(c, dict) for c in configs):
        return False
    for f, c in zip(folders[1:], configs[1:], strict=True):
        key = _first_difference(configs[0], c)
        if key is not None:
            raise ConfigError(
                f"{folders[0]} and {f} ran different configs ({key or 'the config'} differs): "
                "not one comparison"
            )
    return True


def _variants(data: dict, folder: Path, names: list[str]) -> list | None:
    """A folder's recorded variants, checked against its table's, or None for a folder
    written before comparisons recorded them."""
    v = data.get("variants")
    if v is None:
        return None
    ok = (
        isinstance(v, list)
        and all(isinstance(x, dict) and isinstance(x.get("overrides"), dict) for x in v)
        and [x.get("name") for x in v] == names
    )
    if not ok:
        raise ConfigError(
            f"{folder}: 'variants' must list the table's variants in order, each with its "
            "name and overrides"
        )
    return v


def _same_variants(loaded: list[tuple], folders: list[Path]) -> list | None:
    """The variants every folder records, or None if one records none; refuses folders
    whose variants (overrides, options) differ: in a 'configs' comparison the names are
    file names and say nothing of the contents."""
    recorded = [_variants(d, f, names) for f, (d, _, names) in zip(folders, loaded, strict=True)]
    if any(v is None for v in recorded):
        return None
    for f, v in zip(folders[1:], recorded[1:], strict=True):
        for a, b in zip(recorded[0], v, strict=True):
            if a != b:
                raise ConfigError(
                    f"{folders[0]} and {f} define the variant {a['name']!r} differently: "
                    "not one comparison"
                )
    return recorded[0]


def pool(folders: Sequence[str | Path], out: str | Path, level: float = 0.95) -> dict[str, Any]:
    """Join the comparisons in ``folders`` (disjoint seeds); write ``compare.md``,
    ``results.json`` and the paired-difference figure to ``out``."""
    folders = [Path(f) for f in folders]
    if len(folders) < 2:
        raise ConfigError("give at least two comparison folders to pool")
    if not 0.5 <= level <= 0.9999:
        raise ConfigError(f"--level must be a confidence level in [0.5, 0.9999], got {level}")
    homes = {(f if f.is_dir() else f.parent).resolve() for f in folders}
    if Path(out).resolve() in homes:
        raise ConfigError(f"--out {out} is one of the folders pooled: it would overwrite them")
    loaded = [read_comparison(f) for f in folders]
    for f, (d, _, _) in zip(folders, loaded, strict=True):
        if not isinstance(d.get("variant_set"), str):
            raise ConfigError(f"{f}: 'variant_set' must name the comparison's variant set")
    variant_sets = {d["variant_set"] for d, _, _ in loaded}
    if len(variant_sets) != 1:
        raise ConfigError(
            f"the folders hold different variant sets: {sorted(map(str, variant_sets))}"
        )
    names = loaded[0][2]
    for f, (_, _, n) in zip(folders[1:], loaded[1:], strict=True):
        if n != names:
            raise ConfigError(
                f"{f} compares {n}, {folders[0]} compares {names}: not one comparison"
            )
    recorded = _same_variants(loaded, folders)
    datasets = {_dataset(f) for f in folders} - {None}
    if len(datasets) > 1:
        raise ConfigError(f"the folders' tables name different datasets: {sorted(datasets)}")
    config_checked = _same_config(loaded, folders)
    runs, sources, where = [], [], {}
    for f, (_, rs, _) in zip(folders, loaded, strict=True):
        for r in rs:
            cell = (r["variant"], r["fraction"], r["seed"])
            if cell in where:
                raise ConfigError(
                    f"seed {r['seed']} of {r['variant']!r} is in both {where[cell]} and {f}: "
                    "pooled comparisons must have disjoint seeds"
                )
            where[cell] = f
            runs.append(r)
            sources.append(str(f))
    _same_runs(runs, sources)
    fractions = list(dict.fromkeys(r["fraction"] for r in runs))
    rows = summarize(runs, names, fractions, level)
    dataset = datasets.pop() if datasets else "pooled"
    variant_set = variant_sets.pop()
    md = compare_markdown(dataset, variant_set, rows, level, recorded)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pooled_from = [
        {"folder": str(f), "seeds": sorted({r["seed"] for r in rs}), "hosts": _hosts(rs)}
        for f, (_, rs, _) in zip(folders, loaded, strict=True)
    ]
    doc = {
        "variant_set": variant_set,
        "pooled_from": pooled_from,
        "level": level,
        "config_checked": config_checked,
        **({"config": loaded[0][0]["config"]} if config_checked else {}),
        **({"variants": recorded} if recorded else {}),
    }
    write_text(out / "compare.md", md)
    write_json(out / "results.json", {**doc, "runs": runs, "rows": rows})
    figure = None
    if len({r["seed"] for r in runs}) >= 2:
        figure = out / FIGURE
        plot_paired_differences(runs, names, f"{dataset} ({variant_set}), pooled", figure, level)
    figure = str(figure) if figure is not None else None
    return {"table": md, "rows": rows, "runs": runs, "figure": figure, **doc}
