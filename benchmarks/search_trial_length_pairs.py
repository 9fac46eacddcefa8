"""Does a longer trial favour depth more? Random search's same trials at several lengths.

Random search proposes the same points for a seed whatever the trial length (its
proposals do not depend on the trial results), so `skipsnn reproduce search` folders that
differ only in ``--trial-epochs`` hold the same random trials trained for different
lengths. This script pairs them by (seed, trial) (it checks that the proposals agree)
and prints, per pair of folders (shorter, longer):

* each length's validation loss with 3 and with 2 layers, and the difference between
  them (Welch 95% interval over trials);
* the trial-by-trial change of validation loss from the shorter to the longer trial,
  for 3-layer and 2-layer networks, and the difference of those changes (Welch): a
  negative value means the longer trial rewards depth more;
* how alike the two rankings of the trials are (Spearman's rho over all paired trials,
  and the mean of the per-seed rhos), and on how many seeds the best of the seed's
  trials is the same point.

The trials of one seed share a training seed and a validation split, so the intervals
are descriptive. ``--plot PNG`` draws every trial's validation loss against the trial
length, 3-layer and 2-layer networks apart, with each group's mean.

    .venv/bin/python benchmarks/search_trial_length_pairs.py \
        docs/results/search_rhythms_16_amd docs/results/search_rhythms_16_e30 \
        docs/results/search_rhythms_16_e40 --out /tmp/pairs.json \
        --plot docs/results/search_rhythms_16_e40/trial_lengths.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
from search_trials_by_architecture import finished_trials  # noqa: E402

STRATEGY = "random"


def trial_length(folder: Path) -> int:
    return int(json.loads((folder / "results.json").read_text())["settings"]["trial_epochs"])


def random_trials(folder: Path) -> dict[tuple[int, int], dict]:
    """(seed, trial) -> the trial's parameters and validation loss, for random's cells."""
    out = {}
    for t in finished_trials(folder).get(STRATEGY, []):
        params = {k: v for k, v in t.items() if k not in ("seed", "trial", "val_loss")}
        out[(t["seed"], t["trial"])] = {"params": params, "val_loss": t["val_loss"]}
    return out


def welch(a: list[float], b: list[float]) -> dict:
    """mean(a) - mean(b) with Welch's 95% interval and p value."""
    t = stats.ttest_ind(a, b, equal_var=False)
    lo, hi = t.confidence_interval()
    return dict(diff=float(np.mean(a) - np.mean(b)), lo=float(lo), hi=float(hi), p=float(t.pvalue))


def depth_gap(trials: dict) -> dict:
    """Validation loss of 3-layer minus 2-layer trials (Welch), and each group's mean."""
    by = {
        n: [t["val_loss"] for t in trials.values() if t["params"]["n_layers"] == n] for n in (2, 3)
    }
    return dict(
        mean_3=float(np.mean(by[3])),
        mean_2=float(np.mean(by[2])),
        sd_3=float(np.std(by[3], ddof=1)),
        sd_2=float(np.std(by[2], ddof=1)),
        n_3=len(by[3]),
        n_2=len(by[2]),
        **welch(by[3], by[2]),
    )


