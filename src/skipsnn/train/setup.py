r"""What every training method starts from and hands back: data, splits, inputs, results.

Protocol, the same for every method, for a config ``cfg`` and the dataset's train/test
splits:

1. A seeded, stratified ``train.val_fraction`` of the training set is held out for
   validation (`split_indices`); of the rest (the *pool*), a seeded, stratified
   ``train.label_fraction`` keeps its labels. BPTT trains its weights on that labelled
   subset only; STDP learns its features from the whole pool without labels and fits
   its readout on the labelled subset.
2. The test set is scored once, at the end, by the run scaffold (`skipsnn.train.run`).

`RunSetup` is what the scaffold hands a method; `Trained` is what the method hands back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from ..config import Config
from .distributed import World


class Split(NamedTuple):
    """Index arrays into the training set."""

    train: np.ndarray  # the labelled subset the weights (or the readout) are fitted on
    val: np.ndarray
    pool: np.ndarray  # training samples outside validation (labelled or not)


class Runtime(NamedTuple):
    """Where and how the steps run (`devices`, `distributed`)."""

    device: torch.device = torch.device("cpu")
    precision: str = "32"
    world: World = World()
    batch_size: int = 32  # the global batch, split across processes
    collapse_time: bool = False
    loader_workers: int = 0


def runtime_of(cfg: Config, device: torch.device, world: World) -> Runtime:
    tr = cfg.train
    collapse = cfg.dataset.collapse_time
    return Runtime(device, tr.precision, world, tr.batch_size, collapse, tr.loader_workers)


class RunSetup(NamedTuple):
    """Everything a training method needs, prepared by the scaffold."""

    cfg: Config  # validated
    net: Any  # the freshly built, seeded `MMNDNet`
    train_set: Any  # x [N, T, 2, H, W] (uint8 counts), y [N], classes
    split: Split
    state: dict | None  # the checkpoint to continue from (None: a fresh run)
    out: Path | None  # the run folder (None: write nothing)
    progress: bool
    runtime: Runtime = Runtime()


class Trained(NamedTuple):
    """What a training method returns to the scaffold.

    ``scores`` maps frames ``[N, T, C, H, W]`` to class scores ``[N, K]`` whose argmax is
    the prediction and whose ``log_softmax`` is the predicted log-probability (logits for
    BPTT, log-probabilities for a readout). ``spikes`` maps frames ``[1, T, C, H, W]`` to
    each spiking layer's spikes ``[T, 1, C, H, W]`` (for the raster plot); ``plots``
    writes the method's own figures into a folder.
    """

    metrics: dict[str, Any]  # the method's own entries (losses, rates, params, ...)
    finished: bool
    scores: Callable[[torch.Tensor], torch.Tensor] | None = None
    spikes: Callable[[torch.Tensor], list[torch.Tensor]] | None = None
    plots: Callable[[Path], None] | None = None


def progress_bar(total: int, desc: str, progress: bool) -> tqdm:
    """A tqdm bar on a terminal; disabled elsewhere (logs get `log_line` instead)."""
    return tqdm(total=total, desc=desc, unit="batch", disable=not progress or not _tty())


def log_line(progress: bool, text: str) -> None:
    """One line on stderr per epoch / layer when there is no terminal for a bar."""
    if progress and not _tty():
        print(text, file=sys.stderr, flush=True)


def _tty() -> bool:
    return sys.stderr.isatty()


def load_data(cfg: Config, data: Any = None, progress: bool = True) -> tuple[Any, Any]:
    """``(train, test)`` datasets with ``x [N, T, 2, H, W]``, ``y [N]``, ``classes``.

    ``data`` may be given as such a pair or a mapping with ``train``/``test`` (the search
    passes preloaded data); otherwise both splits are loaded from the config's dataset.
    """
    if data is None:
        from ..data import load_frames

        ds = cfg.dataset
        kw = dict(root=ds.root, n_bins=ds.n_bins, size=ds.size, seed=ds.seed, progress=progress)
        train = load_frames(ds.name, "train", train_per_class=ds.train_per_class, **kw)
        return train, load_frames(ds.name, "test", **kw)
    if isinstance(data, dict):
        return data["train"], data.get("test")
    train, test = data
    return train, test


def split_indices(y: torch.Tensor | np.ndarray, cfg: Config) -> Split:
    """Validation split first, then the labelled fraction of what remains."""
    from ..data.splits import stratified_fraction, train_val_split

    y = np.asarray(y)
    tr = cfg.train
    if tr.val_fraction > 0:
        pool, val = train_val_split(y, tr.val_fraction, tr.seed)
    else:
        pool, val = np.arange(len(y)), np.zeros(0, dtype=np.int64)
    train = pool[stratified_fraction(y[pool], tr.label_fraction, tr.seed)]
    return Split(train, val, pool)


def prepare(x: torch.Tensor, collapse_time: bool) -> torch.Tensor:
    """uint8 event counts -> float input; the control collapses time.

    With ``collapse_time`` every step gets the time-averaged frame ``(1/T) sum_n x[n]``:
    the same total input, but no information about the order of events.
    """
    x = x.to(torch.float32)
    if collapse_time:
        x = x.mean(1, keepdim=True).expand_as(x).contiguous()
    return x
