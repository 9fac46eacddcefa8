r"""Fused multi-step LIF: the same numbers as `neuron.lif_multistep_reference`, faster.

The reference runs `neuron.lif_step` once per time step and lets autograd record every
intermediate tensor. Here the whole scan over the time axis is one autograd node:

Forward, for ``n = 0 .. T-1`` (``decay = exp(-dt/tau_m)``, ``gain = R_m/tau_m``)::

    u[n] = a + (v[n-1] - a) * decay + gain * x[n]      # potential before the reset
    h[n] = u[n] - v_th;   s[n] = H(h[n])
    v[n] = v_reset if s[n] else u[n]                   # detached reset

evaluated in exactly the reference's order of floating-point operations, so spikes and
the final potential are bitwise equal to the reference on the CPU.

Backward, with the reset detached (``g[n] = dL/du[n]``, ``sg`` the surrogate derivative)::

    g[n] = dL/ds[n] * sg(h[n]) + (1 - s[n]) * decay * g[n+1]
    g[T-1] = dL/ds[T-1] * sg(h[T-1]) + (1 - s[T-1]) * dL/dv[T-1]
    dL/dx[n] = gain * g[n];   dL/dv0 = decay * g[0]

and, when the dynamics are learnable, ``dL/dgain = sum_n g[n] x[n]``,
``dL/da = sum_n g[n] (1 - decay)``, ``dL/ddecay = sum_n g[n] (v[n-1] - a)``, summed over
the dimensions the parameter was broadcast over; autograd carries them on to
``tau_m`` and ``r_m``. So the forward keeps only ``h`` (4 bytes per neuron and step; ``s``
is ``h >= 0``; 2 bytes with ``save="float16"``) and ``x`` only when ``R_m`` or ``tau_m``
need a gradient. The reference keeps about five tensors per step.

Backends, picked per call (``backend=`` or the ``SKIPSNN_LIF_BACKEND`` variable):

- ``c``: a small C kernel (OpenMP over blocks of neurons; a block's state and per-channel
  parameters stay in cache across the time loop), compiled with the system C compiler on
  first use into ``~/.cache/skipsnn`` (``$SKIPSNN_CACHE``; about a second, atomic) and
  called through ctypes; CPU float32 only. Any dense time-major layout is taken as it is
  (channels-last convolution outputs are not copied).
- ``torch``: an in-place time loop in plain torch ops; any device and dtype.
- ``triton``: a Triton kernel for CUDA tensors. Written for the GPU path but **not run in
  this project's sessions so far** (no GPU was available); ``auto`` does not pick it
  unless ``SKIPSNN_LIF_BACKEND=triton`` asks for it, and it falls back to ``torch``
  when Triton is missing.

``auto`` takes ``c`` when it applies and compiles, else ``torch``.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import torch

from .errors import ParameterError
from .surrogate import SURROGATES, surrogate_grad

BACKENDS = ("auto", "c", "torch", "triton")
SAVE_PRECISIONS = ("full", "float16")  # full: the dtype of the input
_SURROGATE_CODE = {"fast_sigmoid": 0, "arctan": 1}

# ---------------------------------------------------------------------------------------
# The C kernel
# ---------------------------------------------------------------------------------------

# -ffp-contract=off: no fused multiply-add, so every operation rounds as torch's separate
# elementwise kernels do and the forward stays bitwise equal to the reference.
_C_FLAGS = ["-O3", "-ffp-contract=off", "-fno-fast-math", "-fPIC", "-shared", "-std=c99"]

_C_SOURCE = r"""
#include <stdint.h>
#include <stddef.h>
#if defined(__F16C__)
#include <immintrin.h>
#endif

/* Neurons are processed in blocks of BLK; a block's state and parameters stay in cache
   while the time loop streams its slice of x, s and h. */
#ifndef BLK
#define BLK 2048
#endif
#define INLINE static inline __attribute__((always_inline))

INLINE float surrogate(float h, const int kind, float width) {
    if (kind == 0) { float q = 1.0f + width * (h < 0 ? -h : h); return 1.0f / (q * q); }
    float z = 1.5707963267948966f * width * h;
    return (0.5f * width) / (1.0f + z * z);
}

/* One time step of a block of n neurons. h gets u - v_th; with half_safe a negative h is
   kept at most -2^-24, so that it stays negative once rounded to float16 and the spike
   mask h >= 0 read back in the backward pass is exact. */