def compare(short: dict, long: dict) -> dict:
    """The paired statistics of one (shorter, longer) pair of folders."""
    keys = sorted(short)
    if sorted(long) != keys:
        raise SystemExit("the two folders do not hold the same random trials")
    for k in keys:
        if short[k]["params"] != long[k]["params"]:
            raise SystemExit(f"seed {k[0]} trial {k[1]}: the proposals differ")
    change = {n: [] for n in (2, 3)}
    for k in keys:
        layers = short[k]["params"]["n_layers"]
        if layers in change:
            change[layers].append(long[k]["val_loss"] - short[k]["val_loss"])
    a = [short[k]["val_loss"] for k in keys]
    b = [long[k]["val_loss"] for k in keys]
    seeds = sorted({s for s, _ in keys})
    per_seed, same_best = [], []
    for s in seeds:
        mine = [k for k in keys if k[0] == s]
        per_seed.append(
            stats.spearmanr(
                [short[k]["val_loss"] for k in mine], [long[k]["val_loss"] for k in mine]
            ).statistic
        )
        best = [min(mine, key=lambda k, d=d: d[k]["val_loss"]) for d in (short, long)]
        same_best.append(best[0] == best[1])
    return dict(
        trials=len(keys),
        change_3=float(np.mean(change[3])),
        change_2=float(np.mean(change[2])),
        worse_3=sum(c > 0 for c in change[3]),  # trials whose loss rose with the longer trial
        worse_2=sum(c > 0 for c in change[2]),
        depth_gain=welch(change[3], change[2]),
        spearman=float(stats.spearmanr(a, b).statistic),
        spearman_per_seed=[float(r) for r in per_seed],
        same_best=sum(same_best),
        seeds=len(seeds),
    )


def plot(trials: dict[int, dict], path: Path) -> None:
    """Each trial's validation loss against trial length; 2 and 3 layers side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skipsnn.atomic import save_figure

    lengths = sorted(trials)
    keys = sorted(trials[lengths[0]])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), sharey=True)
    for ax, layers, color in zip(axes, (2, 3), ("tab:blue", "tab:orange"), strict=True):
        mine = [k for k in keys if trials[lengths[0]][k]["params"]["n_layers"] == layers]
        for k in mine:
            ax.plot(lengths, [trials[n][k]["val_loss"] for n in lengths], color=color, alpha=0.25)
        means = [np.mean([trials[n][k]["val_loss"] for k in mine]) for n in lengths]
        ax.plot(lengths, means, color="black", marker="o", label="mean")
        ax.set_title(f"{layers} layers ({len(mine)} trials)")
        ax.set_xlabel("trial length (epochs)")
        ax.set_xticks(lengths)
        ax.legend()
    axes[0].set_ylabel("validation loss of the trial")
    fig.suptitle("Random search: the same trials at each length")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", type=Path, nargs="+", help="`reproduce search` folders")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--plot", type=Path, help="write a PNG of the trials against trial length")
    a = ap.parse_args()
    folders = sorted(a.folders, key=trial_length)
    trials = {f: random_trials(f) for f in folders}
    result = {"depth_gap": {}, "pairs": {}}
    for f in folders:
        g = depth_gap(trials[f])
        result["depth_gap"][str(trial_length(f))] = g
        print(
            f"{trial_length(f)} epochs: 3 layers {g['mean_3']:.3f} (sd {g['sd_3']:.3f}, "
            f"n={g['n_3']}), 2 layers {g['mean_2']:.3f} (sd {g['sd_2']:.3f}, n={g['n_2']}), "
            f"difference {g['diff']:.3f} "
            f"(Welch {g['lo']:.3f} to {g['hi']:.3f}, p = {g['p']:.3f})"
        )
    for f, g in itertools.combinations(folders, 2):
        c = compare(trials[f], trials[g])
        result["pairs"][f"{trial_length(f)}-{trial_length(g)}"] = c
        d = c["depth_gain"]
        print(
            f"{trial_length(f)} -> {trial_length(g)} epochs ({c['trials']} trials): change 3 "
            f"layers {c['change_3']:.3f}, 2 layers {c['change_2']:.3f}, difference "
            f"{d['diff']:.3f} (Welch {d['lo']:.3f} to {d['hi']:.3f}, p = {d['p']:.3f}); worse "
            f"with the longer trial: 3 layers {c['worse_3']}, 2 layers {c['worse_2']}; "
            f"Spearman {c['spearman']:.2f} (per seed mean "
            f"{np.mean(c['spearman_per_seed']):.2f}); same best on {c['same_best']}/{c['seeds']}"
        )
    if a.out:
        a.out.write_text(json.dumps({"folders": [str(f) for f in folders], **result}, indent=1))
    if a.plot:
        plot({trial_length(f): trials[f] for f in folders}, a.plot)


if __name__ == "__main__":
    main()
