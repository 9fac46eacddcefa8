r"""Supervised training by backpropagation through time (BPTT) with surrogate gradients.

The method only: the run scaffold (`skipsnn.train.run`) loads the data, makes the splits
(`skipsnn.train.setup`), builds and seeds the network, and scores the test set once.
Here, on the labelled subset of the training set:

1. Adam (``train.lr``, ``train.weight_decay``) on the cross-entropy of the readout's
   time-averaged potential; the learning rate follows ``train.lr_schedule``
   (``cosine``: ``lr_e = lr (1 + cos(pi e / E)) / 2`` for epoch ``e`` of ``E``).
2. After every epoch: validation loss/accuracy, one line in ``metrics.jsonl``, and a
   checkpoint (model, optimizer, scheduler, shuffling and global RNG states, history)
   written atomically, so a resumed run continues a killed one bit for bit.

Everything is seeded and runs on the CPU with deterministic kernels, so the same config
gives the same numbers (for the same ``train.num_threads`` and torch build); with
``train.deterministic`` also for any ``num_threads`` (`skipsnn.determinism`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..config import Config
from ..determinism import serial
from ..errors import ConfigError
from ..network import MMNDNet, calibrate_rates
from . import checkpoint as ckpt
from .devices import autocast, grad_scaler, to_device
from .distributed import GlobalBatchShares, World, all_sum, share_bounds
from .metrics import accuracy
from .setup import RunSetup, Runtime, Trained, log_line, prepare, progress_bar


def train_epoch(
    net: torch.nn.Module,
    opt: torch.optim.Optimizer,
    dataset,
    order: torch.Tensor,
    rt: Runtime,
    scaler: torch.amp.GradScaler,
    bar: tqdm,
) -> dict[str, Any]:
    """One pass over ``dataset[order]`` in global batches of ``rt.batch_size`` (this
    process's share of each, by a DataLoader); returns mean loss, accuracy, firing rates.

    With ``W`` processes, the loss of a share of ``n_r`` samples out of a global batch of
    ``n`` is its mean times ``n_r W / n``, so DDP's gradient average is the gradient of
    the global batch's mean loss (exactly the one-process loss for ``W = 1``).
    """
    net.train()
    world, n = rt.world, len(order)
    total_loss, correct = 0.0, 0
    rates = torch.zeros(len(_module(net).convs), dtype=torch.float64)
    loader = DataLoader(
        dataset,
        batch_sampler=GlobalBatchShares(order, rt.batch_size, world),
        num_workers=rt.loader_workers,
        pin_memory=rt.device.type == "cuda",
    )
    for start, (xb, yb) in zip(range(0, n, rt.batch_size), loader, strict=True):
        n_global = min(rt.batch_size, n - start)
        lo, hi = share_bounds(n_global, world)
        xb = prepare(to_device(xb, rt.device), rt.collapse_time)
        yb = to_device(yb, rt.device)
        with autocast(rt.device, rt.precision):
            fw = net(xb, record=True)
        loss = F.cross_entropy(fw.logits.float(), yb)
        factor = (hi - lo) * world.size / n_global  # 0 for an empty share (a stand-in sample)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss if factor == 1 else loss * factor).backward()
        scaler.step(opt)
        scaler.update()
        if hi > lo:
            total_loss += loss.item() * len(yb)
            correct += int((fw.logits.argmax(1) == yb).sum())
            with serial():  # whole-tensor sums: split across threads unless determinism
                means = [s.mean().item() * len(yb) for s in fw.spikes]
            rates += torch.tensor(means, dtype=torch.float64)
        bar.update(1)
    total_loss, correct, *summed = all_sum([total_loss, correct, *rates.tolist()], world)
    return {
        "train_loss": total_loss / n,
        "train_accuracy": correct / n,
        "firing_rate": (torch.tensor(summed, dtype=torch.float64) / n).tolist(),
    }


@torch.no_grad()
def predict(
    net, x, batch_size: int, collapse_time: bool, rt: Runtime | None = None
) -> torch.Tensor:
    """Logits ``[N, K]`` (on the CPU, float32) for all of ``x``, in batches."""
    rt = rt or Runtime(collapse_time=collapse_time)
    net.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = prepare(to_device(x[i : i + batch_size], rt.device), collapse_time)
        with autocast(rt.device, rt.precision):
            out.append(net(xb).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, _module(net).n_classes)


def evaluate(net, x, y, cfg: Config, rt: Runtime | None = None):
    """``(loss, accuracy)`` on a labelled set (None, None for an empty one); with several
    processes each scores its contiguous share and the sums are combined."""
    world = rt.world if rt is not None else World()
    if len(y) == 0:
        return None, None
    bs, collapse = cfg.train.eval_batch_size, cfg.dataset.collapse_time
    if world.size == 1:
        logits = predict(net, x, bs, collapse, rt)
        return F.cross_entropy(logits, y).item(), accuracy(logits, y)
    lo, hi = share_bounds(len(y), world)
    logits = predict(net, x[lo:hi], bs, collapse, rt)
    loss_sum = F.cross_entropy(logits, y[lo:hi], reduction="sum").item() if hi > lo else 0.0
    correct = int((logits.argmax(1) == y[lo:hi]).sum()) if hi > lo else 0
    loss_sum, correct = all_sum([loss_sum, correct], world)
    return loss_sum / len(y), correct / len(y)


def _module(net: torch.nn.Module) -> MMNDNet:
    """The `MMNDNet` inside a DistributedDataParallel wrapper (or the net itself)."""
    return getattr(net, "module", net)


def lr_factor(epoch: int, epochs: int, schedule: str) -> float:
    """Learning-rate multiplier for (0-based) ``epoch`` of ``epochs``.

    ``cosine``: ``(1 + cos(pi epoch / epochs)) / 2``; ``constant``: 1. A closed form (not
    the recursive one of `CosineAnnealingLR`), so a run resumed with more epochs simply
    follows the schedule of its new length.
    """
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    return 1.0


def make_scheduler(opt: torch.optim.Optimizer, cfg: Config) -> torch.optim.lr_scheduler.LRScheduler:
    epochs, schedule = cfg.train.epochs, cfg.train.lr_schedule
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, epochs, schedule))


def check_resume(state: dict, cfg: Config, out: Path) -> None:
    """Refuse to continue a checkpoint that is not this run's (only --epochs may change)."""
    if "model" not in state:
        raise ConfigError(f"{out / ckpt.CHECKPOINT} is not a BPTT checkpoint")
    epoch = state.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ConfigError(
            f"{out / ckpt.CHECKPOINT} stores epoch {epoch!r}, not a number of epochs trained "
            "(an integer >= 0); it cannot be resumed"
        )
    saved = Config.from_dict(state["config"])
    if saved.replace(train=resumable_changes(cfg)) != cfg:
        raise ConfigError(
            f"the config differs from the one the run in {out} was started with; "
            "resume with the same options (only --epochs and --device may change)"
        )
    if state["epoch"] > cfg.train.epochs:
        raise ConfigError(
            f"the run in {out} has already trained {state['epoch']} epochs, more than "
            f"the {cfg.train.epochs} asked for"
        )


def resumable_changes(cfg: Config) -> dict[str, Any]:
    """What a resumed run may change: its length and where it computes (a checkpoint
    loads on any device)."""
    tr = cfg.train
    return {"epochs": tr.epochs, "device": tr.device, "loader_workers": tr.loader_workers}


def fit(setup: RunSetup, stop_after: int | None = None) -> Trained:
    """Train ``setup.net`` on the labelled subset; ``stop_after`` returns after that many
    epochs of this call, as if the process were killed there (to test resuming)."""
    cfg, net, state, out, rt = setup.cfg, setup.net, setup.state, setup.out, setup.runtime
    tr, collapse = cfg.train, cfg.dataset.collapse_time
    train_set, y = setup.train_set, torch.as_tensor(setup.train_set.y, dtype=torch.long)
    split = setup.split
    net.to(rt.device)
    if cfg.network.init_rate is not None and state is None:
        # Deterministic: the first labelled samples in index order, no random draws.
        first = torch.as_tensor(split.train[: tr.eval_batch_size])
        x_first = prepare(to_device(train_set.x[first], rt.device), collapse)
        calibrate_rates(net, x_first, cfg.network.init_rate)
    opt = torch.optim.Adam(net.parameters(), lr=tr.lr, weight_decay=tr.weight_decay)
    sched = make_scheduler(opt, cfg)
    scaler = grad_scaler(rt.device, rt.precision)
    shuffle = torch.Generator().manual_seed(tr.seed)
    start_epoch, history, train_seconds, cpu_seconds = 0, [], 0.0, 0.0
    if state is not None:
        with ckpt.restoring(out / ckpt.CHECKPOINT):
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            if "scaler" in state:
                scaler.load_state_dict(state["scaler"])
            shuffle.set_state(state["shuffle_rng"])
            ckpt.set_rng_states(state["rng"])
            start_epoch, history = int(state["epoch"]), list(state["history"])
            train_seconds = float(state["train_seconds"])
            cpu_seconds = float(state["train_cpu_seconds"])
    model = net
    if rt.world.size > 1:  # after calibration and restoring: every rank holds the same weights
        ids = [rt.device.index] if rt.device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)

    train_idx = torch.as_tensor(split.train)
    n_batches = math.ceil(len(train_idx) / tr.batch_size)
    last = tr.epochs if stop_after is None else min(tr.epochs, start_epoch + stop_after)
    main = rt.world.is_main
    bar = progress_bar(
        (last - start_epoch) * n_batches, f"bptt {cfg.dataset.name}", setup.progress and main
    )
    # The validation frames stay where the dataset keeps them (a file-backed cache is read
    # batch by batch), so memory does not grow with the dataset.
    x_val = (
        train_set.subset(split.val).x if hasattr(train_set, "subset") else train_set.x[split.val]
    )
    y_val = y[split.val]
    for epoch in range(start_epoch + 1, last + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        order = train_idx[torch.randperm(len(train_idx), generator=shuffle)]
        lr = opt.param_groups[0]["lr"]
        row = train_epoch(model, opt, train_set, order, rt, scaler, bar)
        sched.step()
        val_loss, val_acc = evaluate(net, x_val, y_val, cfg, rt)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0  # all threads; load-independent, unlike wall time
        train_seconds += seconds
        cpu_seconds += cpu
        history.append(
            {
                "epoch": epoch,
                "lr": lr,
                **row,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "epoch_seconds": seconds,
                "epoch_cpu_seconds": cpu,
            }
        )
        shown = "-" if val_acc is None else f"{val_acc:.3f}"
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=shown)
        log_line(
            setup.progress and main,
            f"bptt {cfg.dataset.name} epoch {epoch}/{tr.epochs}: train loss "
            f"{row['train_loss']:.4f}, validation accuracy {shown} ({seconds:.1f} s)",
        )
        if out is not None and main:
            state = {
                "config": cfg.to_dict(),
                "classes": list(train_set.classes),
                "input_shape": net.input_shape,
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "shuffle_rng": shuffle.get_state(),
                "rng": ckpt.rng_states(),
                "epoch": epoch,
                "history": history,
                "train_seconds": train_seconds,
                "train_cpu_seconds": cpu_seconds,
            }
            if scaler.is_enabled():
                state["scaler"] = scaler.state_dict()
            ckpt.save_run_state(state, history, out)
    bar.close()

    final = history[-1] if history else {}
    metrics = {
        "params": sum(p.numel() for p in net.parameters() if p.requires_grad),
        "epochs": len(history),
        "finished": len(history) == tr.epochs,
        "train_loss": final.get("train_loss"),
        "train_accuracy": final.get("train_accuracy"),
        "val_loss": final.get("val_loss"),
        "val_accuracy": final.get("val_accuracy"),
        "firing_rate": final.get("firing_rate"),
        "train_seconds": train_seconds,
        "train_cpu_seconds": cpu_seconds,
    }
    return Trained(
        metrics,
        metrics["finished"],
        scores=lambda frames: predict(net, frames, tr.eval_batch_size, collapse, rt),
        spikes=lambda frames: record_spikes(net, frames, collapse, rt),
        plots=lambda folder: _plot_curves(history, folder),
    )


@torch.no_grad()
def record_spikes(net: MMNDNet, frames, collapse_time: bool, rt: Runtime | None = None):
    """Each spiking layer's spikes ``[T, B, C, H, W]`` (on the CPU) for ``frames``."""
    rt = rt or Runtime(collapse_time=collapse_time)
    net.eval()
    with autocast(rt.device, rt.precision):
        spikes = net(prepare(to_device(frames, rt.device), collapse_time), record=True).spikes
    return [s.float().cpu() for s in spikes]


def _plot_curves(history: list[dict], folder: Path) -> None:
    from .plots import plot_curves

    plot_curves(history, folder / "curves.png")