INLINE void step_forward(const float *restrict x, const float *restrict a,
                         const float *restrict d, const float *restrict g, float *restrict v,
                         float *restrict s, float *restrict h, int64_t n, float vth,
                         float vreset, const int zero_a, const int keep_h,
                         const int half_safe) {
    for (int64_t i = 0; i < n; i++) {
        /* same order as the reference: (a + (v - a) * d) + g * x */
        float u = zero_a ? v[i] * d[i] : a[i] + (v[i] - a[i]) * d[i];
        u = u + g[i] * x[i];
        int spk = u >= vth;
        s[i] = spk ? 1.0f : 0.0f;
        if (keep_h) {
            float hh = u - vth;
            h[i] = (half_safe && hh < 0.0f && hh > -0x1p-24f) ? -0x1p-24f : hh;
        }
        v[i] = spk ? vreset : u;
    }
}

/* g[n] = gs[n] sg(h[n]) + (1 - s[n]) g_post; out = g scale; g_post <- g d (reversed time). */
INLINE void step_backward(const float *restrict gs, const float *restrict h,
                          const float *restrict d, const float *restrict scale,
                          float *restrict gpost, float *restrict out, int64_t n,
                          const int kind, float width, const int has_gs) {
    for (int64_t i = 0; i < n; i++) {
        float hh = h[i], gprev = gpost[i];  /* loaded unconditionally: vectorizes */
        float gp = hh >= 0 ? 0.0f : gprev;
        if (has_gs) gp += gs[i] * surrogate(hh, kind, width);
        out[i] = gp * scale[i];
        gpost[i] = gp * d[i];
    }
}

/* float <-> IEEE half, vectorized with F16C where the build has it. */
#if defined(__F16C__) || defined(__FLT16_MAX__)
#define HAVE_HALF 1
static void to_half(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
#else
    for (; i < n; i++) { _Float16 r = (_Float16)src[i]; __builtin_memcpy(dst + i, &r, 2); }
#endif
}
static void from_half(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
#else
    for (; i < n; i++) { _Float16 r; __builtin_memcpy(&r, src + i, 2); dst[i] = (float)r; }
#endif
}
#endif

/* Neuron i (in memory order) uses parameter element (i / pstride) % psize; a block copies
   its own parameters into p0, p1, p2 (stepping j without a division per neuron). */
INLINE void gather(const float *a, const float *b, const float *c, float *pa, float *pb,
                   float *pc, int64_t i0, int64_t n, int64_t pstride, int64_t psize) {
    int64_t j = (i0 / pstride) % psize, r = i0 % pstride;
    for (int64_t i = 0; i < n; i++) {
        pa[i] = a[j]; pb[i] = b[j]; if (c) pc[i] = c[j];
        if (++r == pstride) { r = 0; if (++j == psize) j = 0; }
    }
}

#define FORWARD_VARIANTS(CALL)                                                            \
    if (zero_a && keep_h) CALL(1, 1);                                                     \
    else if (zero_a) CALL(1, 0);                                                          \
    else if (keep_h) CALL(0, 1);                                                          \
    else CALL(0, 0);

/* x, s: [T, N]; h: [T, N] float (or half for lif_forward16) or NULL; v: [N], v0 on entry
   and v[T-1] on exit; a, d, g compact (see gather). */
INLINE void forward(const float *x, const float *a, const float *d, const float *g, float *v,
                    float *s, void *h, int64_t T, int64_t N, float vth, float vreset,
                    int zero_a, int threads, int64_t pstride, int64_t psize, const int half) {
    int64_t nblk = (N + BLK - 1) / BLK;
    int keep_h = h != NULL;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t i0 = b * BLK, n = i0 + BLK < N ? BLK : N - i0;
        float al[BLK], dl[BLK], gl[BLK], hl[BLK];
        gather(a, d, g, al, dl, gl, i0, n, pstride, psize);
        for (int64_t t = 0; t < T; t++) {
            int64_t o = t * N + i0;
            float *ht = half ? hl : (keep_h ? (float *)h + o : NULL);
            /* constant flags, so each variant's loop is compiled without branches */
#define STEP(ZA, KH) step_forward(x + o, al, dl, gl, v + i0, s + o, ht, n, vth, vreset, ZA, KH, half)
            FORWARD_VARIANTS(STEP)
#undef STEP
#ifdef HAVE_HALF
            if (half && keep_h) to_half(hl, (uint16_t *)h + o, n);
#endif
        }
    }
}

