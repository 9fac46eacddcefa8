"""Side by side on this machine: float32 vs bfloat16, and 1 vs 2 data-parallel processes.

Each variant is one ``skipsnn train`` on the synthetic gestures (same config, seed and
global batch), run as a child process whose peak RSS is read from ``getrusage`` (the
largest single process, so for two ranks the larger rank). Variants are interleaved
across repeats so that load drifts hit them alike. Reports per variant: wall time of
the training epochs (``train_seconds``), training samples per second in all and per
process, peak RSS and test accuracy; and the ratios to the float32, one-process run.

    .venv/bin/python benchmarks/bench_parallel.py --epochs 3 --repeats 2 \\
        --out benchmarks/results/parallel.json

Two cores here: two processes with one thread each use the same cores as one process
with two threads, so the per-process figure is the honest one to read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_speed import _environment  # a script beside this one

BIN = Path(sys.executable).parent
VARIANTS = {
    # name: (extra train options, launcher); the first is the base of the ratios
    "fp32-1proc-1thr": (["--precision", "32", "--threads", "1"], "plain"),
    "bf16-1proc-1thr": (["--precision", "bf16", "--threads", "1"], "plain"),
    "fp32-1proc-2thr": (["--precision", "32", "--threads", "2"], "plain"),
    "bf16-1proc-2thr": (["--precision", "bf16", "--threads", "2"], "plain"),
    "fp32-nproc2-1thr": (["--precision", "32", "--threads", "1", "--nproc", "2"], "plain"),
    "fp32-torchrun2-1thr": (["--precision", "32", "--threads", "1"], "torchrun"),
}

_MEASURE = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)\n"
)


def run_variant(name: str, epochs: int, folder: Path) -> dict:
    extra, launcher = VARIANTS[name]
    out = folder / "run"
    train = ["train", "--dataset", "gestures", "--device", "cpu", "--epochs", str(epochs)]
    train += ["--out", str(out), "--no-progress", *extra]
    if launcher == "torchrun":
        cmd = [str(BIN / "torchrun"), "--standalone", "--nproc-per-node", "2", "-m", "skipsnn"]
    else:
        cmd = [str(BIN / "skipsnn")]
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd, *train], capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    rss_kib, rc = res.stdout.strip().splitlines()[-1].split()
    if rc != "0":
        raise SystemExit(f"{name} failed:\n{res.stderr[-3000:]}")
    m = json.loads((out / "metrics.json").read_text())
    samples = m["n_train"] * m["epochs"]
    world = m["world_size"]
    return {
        "variant": name,
        "command": " ".join(["skipsnn" if launcher == "plain" else "torchrun ... -m skipsnn"] + train),
        "world_size": world,
        "precision": m["precision"],
        "train_seconds": m["train_seconds"],
        "wall_seconds": wall,
        "samples_per_second": samples / m["train_seconds"],
        "samples_per_second_per_process": samples / m["train_seconds"] / world,
        "peak_rss_mib": int(rss_kib) / 1024,
        "test_accuracy": m["test_accuracy"],
        "val_loss": m["val_loss"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    names = [v for v in args.variants.split(",") if v]
    # Generate/cache the data once, outside the measurements.
    subprocess.run([str(BIN / "skipsnn"), "data", "prepare", "gestures", "--no-progress"], check=True)
    rows = []
    for r in range(args.repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            folder = Path(tempfile.mkdtemp(prefix="bench_parallel_"))
            try:
                load = os.getloadavg()[0]
                row = run_variant(name, args.epochs, folder)
                row.update(repeat=r, load_before=load)
                rows.append(row)
                print(json.dumps(row), flush=True)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    summary = {}
    base_name = names[0]
    for name in names:
        mine = [x for x in rows if x["variant"] == name]
        summary[name] = {
            k: sum(x[k] for x in mine) / len(mine)
            for k in ("train_seconds", "samples_per_second", "samples_per_second_per_process", "peak_rss_mib", "test_accuracy")
        }
    base = summary[base_name]
    for s in summary.values():
        s["speed_ratio_to_base"] = s["samples_per_second"] / base["samples_per_second"]
        s["rss_ratio_to_base"] = s["peak_rss_mib"] / base["peak_rss_mib"]
    result = {
        "base": base_name,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "environment": _environment(None),  # threads: each variant's, in its rows
        "summary": summary,
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, s in summary.items():
        print(
            f"{name:22s} {s['samples_per_second']:7.1f} samples/s "
            f"({s['samples_per_second_per_process']:6.1f} per process, x{s['speed_ratio_to_base']:.2f}), "
            f"peak RSS {s['peak_rss_mib']:6.0f} MiB (x{s['rss_ratio_to_base']:.2f}), "
            f"test accuracy {100 * s['test_accuracy']:.1f}%"
        )


if __name__ == "__main__":
    main()
