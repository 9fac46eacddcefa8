"""The C backend: builds ``lif_scan.c`` once, binds it through ctypes, wraps its two scans.

The library is compiled with the system C compiler (``$CC``, else ``cc``) on first use into
``~/.cache/skipsnn/lif_scan`` (``$SKIPSNN_CACHE``; about a second; written atomically). The
cache key hashes the source file's contents, the flags, the platform and, for the
``-march=native`` build, the CPU's feature flags, so an edited source or another CPU gets
its own build. CPU float32 only; any dense time-major layout is taken as it is.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import torch

from ..paths import cache_home
from . import SURROGATE_CODE
from .layout import compact, forward_buffers, like, ptr

SOURCE = Path(__file__).with_name("lif_scan.c")

# -ffp-contract=off: no fused multiply-add, so every operation rounds as torch's separate
# elementwise kernels do and the forward stays bitwise equal to the reference.
_C_FLAGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-std=c99"]

_lib_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_error: str | None = None


def _cache_dir() -> Path:
    return cache_home() / "lif_scan"


def _cpu_flags() -> str:
    """The CPU's feature flags (part of the cache key of a ``-march=native`` build)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def _source_hash() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def _cache_key(flags: list[str]) -> str:
    """The build's name: the source's hash, the flags, the platform and the CPU."""
    parts = [_source_hash(), *flags, platform.machine(), sys.platform, _cpu_flags()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _compile(flags: list[str], target: Path) -> None:
    """Compile ``lif_scan.c`` into ``target`` atomically (tmp file, then os.replace)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / target.name
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [cc, *flags, str(SOURCE), "-o", str(out)], check=True, capture_output=True, timeout=120
        )
        os.replace(out, target)


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the kernel's C signatures on a loaded library."""
    vp, i64 = ctypes.c_void_p, ctypes.c_int64
    forward = [vp] * 7 + [i64, i64, ctypes.c_float, ctypes.c_float, ctypes.c_int, ctypes.c_int]
    backward = [vp] * 6 + [i64, i64, ctypes.c_int, ctypes.c_float, ctypes.c_int]
    names = [("lif_forward", forward), ("lif_backward", backward)]
    if hasattr(lib, "lif_forward16"):  # built with F16C or _Float16: h may be kept in half
        names += [("lif_forward16", forward), ("lif_backward16", backward)]
    for name, args in names:
        fn = getattr(lib, name)
        fn.argtypes = args + [i64, i64]
        fn.restype = None
    return lib


def load_library() -> ctypes.CDLL | None:
    """The compiled kernel, building it once per source/flags/platform; None if impossible."""
    global _lib, _lib_error
    with _lib_lock:
        if _lib is not None or _lib_error is not None:
            return _lib
        errors = []
        # Tuned for this CPU first (the cache key includes its feature flags), then portable
        # with OpenMP, then plain: a compiler without OpenMP still gives a serial kernel.
        for extra in (["-march=native", "-fopenmp"], ["-fopenmp"], []):
            flags = _C_FLAGS + extra
            target = _cache_dir() / f"lif_scan_{_cache_key(flags)}.so"
            try:
                if not target.exists():
                    _compile(flags, target)
                _lib = _bind(ctypes.CDLL(str(target)))
            except (OSError, subprocess.SubprocessError) as e:
                errors.append(f"{' '.join(extra) or 'plain'}: {e}")
                continue
            return _lib
        _lib_error = "; ".join(errors)
        return None


def c_backend_error() -> str | None:
    """Why the C kernel is unavailable (None when it loaded)."""
    load_library()
    return _lib_error


def has_half() -> bool:
    """Whether the loaded build can keep ``h`` in float16 (F16C or ``_Float16``)."""
    lib = load_library()
    return lib is not None and hasattr(lib, "lif_forward16")


def forward(x, a, decay, gain, v0, v_th, v_reset, save):
    lib = load_library()
    kernel = lib.lif_forward16 if save == torch.float16 else lib.lif_forward
    x, v, s, h, zero_a, (af, df, gf), pstride, psize = forward_buffers(x, a, decay, gain, v0, save)
    kernel(
        ptr(x), ptr(af), ptr(df), ptr(gf), ptr(v), ptr(s), ptr(h),
        x.shape[0], x[0].numel(), float(v_th), float(v_reset), int(zero_a),
        torch.get_num_threads(), pstride, psize,
    )  # fmt: skip
    return s, h, v


def backward(gs, gv, h, decay, gain, kind, width, want_g):
    """``(dL/dx or g, dL/dv0)``; ``g`` unscaled when ``want_g`` (parameter gradients need it)."""
    lib = load_library()
    kernel = lib.lif_backward16 if h.dtype == torch.float16 else lib.lif_backward
    h0, f32 = h[0], torch.float32
    if gs is not None and (gs.stride() != h.stride() or gs.dtype != f32):
        gs = like(gs, h, f32)
    gpost = torch.zeros_like(h0, dtype=f32) if gv is None else like(gv, h0, f32)
    out = torch.empty_like(h, dtype=f32)
    scale = torch.ones((), dtype=f32) if want_g else gain
    (df, sf), pstride, psize = compact([decay, scale], h0)
    kernel(
        ptr(gs), ptr(h), ptr(df), ptr(sf), ptr(gpost), ptr(out),
        h.shape[0], h0.numel(), SURROGATE_CODE[kind], float(width), torch.get_num_threads(),
        pstride, psize,
    )  # fmt: skip
    return out, gpost