void lif_forward(const float *x, const float *a, const float *d, const float *g, float *v,
                 float *s, float *h, int64_t T, int64_t N, float vth, float vreset,
                 int zero_a, int threads, int64_t pstride, int64_t psize) {
    forward(x, a, d, g, v, s, h, T, N, vth, vreset, zero_a, threads, pstride, psize, 0);
}

/* gs, out: [T, N]; h as in forward; gpost: [N], dL/dv[T-1] on entry and dL/dv0 on exit;
   out gets g[n] * scale; gs may be NULL; d and scale compact. */
INLINE void backward(const float *gs, const void *h, const float *d, const float *scale,
                     float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                     int threads, int64_t pstride, int64_t psize, const int half) {
    int64_t nblk = (N + BLK - 1) / BLK;
    int has_gs = gs != NULL;
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t i0 = b * BLK, n = i0 + BLK < N ? BLK : N - i0;
        float dl[BLK], cl[BLK], hl[BLK];
        gather(d, scale, NULL, dl, cl, NULL, i0, n, pstride, psize);
        for (int64_t t = T - 1; t >= 0; t--) {
            int64_t o = t * N + i0;
            const float *ht = (const float *)h + o;
#ifdef HAVE_HALF
            if (half) { from_half((const uint16_t *)h + o, hl, n); ht = hl; }
#endif
            const float *gst = has_gs ? gs + o : NULL;
            if (kind == 0 && has_gs)
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, 0, width, 1);
            else if (kind == 1 && has_gs)
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, 1, width, 1);
            else
                step_backward(gst, ht, dl, cl, gpost + i0, out + o, n, kind, width, 0);
        }
    }
}

void lif_backward(const float *gs, const float *h, const float *d, const float *scale,
                  float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                  int threads, int64_t pstride, int64_t psize) {
    backward(gs, h, d, scale, gpost, out, T, N, kind, width, threads, pstride, psize, 0);
}

#ifdef HAVE_HALF
/* The same with h kept in IEEE half precision (uint16 bits). */
void lif_forward16(const float *x, const float *a, const float *d, const float *g, float *v,
                   float *s, uint16_t *h, int64_t T, int64_t N, float vth, float vreset,
                   int zero_a, int threads, int64_t pstride, int64_t psize) {
    forward(x, a, d, g, v, s, h, T, N, vth, vreset, zero_a, threads, pstride, psize, 1);
}

void lif_backward16(const float *gs, const uint16_t *h, const float *d, const float *scale,
                    float *gpost, float *out, int64_t T, int64_t N, int kind, float width,
                    int threads, int64_t pstride, int64_t psize) {
    backward(gs, h, d, scale, gpost, out, T, N, kind, width, threads, pstride, psize, 1);
}
#endif
"""

_lib_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_error: str | None = None


def _cache_dir() -> Path:
    root = os.environ.get("SKIPSNN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "skipsnn"
    )
    return Path(root) / "lif_scan"


def _cpu_flags() -> str:
    """The CPU's feature flags (part of the cache key of a ``-march=native`` build)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def _compile(flags: list[str], target: Path) -> None:
    """Compile the kernel into ``target`` atomically (tmp file, then os.replace)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "lif_scan.c"
        src.write_text(_C_SOURCE)
        out = Path(tmp) / target.name
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [cc, *flags, str(src), "-o", str(out)], check=True, capture_output=True, timeout=120
        )
        os.replace(out, target)


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Declare the kernel's C signatures on a loaded library."""
    ptr, i64 = ctypes.c_void_p, ctypes.c_int64
    forward = [ptr] * 7 + [i64, i64, ctypes.c_float, ctypes.c_float, ctypes.c_int, ctypes.c_int]
    backward = [ptr] * 6 + [i64, i64, ctypes.c_int, ctypes.c_float, ctypes.c_int]
    names = [("lif_forward", forward), ("lif_backward", backward)]
    if hasattr(lib, "lif_forward16"):  # built with F16C or _Float16: h may be kept in half
        names += [("lif_forward16", forward), ("lif_backward16", backward)]
    for name, args in names:
        fn = getattr(lib, name)
        fn.argtypes = args + [i64, i64]
        fn.restype = None
    return lib


