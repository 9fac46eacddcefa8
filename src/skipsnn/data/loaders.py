"""`make_loader`: a torch DataLoader over a `FramedDataset` (cached frames on disk).

Batches are read from the cache file in the loader's worker processes (one positioned
read per run of consecutive rows, `FramedDataset.__getitems__`), each sample's frame
``transform`` runs there too, and memory holds the batches in flight, not the dataset.
Pinned memory is used when the batches go to a CUDA device. A ``sampler`` (e.g.
``torch.utils.data.DistributedSampler`` for data-parallel training) replaces the
seeded shuffle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader


def make_loader(
    dataset,
    indices=None,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    workers: int = 0,
    device: str | torch.device | None = None,
    sampler: Any = None,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over ``dataset`` (or its rows ``indices``) yielding ``(x uint8 [B, T,
    2, H, W], y int64 [B])``.

    ``shuffle`` draws a new order each epoch from a generator seeded with ``seed`` (the
    same sequence of orders for the same seed, whatever the number of workers);
    ``workers`` > 0 reads and transforms in that many processes (kept between epochs);
    ``device`` "cuda..." pins the batches' memory for fast copies.
    """
    data = dataset if indices is None else dataset.subset(np.asarray(indices))
    pin = device is not None and torch.device(device).type == "cuda"
    kwargs: dict[str, Any] = {}
    if workers > 0:
        kwargs.update(persistent_workers=True, prefetch_factor=2)
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        generator=torch.Generator().manual_seed(seed) if shuffle and sampler is None else None,
        num_workers=workers,
        pin_memory=pin,
        drop_last=drop_last,
        **kwargs,
    )
