"""Time and memory of the data path at full size: framing into the cache, reading it
back through a DataLoader, and one training epoch from the cache.

Each step runs as a child process (the ``skipsnn`` command or a small Python snippet)
whose whole process tree (framing workers, DataLoader workers) is sampled every 0.2 s
from /proc: the peak of the summed RSS, the peak of the summed PSS (shared pages, such
as those of forked workers, counted once, split between their sharers) and the largest
single process's RSS. Linux only.

    python benchmarks/make_standin.py dvsgesture /data/dvsgesture
    python benchmarks/bench_data.py frame dvsgesture --root /data/dvsgesture --cache /data/cache
    python benchmarks/bench_data.py loader dvsgesture --root /data/dvsgesture --cache /data/cache
    python benchmarks/bench_data.py train dvsgesture --root /data/dvsgesture --cache /data/cache \\
        --config configs/dvsgesture.yaml --out /tmp/run

``frame`` removes the dataset's cached entries first (so it frames from scratch);
``loader`` and ``train`` use the cache ``frame`` left. Results are printed as JSON
(with the command, ``uptime`` before and after, and the git commit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIPSNN = str(Path(sys.executable).with_name("skipsnn"))
PAPER = {"dvsgesture": (20, 64), "ncaltech101": (20, 64)}  # n_bins, size of configs/*.yaml


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _tree(root: int) -> list[int]:
    kids, out, todo = _children(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _mem(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process (0, 0 if it is gone)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def measure(cmd: list[str], env: dict | None = None, period: float = 0.2) -> dict:
    """Run ``cmd``; wall time, exit status, output tail and the tree's peak memory."""
    peak = {"tree_rss": 0, "tree_pss": 0, "process_rss": 0, "processes": 0}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pids = _tree(proc.pid)
            mems = [_mem(p) for p in pids]
            peak["tree_rss"] = max(peak["tree_rss"], sum(m[0] for m in mems))
            peak["tree_pss"] = max(peak["tree_pss"], sum(m[1] for m in mems))
            peak["process_rss"] = max([peak["process_rss"], *(m[0] for m in mems)])
            peak["processes"] = max(peak["processes"], sum(1 for m in mems if m[0]))
            stop.wait(period)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    mib = {f"peak_{k}_mib": round(v / 2**20, 1) for k, v in peak.items() if k != "processes"}
    return {
        "command": " ".join(cmd),
        "returncode": proc.returncode,
        "seconds": round(time.perf_counter() - t0, 1),
        **mib,
        "peak_processes": peak["processes"],
        "stdout_tail": out[-3000:],
        "stderr_tail": err[-3000:],
    }


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _commit() -> str:
    r = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(HERE), "status", "--porcelain", "--", "src"], capture_output=True, text=True
    ).stdout.strip()
    return r.stdout.strip() + (" (+ uncommitted changes under src/)" if dirty else "")


LOADER = """
import json, resource, sys, time
from skipsnn.data import load_frames, make_loader
name, root, n_bins, size, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ds = load_frames(name, "train", root=root, n_bins=n_bins, size=size, progress=False)
t = time.perf_counter()
n = total = 0
for x, y in make_loader(ds, batch_size=16, shuffle=True, workers=workers):
    n += len(x)
    total += int(x.sum())
print(json.dumps({"samples": n, "frame_bytes": ds.x.row_bytes * len(ds), "events_counted": total,
                  "epoch_read_seconds": round(time.perf_counter() - t, 1)}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("frame", "loader", "train"))
    ap.add_argument("dataset", choices=tuple(PAPER))
    ap.add_argument("--root", required=True)
    ap.add_argument("--cache", required=True, help="SKIPSNN_CACHE for the run")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--config", help="train: the config (default configs/<dataset>.yaml)")
    ap.add_argument("--out", help="train: the run folder (removed first)")
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args(argv)
    env = {**os.environ, "SKIPSNN_CACHE": args.cache}
    n_bins, size = PAPER[args.dataset]
    before = _uptime()
    if args.step == "frame":
        for p in Path(args.cache, "frames").glob(f"{args.dataset}-*"):
            shutil.rmtree(p)
        cmd = [SKIPSNN, "data", "prepare", args.dataset, "--root", args.root, "--n-bins",
               str(n_bins), "--size", str(size), "--no-progress", "--json"]  # fmt: skip
        if args.workers:
            cmd += ["--workers", str(args.workers)]
    elif args.step == "loader":
        cmd = [sys.executable, "-c", LOADER, args.dataset, args.root, str(n_bins), str(size),
               str(args.workers or 0)]  # fmt: skip
    else:
        out = Path(args.out or f"/tmp/bench_data_{args.dataset}")
        shutil.rmtree(out, ignore_errors=True)
        config = args.config or str(HERE.parent / "configs" / f"{args.dataset}.yaml")
        cmd = [SKIPSNN, "train", "--config", config, "--root", args.root, "--epochs",
               str(args.epochs), "--out", str(out), "--no-progress", "--json"]  # fmt: skip
    r = measure(cmd, env)
    r.update(step=args.step, dataset=args.dataset, uptime_before=before, uptime_after=_uptime(),
             cores=os.cpu_count(), commit=_commit())  # fmt: skip
    print(json.dumps(r, indent=2))
    return 0 if r["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
