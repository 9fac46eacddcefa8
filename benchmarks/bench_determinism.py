"""The cost of ``train.deterministic``: seconds per BPTT epoch with and without it.

One process trains the same seeded config (default ``configs/rhythms.yaml``) for
``--epochs`` epochs, alternating the setting off and on ``--repeats`` times at each
thread count, so both see the same machine load; it reports the median wall and CPU
seconds per epoch (from each run's ``metrics.jsonl``), each setting's final training loss
at each thread count and whether the 1- and 2-thread runs ended with the same weights.
The load average before and after is printed: the development machine is shared, so
wall times move with it. First, a load-independent bound: the share of one training
step's CPU time (at one thread, batch ``train.batch_size``) spent in the kernels that
the setting serializes, i.e. inside `skipsnn.determinism.serial`.

    .venv/bin/python benchmarks/bench_determinism.py --epochs 5 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from skipsnn import determinism, lif_scan, network, spike_conv
from skipsnn.config import Config
from skipsnn.train import bptt, checkpoint, run_training
from skipsnn.train.setup import load_data, prepare


def serial_share(cfg: Config, train_set, steps: int = 10) -> float:
    """Fraction of a training step's CPU time (one thread) spent inside `serial`."""
    inside = [0.0]
    plain = determinism.serial

    @contextlib.contextmanager
    def timed(active=None):
        t = time.thread_time()
        with plain(active):
            yield
        inside[0] += time.thread_time() - t

    users = (spike_conv, lif_scan, network, bptt)  # the modules that import `serial`
    for m in users:
        m.serial = timed
    try:
        torch.set_num_threads(1)
        checkpoint.seed_everything(cfg.train.seed)
        net = network.build_network(cfg, tuple(train_set.x.shape[2:]), len(train_set.classes))
        b = cfg.train.batch_size
        x = prepare(train_set.x[:b], cfg.dataset.collapse_time)
        y = torch.as_tensor(train_set.y[:b], dtype=torch.long)

        def step():
            net.zero_grad()
            F.cross_entropy(net(x), y).backward()

        with determinism.deterministic():
            step()  # warm-up
            inside[0] = 0.0
            t = time.thread_time()
            for _ in range(steps):
                step()
            total = time.thread_time() - t
    finally:
        for m in users:
            m.serial = plain
    return inside[0] / total


def epoch_times(run: Path) -> list[tuple[float, float]]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["epoch_seconds"], r["epoch_cpu_seconds"]) for r in rows]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=Path("configs/rhythms.yaml"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--out", type=Path, help="also write the timings and ratios to this JSON")
    args = p.parse_args()
    base = Config.load(args.config).replace(train={"epochs": args.epochs, "device": "cpu"})
    data = load_data(base, None, False)
    share = serial_share(base, data[0])
    print(f"one thread: {100 * share:.0f}% of a training step's CPU time is in serial kernels")
    print(f"load average before: {os.getloadavg()}")
    times: dict[tuple[bool, int], list[tuple[float, float]]] = {}
    weights: dict[tuple[bool, int], dict] = {}
    losses: dict[tuple[bool, int], float] = {}
    per_run: dict[tuple[bool, int], list[float]] = {}  # median wall s/epoch of each run
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for threads in args.threads:
                for det in (False, True):
                    cfg = base.replace(train={"deterministic": det, "num_threads": threads})
                    out = Path(tmp) / f"r{rep}_t{threads}_d{int(det)}"
                    m = run_training(cfg, out, progress=False, data=data)
                    losses[det, threads] = m["train_loss"]
                    run_times = epoch_times(out)
                    times.setdefault((det, threads), []).extend(run_times)
                    per_run.setdefault((det, threads), []).append(
                        statistics.median(r[0] for r in run_times)
                    )
                    state = torch.load(out / "checkpoint.pt", weights_only=False)
                    weights[det, threads] = state["model"]
    print(f"load average after: {os.getloadavg()}")
    print("| setting | threads | epochs timed | wall s/epoch (median) | CPU s/epoch (median) |")
    print("|---|---|---|---|---|")
    for (det, threads), rows in sorted(times.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        name = "deterministic" if det else "default"
        print(f"| {name} | {threads} | {len(rows)} | {wall:.2f} | {cpu:.2f} |")
    # the cost, paired per repeat (the two settings ran back to back at each thread count)
    ratios = {
        threads: [
            d / f for f, d in zip(per_run[False, threads], per_run[True, threads], strict=True)
        ]
        for threads in args.threads
    }
    for threads, r in ratios.items():
        print(
            f"{threads} thread(s): deterministic / default wall time per epoch "
            f"{statistics.mean(r):.2f} (repeats {', '.join(f'{v:.2f}' for v in r)})"
        )
    if args.out:
        doc = {
            "command": "benchmarks/bench_determinism.py " + " ".join(sys.argv[1:]),
            "serial_share_one_thread": share,
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "torch": torch.__version__,
            "wall_seconds_per_epoch_per_run": {
                f"{'deterministic' if d else 'default'}_{t}": v for (d, t), v in per_run.items()
            },
            "deterministic_over_default": {str(t): r for t, r in ratios.items()},
        }
        args.out.write_text(json.dumps(doc, indent=1))
    if len(args.threads) > 1:
        t0, t1 = args.threads[:2]
        for det in (False, True):
            a, b = weights[det, t0], weights[det, t1]
            same = all(torch.equal(a[k], b[k]) for k in a)
            name = "deterministic" if det else "default"
            print(
                f"{name}: final train loss {losses[det, t0]!r} at {t0} threads, "
                f"{losses[det, t1]!r} at {t1}; final weights identical: {same}"
            )


if __name__ == "__main__":
    main()