def _load_c_library() -> ctypes.CDLL | None:
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
            key = hashlib.sha256(
                "\0".join(
                    [_C_SOURCE, *flags, platform.machine(), sys.platform, _cpu_flags()]
                ).encode()
            ).hexdigest()[:16]
            target = _cache_dir() / f"lif_scan_{key}.so"
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
    _load_c_library()
    return _lib_error


def _ptr(t: torch.Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


# ---------------------------------------------------------------------------------------
# Forward and backward scans, one function per backend
# ---------------------------------------------------------------------------------------


def _full(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A parameter broadcast to the state shape, as its own contiguous float buffer."""
    return t.detach().expand(shape).contiguous()


def _time_major_dense(x: torch.Tensor) -> bool:
    """Whether ``x[t]`` are consecutive blocks of ``N`` elements, each dense in some order.

    Then the kernel can treat ``x`` as a flat ``[T, N]`` array whatever the order of the
    other dimensions (e.g. channels-last convolution outputs), and no copy is needed.
    """
    if x.shape[0] > 1 and x.stride(0) != math.prod(x.shape[1:]):
        return False
    expect = 1
    for stride, size in sorted(
        (st, sz) for st, sz in zip(x.stride()[1:], x.shape[1:], strict=True) if sz > 1
    ):
        if stride != expect:
            return False
        expect *= size
    return True


def _like(t: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``t`` broadcast to ``ref``'s shape in a new buffer laid out in ``ref``'s memory order."""
    out = torch.empty_like(ref, dtype=dtype)
    out.copy_(t.detach().expand(ref.shape))
    return out


def _compact(params: list[torch.Tensor], x0: torch.Tensor):
    """Parameters as the C kernel reads them: ``(arrays, stride, size)``.

    Neuron ``i`` (in ``x0``'s memory order) uses element ``(i // stride) % size``. When all
    parameters vary along at most one dimension of ``x0`` (per-channel dynamics, or one
    dynamic) they stay that small; otherwise they are expanded to one value per neuron.
    """
    shapes = [(1,) * (x0.dim() - t.dim()) + tuple(t.shape) for t in params]
    varying = {i for shape in shapes for i, size in enumerate(shape) if size > 1}
    if len(varying) > 1:
        return [_like(t, x0) for t in params], 1, x0.numel()
    if not varying:
        return [t.detach().reshape(1) for t in params], 1, 1
    (dim,) = varying
    size = x0.shape[dim]
    # a parameter varying along ``dim`` lists its values in order; a constant one repeats
    out = [
        (t.detach().reshape(-1) if t.numel() == size else t.detach().reshape(1).expand(size))
        for t in params
    ]
    return [t.contiguous() for t in out], x0.stride(dim), size


def _forward_c(x, a, decay, gain, v0, v_th, v_reset, save):
    lib = _load_c_library()
    kernel = lib.lif_forward16 if save == torch.float16 else lib.lif_forward
    if not _time_major_dense(x):
        x = x.contiguous()
    x0 = x[0]  # every per-neuron buffer below shares x[0]'s memory order
    v = _like(v0, x0)
    s = torch.empty_like(x)
    h = None if save is None else torch.empty_like(x, dtype=save)
    zero_a = not bool(a.detach().any())
    (af, df, gf), pstride, psize = _compact([a, decay, gain], x0)
    kernel(
        _ptr(x), _ptr(af), _ptr(df), _ptr(gf), _ptr(v), _ptr(s), _ptr(h),
        x.shape[0], x0.numel(), float(v_th), float(v_reset), int(zero_a),
        torch.get_num_threads(), pstride, psize,
    )  # fmt: skip
    return s, h, v


def _backward_c(gs, gv, h, decay, gain, kind, width, want_g):
    """``(dL/dx or g, dL/dv0)``; ``g`` unscaled when ``want_g`` (parameter gradients need it)."""
    lib = _load_c_library()
    kernel = lib.lif_backward16 if h.dtype == torch.float16 else lib.lif_backward
    h0, f32 = h[0], torch.float32
    if gs is not None and (gs.stride() != h.stride() or gs.dtype != f32):
        gs = _like(gs, h, f32)
    gpost = torch.zeros_like(h0, dtype=f32) if gv is None else _like(gv, h0, f32)
    out = torch.empty_like(h, dtype=f32)
    scale = torch.ones((), dtype=f32) if want_g else gain
    (df, sf), pstride, psize = _compact([decay, scale], h0)
    kernel(
        _ptr(gs), _ptr(h), _ptr(df), _ptr(sf), _ptr(gpost), _ptr(out),
        h.shape[0], h0.numel(), _SURROGATE_CODE[kind], float(width), torch.get_num_threads(),
        pstride, psize,
    )  # fmt: skip
    return out, gpost


def _forward_torch(x, a, decay, gain, v0, v_th, v_reset, save):
    state = x.shape[1:]
    a, decay, gain = a.detach(), decay.detach(), gain.detach()
    gx = gain * x  # the reference's gain * x[n], for all steps in one pass
    v = v0.detach().to(x.dtype).expand(state).clone(memory_format=torch.contiguous_format)
    s = torch.empty_like(x)
    h = None if save is None else torch.empty_like(x, dtype=save)
    # Without a saved state (no grad) nothing is written to h_full.
    h_full = h if save in (None, x.dtype) else torch.empty(state, dtype=x.dtype, device=x.device)
    zero_a = not bool(a.any())
    mask = torch.empty(state, dtype=torch.bool, device=x.device)
    for t in range(x.shape[0]):
        # (a + (v - a) * decay) + gain * x: the reference's order of operations
        if zero_a:
            v.mul_(decay)
        else:
            v.sub_(a).mul_(decay).add_(a)
        v.add_(gx[t])
        torch.ge(v, v_th, out=mask)
        if h is not None:
            hf = torch.sub(v, v_th, out=h[t] if h_full is h else h_full)
            if h_full is not h:  # reduced precision; a negative h must stay negative
                h[t].copy_(hf)
                h[t].masked_fill_((h[t] >= 0) & ~mask, -(2.0**-24))
        s[t].copy_(mask)
        v.masked_fill_(mask, v_reset)
    return s, h, v


def _backward_torch(gs, gv, h, decay, gain, kind, width, want_g):
    decay, gain = decay.detach(), gain.detach()
    h = h.to(decay.dtype)
    g = torch.zeros_like(h) if gs is None else gs * surrogate_grad(h, kind, width)
    not_spiked = (h < 0).to(h.dtype)
    last = h.shape[0] - 1
    if gv is not None:  # v[T-1] = u[T-1] * (1 - s[T-1])
        g[last].addcmul_(not_spiked[last], gv)
    # g[n] = A[n] + m[n] * g[n+1] with m[n] = (1 - s[n]) * decay: one in-place op per step
    m = not_spiked.mul_(decay)
    for t in range(last - 1, -1, -1):
        g[t].addcmul_(m[t], g[t + 1])
    gv0 = g[0] * decay
    return (g if want_g else g.mul_(gain)), gv0


# ---------------------------------------------------------------------------------------
# The Triton kernel (GPU). Unverified: no GPU was available while it was written.
# ---------------------------------------------------------------------------------------

_triton_kernels = None


def _load_triton():
    """(forward, backward) Triton kernels, or None when Triton or CUDA is missing."""
    global _triton_kernels
    if _triton_kernels is not None:
        return _triton_kernels or None
    try:
        import triton
        import triton.language as tl
    except ImportError:
        _triton_kernels = False
        return None

    @triton.jit
    def fwd(x, a, d, g, v, s, h, T, N, vth, vreset, KEEP_H: tl.constexpr, BLOCK: tl.constexpr):
        i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        ok = i < N
        ai = tl.load(a + i, mask=ok, other=0.0)
        di = tl.load(d + i, mask=ok, other=0.0)
        gi = tl.load(g + i, mask=ok, other=0.0)
        vi = tl.load(v + i, mask=ok, other=0.0)
        for t in range(T):
            xt = tl.load(x + t * N + i, mask=ok, other=0.0)
            u = ai + (vi - ai) * di
            u = u + gi * xt
            spk = u >= vth
            tl.store(s + t * N + i, tl.where(spk, 1.0, 0.0), mask=ok)
            if KEEP_H:
                tl.store(h + t * N + i, u - vth, mask=ok)
            vi = tl.where(spk, vreset, u)
        tl.store(v + i, vi, mask=ok)

    @triton.jit
    def bwd(gs, h, d, scale, gpost, out, T, N, width, KIND: tl.constexpr, BLOCK: tl.constexpr):
        i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        ok = i < N
        di = tl.load(d + i, mask=ok, other=0.0)
        sc = tl.load(scale + i, mask=ok, other=0.0)
        gp = tl.load(gpost + i, mask=ok, other=0.0)
        for k in range(T):
            t = T - 1 - k
            hh = tl.load(h + t * N + i, mask=ok, other=0.0)
            gst = tl.load(gs + t * N + i, mask=ok, other=0.0)
            if KIND == 0:
                q = 1.0 + width * tl.abs(hh)
                sg = 1.0 / (q * q)
            else:
                z = 1.5707963267948966 * width * hh
                sg = (0.5 * width) / (1.0 + z * z)
            gcur = tl.where(hh >= 0, 0.0, gp) + gst * sg
            tl.store(out + t * N + i, gcur * sc, mask=ok)
            gp = gcur * di
        tl.store(gpost + i, gp, mask=ok)

    _triton_kernels = (fwd, bwd)
    return _triton_kernels


def _forward_triton(x, a, decay, gain, v0, v_th, v_reset, save):
    fwd, _ = _load_triton()
    state, n, block = x.shape[1:], math.prod(x.shape[1:]), 1024
    x = x.contiguous()
    v = v0.detach().expand(state).clone(memory_format=torch.contiguous_format)
    s = torch.empty_like(x)
    keep_h = save is not None  # saved in float32 whatever ``save`` asks
    h = torch.empty_like(x) if keep_h else s  # a dummy pointer when KEEP_H is off
    af, df, gf = _full(a, state), _full(decay, state), _full(gain, state)
    grid = (_cdiv(n, block),)
    fwd[grid](x, af, df, gf, v, s, h, x.shape[0], n, float(v_th), float(v_reset), keep_h, block)
    return s, (h if keep_h else None), v


def _backward_triton(gs, gv, h, decay, gain, kind, width, want_g):
    _, bwd = _load_triton()
    state, n, block = h.shape[1:], math.prod(h.shape[1:]), 1024
    gs = torch.zeros_like(h) if gs is None else gs.contiguous()
    gpost = torch.zeros(state, dtype=h.dtype, device=h.device) if gv is None else gv
    gpost = gpost.expand(state).contiguous().clone()
    out = torch.empty_like(h)
    df = _full(decay, state)
    scale = torch.ones(state, dtype=h.dtype, device=h.device) if want_g else _full(gain, state)
    grid = (_cdiv(n, block),)
    bwd[grid](
        gs, h, df, scale, gpost, out, h.shape[0], n, float(width), _SURROGATE_CODE[kind], block
    )
    return out, gpost


def _cdiv(n: int, block: int) -> int:
    return (n + block - 1) // block


_IMPLS = {
    "c": (_forward_c, _backward_c),
    "torch": (_forward_torch, _backward_torch),
    "triton": (_forward_triton, _backward_triton),
}


def resolve_save(save: str | None = None) -> str:
    """The precision in which ``h`` is kept for the backward pass (``full`` unless asked)."""
    want = save or os.environ.get("SKIPSNN_LIF_SAVE", "full")
    if want not in SAVE_PRECISIONS:
        raise ParameterError(
            f"unknown LIF save precision {want!r}; choose one of {', '.join(SAVE_PRECISIONS)}"
        )
    return want


def resolve_backend(x: torch.Tensor, backend: str | None = None, save: str = "full") -> str:
    """The backend that will run for input ``x``: the request if it applies, else ``torch``."""
    want = backend or os.environ.get("SKIPSNN_LIF_BACKEND", "auto")
    if want not in BACKENDS:
        raise ParameterError(f"unknown LIF backend {want!r}; choose one of {', '.join(BACKENDS)}")
    if want in ("auto", "c") and x.device.type == "cpu" and x.dtype == torch.float32:
        lib = _load_c_library()
        if lib is not None and (save == "full" or hasattr(lib, "lif_forward16")):
            return "c"
    if want == "triton" and x.is_cuda and x.dtype == torch.float32 and _load_triton():
        return "triton"
    return "torch"


def available_backends() -> list[str]:
    """Backends that can run in this process (``torch`` always can)."""
    out = ["torch"]
    if _load_c_library() is not None:
        out.insert(0, "c")
    if torch.cuda.is_available() and _load_triton():
        out.append("triton")
    return out


# ---------------------------------------------------------------------------------------
# Autograd node and the public function
# ---------------------------------------------------------------------------------------


def _sum_to(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``t`` summed over the dimensions ``like`` was broadcast along (and the time axis)."""
    while t.dim() > like.dim():
        t = t.sum(0)
    return t.sum_to_size(like.shape)


class _LIFScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a, decay, gain, v0, v_th, v_reset, kind, width, backend, save):
        save_dtype = torch.float16 if save == "float16" else x.dtype
        s, h, v = _IMPLS[backend][0](x, a, decay, gain, v0, v_th, v_reset, save_dtype)
        need_x = ctx.needs_input_grad[3]
        ctx.save_for_backward(h, a, decay, gain, v0, x if need_x else None)
        ctx.cfg = (v_th, v_reset, kind, width, backend)
        return s, v

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gs, gv):
        h, a, decay, gain, v0, x = ctx.saved_tensors
        v_th, v_reset, kind, width, backend = ctx.cfg
        need_x, need_a, need_d, need_g, need_v0 = ctx.needs_input_grad[:5]
        want_g = need_a or need_d or need_g
        out, gv0 = _IMPLS[backend][1](gs, gv, h, decay, gain, kind, width, want_g)
        dx = da = dd = dg = dv0 = None
        if want_g:
            g = out
            if need_x:
                dx = g * gain
            if need_g:
                dg = _sum_to(g * x, gain)
            if need_a:
                da = _sum_to(g * (1 - decay), a)
            if need_d:
                h = h.to(out.dtype)
                # potential after the previous step: v0, then h + v_th or v_reset
                prev = torch.where(h[:-1] >= 0, torch.full_like(h[:-1], v_reset), h[:-1] + v_th)
                prev = torch.cat([v0.expand(h.shape[1:]).unsqueeze(0).to(h.dtype), prev])
                dd = _sum_to(g * (prev - a), decay)
        else:
            dx = out
        if need_v0:
            dv0 = _sum_to(gv0, v0)
        return dx, da, dd, dg, dv0, None, None, None, None, None, None


def lif_scan(
    x_seq: torch.Tensor,
    p,
    dt: float = 1.0,
    v0: torch.Tensor | None = None,
    surrogate: str = "fast_sigmoid",
    width: float = 10.0,
    backend: str | None = None,
    save: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused `neuron.lif_multistep_reference`: spikes ``[T, ...]`` and the final potential.

    ``p`` is a `neuron.LIFParams`; gradients flow to ``x_seq``, ``v0`` and any of
    ``p.a``, ``p.tau_m``, ``p.r_m`` that require them. ``backend`` is one of `BACKENDS`
    (default: the ``SKIPSNN_LIF_BACKEND`` variable, else ``auto``). ``save`` is the
    precision of ``h = u - v_th`` kept for the backward pass (default: the
    ``SKIPSNN_LIF_SAVE`` variable, else ``full``, the input's dtype): ``float16`` halves it;
    spikes and the forward stay exact, the surrogate derivative then carries a relative
    error up to about 1e-3 (``2 * 2**-11``).
    """
    if surrogate not in SURROGATES:
        raise ParameterError(
            f"unknown surrogate {surrogate!r}; choose one of {', '.join(SURROGATES)}"
        )
    if x_seq.dim() < 1 or x_seq.shape[0] == 0:
        raise ParameterError("the input sequence needs a leading time axis with at least one step")
    decay, gain = p.decay(dt), p.gain()
    a = p.a
    # Parameters may live on another device or dtype than x only if broadcasting allows.
    a, decay, gain = (t.to(device=x_seq.device, dtype=x_seq.dtype) for t in (a, decay, gain))
    if v0 is None:
        v0 = torch.full((), float(p.v_reset), dtype=x_seq.dtype, device=x_seq.device)
    save = resolve_save(save)
    name = resolve_backend(x_seq, backend, save)
    tracked = (x_seq, a, decay, gain, v0)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tracked):
        cfg = (p.v_th, p.v_reset, surrogate, float(width), name, save)
        return _LIFScan.apply(*tracked, *cfg)
    s, _, v = _IMPLS[name][0](x_seq, a, decay, gain, v0, p.v_th, p.v_reset, None)
    return s, v
