"""Estimate the time of the paper's real-data rows from measured training-step times.

The DVS128 Gesture and N-Caltech101 rows of Table 3 need the real recordings (not
downloadable here) and, realistically, a GPU. This script measures, on this machine, one
BPTT training step and one inference batch of the paper-sized networks in `configs/`
on random event frames of the right shape, then multiplies by the protocol's size:

    cells x epochs x (labelled training samples / batch) x step time  (+ validation, test)

Usage: .venv/bin/python benchmarks/estimate_paper_runs.py [--threads 2] [--steps 3] [--json] [--out F]

The sample counts are the datasets' published sizes (DVS128 Gesture: 1,077 training and
264 test samples as tonic cuts them; N-Caltech101: 8,246 samples in 101 classes without BACKGROUND_Google, the
registry's class count; split 80/20 here). STDP is not estimated: its layer-wise passes were only measured on the small
synthetic networks (docs/stdp.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from bench_speed import _environment  # a script beside this one

from skipsnn.config import default_config
from skipsnn.data.binning import frame_geometry
from skipsnn.data.catalog import get_dataset_info
from skipsnn.data.framing import DEFAULT_GEOMETRY
from skipsnn.network import build_network

SEEDS = 5  # the minimum for a result with an interval

DATASETS = {
    # name: (training samples, test samples, label fractions of Table 3); the classes and
    # the frame (N-Caltech101 keeps its 4:3 aspect: 64x48) come from the registry
    "dvsgesture": (1077, 264, (1.0, 0.5, 0.3, 0.1)),
    "ncaltech101": (round(0.8 * 8246), round(0.2 * 8246), (1.0, 0.7, 0.5, 0.3)),
}


def time_steps(name: str, steps: int) -> dict:
    cfg = default_config(name)
    n_train, n_test, fractions = DATASETS[name]
    info = get_dataset_info(name)
    n_classes = info.n_classes
    t_bins, batch = cfg.dataset.n_bins, cfg.train.batch_size
    geometry = DEFAULT_GEOMETRY.get(name, "stretch")
    (width, height), _, _ = frame_geometry(info.sensor_size, cfg.dataset.size, geometry)
    net = build_network(cfg, (2, height, width), n_classes)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, t_bins, 2, height, width, generator=g) < 0.05).float()
    y = torch.randint(0, n_classes, (batch,), generator=g)

    def train_step() -> None:
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    train_step()  # warm-up (allocations, the C kernel's first load)
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step()
    step = (time.perf_counter() - t0) / steps
    with torch.no_grad():
        net.eval()
        t0 = time.perf_counter()
        net(x)
        infer = time.perf_counter() - t0

    tr = cfg.train
    epochs, seeds = tr.epochs, SEEDS
    seconds = 0.0
    for f in fractions:
        labelled = (1 - tr.val_fraction) * n_train * f
        per_epoch = labelled / batch * step + tr.val_fraction * n_train / batch * infer
        seconds += seeds * (epochs * per_epoch + n_test / batch * infer)
    return {
        "dataset": name,
        "params": sum(p.numel() for p in net.parameters() if p.requires_grad),
        "classes": n_classes,
        "input": [batch, t_bins, 2, height, width],
        "train_step_seconds": step,
        "inference_batch_seconds": infer,
        "epochs": epochs,
        "seeds": seeds,
        "fractions": list(fractions),
        "bptt_protocol_hours": seconds / 3600,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--out", help="also write the estimates and environment to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = [time_steps(name, args.steps) for name in DATASETS]
    env = _environment(args.threads)  # the CPU's model name, cores, torch, threads
    doc = {"command": "benchmarks/estimate_paper_runs.py " + " ".join(sys.argv[1:])}
    doc.update(environment=env, estimates=rows)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(doc, fh, indent=1)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"environment: {env}")
    for r in rows:
        print(
            f"{r['dataset']} ({r['classes']} classes): {r['params']:,} params, input {r['input']}, "
            f"train step {r['train_step_seconds']:.2f} s, inference batch "
            f"{r['inference_batch_seconds']:.2f} s -> BPTT protocol ({len(r['fractions'])} "
            f"fractions x {r['seeds']} seeds x {r['epochs']} epochs) ~ "
            f"{r['bptt_protocol_hours']:.1f} h on this CPU"
        )


if __name__ == "__main__":
    main()
