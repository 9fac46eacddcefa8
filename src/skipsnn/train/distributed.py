r"""Data-parallel training on `torch.distributed` (DistributedDataParallel).

A run over ``W`` processes (``skipsnn train --nproc W`` on one machine, or ``torchrun
--nnodes ... --nproc-per-node ... -m skipsnn train ...`` on many) trains the same model
as one process with the same ``train.batch_size`` and seed:

* every process draws the same epoch order from the run's seed, and each global batch
  of ``B`` samples is cut into ``W`` contiguous shares (`GlobalBatchShares`), so the
  global batch is ``batch_size`` whatever ``W`` is;
* each process scales its share's mean loss by ``n_r W / n`` (``n_r`` of the global
  batch's ``n`` samples), so DDP's average of the gradients is the gradient of the mean
  loss over the *global* batch, uneven shares included (`bptt.train_epoch`);
* validation is split the same way and summed across processes.

So the weights after an epoch equal the one-process weights up to the order of float
summation. Only rank 0 writes the run folder, holds its lock and scores the test set.
Backends: gloo on the CPU, NCCL on CUDA. STDP runs in one process only: its layer-wise
updates are sequential in the data and are not averaged across processes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from ..errors import ConfigError


class World(NamedTuple):
    """This process's place in a data-parallel run (``size == 1``: a plain run)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def current_world() -> World:
    """The running process group's world, or a one-process world without one."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def init_from_env(device: torch.device) -> World:
    """Join the process group that ``torchrun`` (or `spawn`) described in the
    environment (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR``, ``MASTER_PORT``)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        return current_world()
    if not dist.is_available():
        raise ConfigError("this torch build has no torch.distributed")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return current_world()


def local_device_name(name: str) -> str:
    """``cuda`` becomes this process's GPU (``cuda:LOCAL_RANK``) in a multi-process run."""
    if name in ("cuda", "auto") and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        if torch.cuda.is_available():
            return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return name


class GlobalBatchShares(Sampler[list[int]]):
    """This rank's share of each global batch of ``order`` (one list of indices per step).

    Share ``r`` of a batch of ``n`` samples is its ``r``-th of ``W`` contiguous slices
    (sizes differ by at most one). When ``n < W`` a share may be empty: the rank then
    gets the batch's first sample as a stand-in, whose loss it weights by 0, so that it
    still takes part in the gradient average.
    """

    def __init__(self, order: torch.Tensor, batch_size: int, world: World):
        self.order, self.batch_size, self.world = order.tolist(), batch_size, world

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        for start in range(0, len(self.order), self.batch_size):
            batch = self.order[start : start + self.batch_size]
            lo, hi = share_bounds(len(batch), self.world)
            yield batch[lo:hi] if hi > lo else batch[:1]


def share_bounds(n: int, world: World) -> tuple[int, int]:
    """``[lo, hi)`` of rank ``world.rank``'s contiguous share of ``n`` items."""
    return n * world.rank // world.size, n * (world.rank + 1) // world.size


def all_sum(values: list[float], world: World) -> list[float]:
    """Element-wise sum of ``values`` over all processes (float64)."""
    if world.size == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a local process group's rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(fn, nproc: int, *args) -> None:
    """Run ``fn(*args)`` in ``nproc`` local processes forming one process group
    (`torch.multiprocessing.spawn`, rendezvous on 127.0.0.1)."""
    import torch.multiprocessing as mp

    port = free_port()
    mp.spawn(_entry, args=(fn, nproc, port, args), nprocs=nproc, join=True)


def _entry(rank: int, fn, nproc: int, port: int, args) -> None:
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(nproc),
        LOCAL_WORLD_SIZE=str(nproc),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    try:
        fn(*args)
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
