"""Which architectures win the trials of a search comparison, read from its journals.

`skipsnn reproduce search` keeps every cell's search journal (``cells/<strategy>-s<seed>/
journal.jsonl``). Random search draws its trials uniformly from the feasible joint space,
so its trials are an unbiased sample of what a trial of a given length rewards; the BO
strategies' trials are not (they go where the GP sends them) and are listed apart.
For each strategy this prints the finished trials' validation loss grouped by depth,
by whether the network has a skip (also among 3-layer networks only) and by the number
of dynamics (mean and 95% CI over trials; the trials of one seed share a training seed
and a validation split, so the intervals are descriptive), and writes it as JSON.

    .venv/bin/python benchmarks/search_trials_by_architecture.py \
        docs/results/search_rhythms_16_e30 --out /tmp/trials.json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from skipsnn.experiments.compare import pm
from skipsnn.experiments.tables import ci95
from skipsnn.search.mmnd import V_NAMES

GROUPS = {
    "layers": lambda p: str(p["n_layers"]),
    "skip": lambda p: "with a skip" if p["n_skip"] > 0 else "no skip",
    "dynamics": lambda p: str(p["n_dynamic"]),
    # depth and skips go together (a skip needs depth), so the skip again at equal depth
    "skip, 3 layers": lambda p: None if p["n_layers"] != 3 else GROUPS["skip"](p),
}


def finished_trials(folder: Path) -> dict[str, list[dict]]:
    """Strategy -> its finished trials (seed, trial number, parameters, validation loss)."""
    out: dict[str, list[dict]] = defaultdict(list)
    for journal in sorted(folder.glob("cells/*/journal.jsonl")):
        strategy, seed = journal.parent.name.rsplit("-s", 1)
        proposed, best_v = {}, (float("inf"), {})
        for line in journal.read_text().splitlines():
            r = json.loads(line)
            if r["event"] == "proposed":
                proposed[(r.get("phase"), r["trial"])] = r["params"]
            elif r["event"] == "finished":
                p = proposed[(r.get("phase"), r["trial"])]
                if r.get("phase") == "V":
                    best_v = min(best_v, (r["value"], p), key=lambda b: b[0])
                elif r.get("phase") == "W":  # dual's phase W: phase V's best architecture
                    p = {**{k: best_v[1][k] for k in V_NAMES}, **p}
                trial = {"seed": int(seed), "trial": r["trial"], **p, "val_loss": r["value"]}
                out[strategy].append(trial)
    return dict(out)


def summarize(trials: list[dict]) -> dict[str, dict[str, dict]]:
    table = {}
    for group, key in GROUPS.items():
        by = defaultdict(list)
        for t in trials:
            if (k := key(t)) is not None:
                by[k].append(t["val_loss"])
        table[group] = {
            k: {"n": len(v), "mean": ci95(v)[0], "ci95": ci95(v)[1]} for k, v in sorted(by.items())
        }
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path, help="a `skipsnn reproduce search` output folder")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    trials = finished_trials(a.folder)
    if not trials:
        raise SystemExit(f"no journals under {a.folder}/cells")
    result = {st: summarize(ts) for st, ts in trials.items()}
    for st, table in result.items():
        print(f"{st} ({len(trials[st])} trials)")
        for group, rows in table.items():
            cells = ", ".join(
                f"{k}: {pm(r['mean'], r['ci95'], 3)} (n={r['n']})" for k, r in rows.items()
            )
            print(f"  by {group}: {cells}")
    if a.out:
        a.out.write_text(json.dumps({"folder": str(a.folder), "strategies": result}, indent=1))


if __name__ == "__main__":
    main()
