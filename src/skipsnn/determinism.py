r"""Results that do not depend on the number of CPU threads (``train.deterministic``).

A seeded run repeats itself bit for bit at a fixed ``train.num_threads``, but some of
its kernels split one sum across threads, so 1 and 2 threads round differently and a
40-epoch BPTT run drifts by points. Measured on the CPU build (MKL, oneDNN, OpenMP),
comparing every gradient of one training step at 1 and 2 threads bitwise:

- the **weight gradients of the convolutions** (oneDNN's backward-weights kernel splits
  the sum over the batch and positions across threads; the forward and the input
  gradient do not: each output element is summed by one thread);
- the **readout's weight gradient** ``grad.t() @ x`` (an MKL ``sgemm`` whose inner
  dimension is ``T * B``, which MKL splits across threads);
- any **reduction of a whole tensor to one number** (torch sums it in one slice per
  thread, then adds the slices); reductions with several outputs give each output to
  one thread (equal at 1 and 2 threads on every shape tried).

The rest of a step was already equal at 1 and 2 threads: the forward pass
(convolutions included), the input gradients, the LIF scan (elementwise per neuron)
and Adam. Under `deterministic`, `spike_conv` and `lif_scan`
compute the gradients above inside `serial` (one thread, the count restored after),
and the readout's forward product too, so a run at any thread count gives bitwise the
numbers of a 1-thread run; the rest of the step keeps all threads. The flag is read
when the forward pass runs and kept with the autograd node, so the backward pass
honours it wherever it runs.

`deterministic` is a context manager (per thread, nestable). The training scaffold
(`skipsnn.train.run`) enters it for the whole run (training, validation and test
scoring) and for a re-evaluation when ``train.deterministic`` is set; library code
calling `skipsnn.train.bptt.predict` or a network directly can enter it itself. It
concerns the CPU only: CUDA kernels have their own nondeterminism
(``torch.use_deterministic_algorithms``), and there `serial` changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_state = threading.local()


def enabled() -> bool:
    """Whether the calling thread is inside `deterministic` (``enabled=True``)."""
    return getattr(_state, "on", False)


@contextmanager
def deterministic(on: bool = True) -> Iterator[None]:
    """Within: results independent of ``torch.get_num_threads()`` (see the module)."""
    before = enabled()
    _state.on = bool(on)
    try:
        yield
    finally:
        _state.on = before


@contextmanager
def serial(active: bool | None = None) -> Iterator[None]:
    """One CPU thread inside when ``active`` (default: `enabled`), then the count before.

    For kernels whose summation order follows the thread count; a no-op at one thread.
    """
    if active is None:
        active = enabled()
    threads = torch.get_num_threads()
    if not active or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
