"""Backends of the fused LIF scan (`skipsnn.lif_scan` holds the autograd node and the choice).

Each backend module has ``forward(x, a, decay, gain, v0, v_th, v_reset, save)`` returning
``(s, h, v)`` and ``backward(gs, gv, h, decay, gain, kind, width, want_g)`` returning
``(dL/dx or g, dL/dv0)``:

- `c_backend`: the C kernel in ``lif_scan.c`` (shipped beside this file), compiled on first
  use and called through ctypes; CPU float32.
- `torch_backend`: an in-place time loop in torch ops; any device and dtype.
- `triton_backend`: Triton kernels; imports ``triton`` at module level, so it is imported
  only when the Triton backend is asked for (``import skipsnn`` never imports triton).
- `layout`: the memory-layout helpers the C and Triton wrappers share.
"""

SURROGATE_CODE = {"fast_sigmoid": 0, "arctan": 1}  # the kernels' numbering of the surrogates
