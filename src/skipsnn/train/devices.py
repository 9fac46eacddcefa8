r"""Where a run computes and in which precision: ``train.device`` and ``train.precision``.

**Device.** ``auto`` takes CUDA when present, else the CPU; ``cpu``, ``cuda``, ``cuda:N``
and ``mps`` name one. The model, the batches and the LIF scan live there; the scan's
``auto`` backend follows the tensors (C kernel on the CPU, Triton on CUDA, torch
elsewhere: `skipsnn.lif_scan.resolve_backend`). Batches are copied from pinned memory
without blocking on CUDA. Checkpoints are always loaded onto the CPU first, so a run
started on a GPU resumes on the CPU and the reverse.

**Precision.** ``32`` (float32 everywhere), ``bf16`` or ``16``: convolutions and the
readout run under `torch.autocast` in bfloat16 / float16; the membrane scan always runs
in float32 (its input current is cast up), so spikes are exact 0/1 values and the
state never rounds; float16 scales the loss with `torch.amp.GradScaler` so small
gradients do not underflow. ``bf16`` works on the CPU too (it is often *slower* there:
see docs/performance.md for the measured effect).
"""

from __future__ import annotations

import contextlib

import torch

from ..config import check_device_name
from ..errors import ConfigError

_AUTOCAST_DTYPE = {"bf16": torch.bfloat16, "16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """The `torch.device` for ``train.device``; a device that is not present is refused."""
    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {name} was asked for, but torch sees no CUDA device; pass --device "
                "cpu (or auto): runs and checkpoints move between devices"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {name} was asked for, but torch sees {torch.cuda.device_count()} CUDA devices"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device mps was asked for, but torch sees no MPS device")
    return device


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The forward pass's precision context (a no-op for ``32``)."""
    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=_AUTOCAST_DTYPE[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for float16 (disabled, an identity, for the other precisions)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "16")


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``x`` on ``device``; from pinned memory without blocking on CUDA."""
    if x.device == device:
        return x
    return x.to(device, non_blocking=device.type == "cuda" and x.is_pinned())


def host() -> dict:
    """What a run's floating point depends on beyond its config and seed: the CPU, the
    torch build and the thread count (the same seeded BPTT run on another CPU can end
    several points of accuracy apart; docs/results/README.md, "Determinism").

    ``cpu`` is the model name, which virtual machines often report generically ("Intel(R)
    Xeon(R) Processor" for several generations), so ``cpu_id`` adds family, model and
    stepping, and ``cpu_capability`` the instruction set torch's kernels dispatch to
    (e.g. AVX2 or AVX512): two hosts that differ in either round differently."""
    import platform
    from pathlib import Path

    cpu = platform.processor() or platform.machine()
    ident = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "processor" and ident:
                break  # the first core describes them all
            if key == "model name":
                cpu = value.strip()
            elif key in ("cpu family", "model", "stepping"):
                ident[key] = value.strip()
    except OSError:
        pass
    cpu_id = ", ".join(f"{k} {v}" for k, v in ident.items()) or platform.machine()
    return {
        "cpu": cpu,
        "cpu_id": cpu_id,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
