"""GPU check: the paper's DVS128 Gesture network (configs/dvsgesture.yaml) at T=20, batch
16, 64x64 on one CUDA device: training-step time and peak memory for skipsnn with the
Triton and torch scan backends in float32 and bf16, and for an snnTorch twin (the same
discrete model, from benchmarks/bench_speed.py) when snnTorch is importable.

One training step = forward + cross-entropy + backward + Adam step. Each variant: 3
warm-up steps, then ``--steps`` timed steps (CUDA events around each; the median is
reported), peak memory from ``torch.cuda.max_memory_allocated`` over one step after a
reset. Writes JSON to ``--out``. Called by benchmarks/gpu_check.sh. ``--device cpu --steps 1``
smoke-tests the script itself on a machine without a GPU (the Triton rows then run the
torch fallback, and no memory is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))


def batch(device, t=20, b=16, size=64, density=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(b, t, 2, size, size, generator=g) < density).float()
    y = torch.randint(0, 11, (b,), generator=g)
    return x.to(device), y.to(device)


def time_steps(step, steps: int, device) -> tuple[float, float | None]:
    """Median step time (ms) and peak memory (MiB) of one step (None off CUDA)."""
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(1000 * (time.perf_counter() - t0))
    if not cuda:
        return statistics.median(times), None
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    step()
    sync()
    return statistics.median(times), (torch.cuda.max_memory_allocated() - base) / 2**20


def skipsnn_variant(backend: str, precision: str, steps: int, device) -> dict:
    from bench_speed import build_skipsnn

    from skipsnn.train.devices import autocast

    os.environ["SKIPSNN_LIF_BACKEND"] = backend
    net, _ = build_skipsnn("dvsgesture", REPO, 64)
    net = net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = batch(device)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "16")

    def step():
        with autocast(device, precision):
            logits = net(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    ms, mib = time_steps(step, steps, device)
    with torch.no_grad(), autocast(device, precision):
        logits = net(x).float().cpu()
    return {"framework": "skipsnn", "backend": backend, "precision": precision,
            "step_ms": ms, "peak_mib": mib, "logits_sum": float(logits.sum())}


def snntorch_variant(steps: int, device) -> dict:
    try:
        import snntorch  # noqa: F401
    except ImportError as e:
        return {"framework": "snntorch", "skipped": f"snntorch not importable: {e}"}
    from bench_speed import build_skipsnn, build_snntorch

    ref, _ = build_skipsnn("dvsgesture", REPO, 64)
    model = build_snntorch(ref, layerwise=False).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = batch(device)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    ms, mib = time_steps(step, steps, device)
    return {"framework": "snntorch", "version": snntorch.__version__, "precision": "32",
            "step_ms": ms, "peak_mib": mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="cuda", help="cuda (the check); cpu only to smoke-test it")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check needs a CUDA device")
    rows = []
    for backend in ("triton", "torch"):
        for precision in ("32", "bf16"):
            t0 = time.perf_counter()
            try:
                row = skipsnn_variant(backend, precision, args.steps, device)
            except Exception as e:  # noqa: BLE001 - report and go on to the next variant
                row = {"framework": "skipsnn", "backend": backend, "precision": precision,
                       "error": f"{type(e).__name__}: {e}"[:500]}
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
            print(json.dumps(row), flush=True)
    rows.append(snntorch_variant(args.steps, device))
    print(json.dumps(rows[-1]), flush=True)
    result = {
        "config": "configs/dvsgesture.yaml, T=20, batch 16, 64x64, one train step incl. Adam",
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu (smoke test)",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
