"""Pilot for the search comparison: at which trial length does depth (and a skip) win?

A search trial scores an architecture by its validation loss after ``E`` epochs
(`skipsnn.search.objective.TrainingObjective`, the same code path as a search trial,
default dynamics for the architecture). Short trials favour the smallest network; this
script measures, for a few architectures of the `rhythms` search space and a few
trial lengths, the validation loss, accuracy and seconds of one trial, at one thread.

    .venv/bin/python benchmarks/search_trial_length.py --seeds 0,1 --epochs 2,10,20 \
        --out benchmarks/results/search_trial_length_rhythms_2026-12-02.json
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from skipsnn.config import default_config
from skipsnn.search.objective import TrainingObjective
from skipsnn.train.setup import load_data

ARCHS = {
    "1 layer, 1 dynamic, no skip": (1, 1, 0, 0, 2),
    "2 layers, 1 dynamic, no skip": (2, 1, 0, 0, 2),
    "2 layers, 2 dynamics, skip 0->2 (the rhythms default)": (2, 2, 1, 0, 2),
    "3 layers, 3 dynamics, 2 skips 0->3": (3, 3, 2, 0, 3),
}
V = ("n_layers", "n_dynamic", "n_skip", "l_start", "l_end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", default="2,10,20")
    ap.add_argument("--archs", default=",".join(str(i) for i in range(len(ARCHS))))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in a.seeds.split(",")]
    epochs = [int(e) for e in a.epochs.split(",")]
    names = [list(ARCHS)[int(i)] for i in a.archs.split(",")]
    base = default_config("rhythms").replace(train={"num_threads": 1})
    data = load_data(base, None, progress=False)
    runs = []
    for s in seeds:
        cfg = base.replace(train={"seed": s})
        for e in epochs:
            obj = TrainingObjective(cfg.to_dict(), {"trial_train": {"epochs": e}}, data=(data[0], None))
            for name in names:
                p = dict(zip(V, ARCHS[name], strict=True))
                t0 = time.perf_counter()
                loss, info = obj(p)
                secs = time.perf_counter() - t0
                r = {"seed": s, "epochs": e, "arch": name, **p, "val_loss": loss,
                     "val_accuracy": info["val_accuracy"], "params": info["params"],
                     "seconds": secs, "load": os.getloadavg()[0]}
                runs.append(r)
                print(json.dumps(r), flush=True)
                with open(a.out, "w") as f:
                    json.dump({"script": "benchmarks/search_trial_length.py", "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
