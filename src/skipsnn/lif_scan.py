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

Backends, picked per call (``backend=`` or the ``SKIPSNN_LIF_BACKEND`` variable), each a
module of `skipsnn.kernels`:

- ``c``: a small C kernel (``kernels/lif_scan.c``; OpenMP over blocks of neurons, a
  block's state and per-channel parameters stay in cache across the time loop), compiled
  with the system C compiler on first use into ``~/.cache/skipsnn`` (``$SKIPSNN_CACHE``;
  about a second, atomic) and called through ctypes; CPU float32 only. Any dense
  time-major layout is taken as it is (channels-last convolution outputs are not copied).
- ``torch``: an in-place time loop in plain torch ops; any device and dtype.
- ``triton``: the same two scans as Triton kernels, for CUDA float32 tensors, and for CPU
  tensors when Triton's interpreter runs them (``TRITON_INTERPRET=1``, see
  `triton_interpreter_active`); ``triton`` is imported only when this backend is asked for.

`resolve_backend` says which one runs; a request that does not apply falls back to ``torch``.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import torch

from .determinism import enabled as _deterministic
from .determinism import serial
from .errors import ParameterError, check_choice
from .kernels import c_backend, torch_backend
from .kernels.c_backend import c_backend_error  # noqa: F401 (public here since the split)
from .surrogate import SURROGATES

BACKENDS = ("auto", "c", "torch", "triton")
SAVE_PRECISIONS = ("full", "float16")  # full: the dtype of the input

_triton_module: ModuleType | bool | None = None  # None: not tried; False: unavailable


def _load_triton() -> ModuleType | None:
    """`kernels.triton_backend`, imported on first need; None when Triton is missing."""
    global _triton_module
    if _triton_module is None:
        try:
            _triton_module = importlib.import_module(".kernels.triton_backend", __package__)
        except ImportError:
            _triton_module = False
    return _triton_module or None


def _impl(name: str) -> ModuleType:
    """The module holding backend ``name``'s ``forward`` and ``backward``."""
    if name == "c":
        return c_backend
    if name == "triton":
        return _load_triton()
    return torch_backend


def resolve_save(save: str | None = None) -> str:
    """The precision in which ``h`` is kept for the backward pass (``full`` unless asked)."""
    want = save or os.environ.get("SKIPSNN_LIF_SAVE", "full")
    check_choice("LIF save precision", want, SAVE_PRECISIONS, ParameterError)
    return want


_TRUE = ("1", "true", "on", "yes")


def triton_interpreter_active() -> bool:
    """Whether Triton's interpreter runs the Triton backend (so that it takes CPU tensors).

    Triton decides when the kernels are defined, on the backend's first use, by the
    ``TRITON_INTERPRET`` variable; from then on the answer is what those kernels are. Before
    that, and with the variable unset, triton is not imported to answer.
    """
    if _triton_module is None and os.environ.get("TRITON_INTERPRET", "").lower() not in _TRUE:
        return False
    module = _load_triton()
    return module is not None and module.INTERPRETED


def _triton_runs_on(x: torch.Tensor) -> bool:
    if x.dtype != torch.float32:
        return False
    if x.is_cuda:
        return _load_triton() is not None
    return x.device.type == "cpu" and triton_interpreter_active()


def resolve_backend(x: torch.Tensor, backend: str | None = None, save: str = "full") -> str:
    """The backend that will run for input ``x``: the request if it applies, else ``torch``.

    ``backend`` (default: ``$SKIPSNN_LIF_BACKEND``, else ``auto``) is one of `BACKENDS`.
    ``auto`` goes by the device of ``x``: on the CPU the C kernel, on CUDA the Triton
    kernels, on any other device (``mps``, ...) the torch backend. A backend applies when
    ``x`` is float32 and: ``c`` -- ``x`` is on the CPU, the kernel compiled and, for
    ``save="float16"``, the build can keep half precision; ``triton`` -- Triton imports and
    ``x`` is on CUDA, or on the CPU under Triton's interpreter (`triton_interpreter_active`).
    Whatever does not apply (no compiler, no Triton, another dtype) runs on ``torch``,
    which always applies.
    """
    want = backend or os.environ.get("SKIPSNN_LIF_BACKEND", "auto")
    check_choice("LIF backend", want, BACKENDS, ParameterError)
    if want == "auto":
        want = {"cpu": "c", "cuda": "triton"}.get(x.device.type, "torch")
    if want == "c" and x.device.type == "cpu" and x.dtype == torch.float32:
        if c_backend.load_library() is not None and (save == "full" or c_backend.has_half()):
            return "c"
    if want == "triton" and _triton_runs_on(x):
        return "triton"
    return "torch"


def available_backends() -> list[str]:
    """Backends that can run in this process (``torch`` always can)."""
    out = ["torch"]
    if c_backend.load_library() is not None:
        out.insert(0, "c")
    if (torch.cuda.is_available() or triton_interpreter_active()) and _load_triton():
        out.append("triton")
    return out


def _sum_to(t: torch.Tensor, like: torch.Tensor, one_thread: bool = False) -> torch.Tensor:
    """``t`` summed over the dimensions ``like`` was broadcast along (and the time axis).

    A sum to a single number is split across threads (so its rounding follows their
    count); ``one_thread`` (under `skipsnn.determinism`) makes every such sum serial.
    """
    with serial(one_thread):
        while t.dim() > like.dim():
            t = t.sum(0)
        return t.sum_to_size(like.shape)


class _LIFScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a, decay, gain, v0, v_th, v_reset, kind, width, backend, save):
        save_dtype = torch.float16 if save == "float16" else x.dtype
        s, h, v = _impl(backend).forward(x, a, decay, gain, v0, v_th, v_reset, save_dtype)
        need_x = ctx.needs_input_grad[3]
        ctx.save_for_backward(h, a, decay, gain, v0, x if need_x else None)
        ctx.cfg = (v_th, v_reset, kind, width, backend)
        ctx.serial = _deterministic()  # read now: the backward may run on another thread
        return s, v

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gs, gv):
        h, a, decay, gain, v0, x = ctx.saved_tensors
        v_th, v_reset, kind, width, backend = ctx.cfg
        need_x, need_a, need_d, need_g, need_v0 = ctx.needs_input_grad[:5]
        want_g = need_a or need_d or need_g
        out, gv0 = _impl(backend).backward(gs, gv, h, decay, gain, kind, width, want_g)
        dx = da = dd = dg = dv0 = None
        if want_g:
            g = out
            if need_x:
                dx = g * gain
            if need_g:
                dg = _sum_to(g * x, gain, ctx.serial)
            if need_a:
                da = _sum_to(g * (1 - decay), a, ctx.serial)
            if need_d:
                h = h.to(out.dtype)
                # potential after the previous step: v0, then h + v_th or v_reset
                prev = torch.where(h[:-1] >= 0, torch.full_like(h[:-1], v_reset), h[:-1] + v_th)
                prev = torch.cat([v0.expand(h.shape[1:]).unsqueeze(0).to(h.dtype), prev])
                dd = _sum_to(g * (prev - a), decay, ctx.serial)
        else:
            dx = out
        if need_v0:
            dv0 = _sum_to(gv0, v0, ctx.serial)
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
    check_choice("surrogate", surrogate, SURROGATES, ParameterError)
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
    s, _, v = _impl(name).forward(x_seq, a, decay, gain, v0, p.v_th, p.v_reset, None)
    return s, v
