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
gives the same numbers (for the same ``train.num_threads`` and torch build).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..config import Config
from ..errors import ConfigError
from ..network import MMNDNet, calibrate_rates
from . import checkpoint as ckpt
from .metrics import accuracy
from .setup import RunSetup, Trained, log_line, prepare, progress_bar


def train_epoch(
    net: MMNDNet,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    order: torch.Tensor,
    batch_size: int,
    collapse_time: bool,
    bar: tqdm,
) -> dict[str, Any]:
    """One pass over ``x[order]`` in mini-batches; returns mean loss, accuracy, firing rates."""
    net.train()
    total_loss, correct, rates = 0.0, 0, torch.zeros(len(net.convs), dtype=torch.float64)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        xb, yb = prepare(x[idx], collapse_time), y[idx]
        fw = net(xb, record=True)
        loss = F.cross_entropy(fw.logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(idx)
        correct += int((fw.logits.argmax(1) == yb).sum())
        rates += torch.tensor([s.mean().item() * len(idx) for s in fw.spikes], dtype=torch.float64)
        bar.update(1)
    n = len(order)
    return {
        "train_loss": total_loss / n,
        "train_accuracy": correct / n,
        "firing_rate": (rates / n).tolist(),
    }


@torch.no_grad()
def predict(net: MMNDNet, x: torch.Tensor, batch_size: int, collapse_time: bool) -> torch.Tensor:
    """Logits ``[N, K]`` for all of ``x``, in batches."""
    net.eval()
    out = [net(prepare(x[i : i + batch_size], collapse_time)) for i in range(0, len(x), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, net.n_classes)


def evaluate(net: MMNDNet, x, y, cfg: Config) -> tuple[float | None, float | None, torch.Tensor]:
    """``(loss, accuracy, logits)`` on a labelled set (None, None for an empty one)."""
    if len(y) == 0:
        return None, None, torch.zeros(0, net.n_classes)
    logits = predict(net, x, cfg.train.eval_batch_size, cfg.dataset.collapse_time)
    return F.cross_entropy(logits, y).item(), accuracy(logits, y), logits


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
    saved = Config.from_dict(state["config"])
    if saved.replace(train={"epochs": cfg.train.epochs}) != cfg:
        raise ConfigError(
            f"the config differs from the one the run in {out} was started with; "
            "resume with the same options (only --epochs may change)"
        )
    if state["epoch"] > cfg.train.epochs:
        raise ConfigError(
            f"the run in {out} has already trained {state['epoch']} epochs, more than "
            f"the {cfg.train.epochs} asked for"
        )


def fit(setup: RunSetup, stop_after: int | None = None) -> Trained:
    """Train ``setup.net`` on the labelled subset; ``stop_after`` returns after that many
    epochs of this call, as if the process were killed there (to test resuming)."""
    cfg, net, state, out = setup.cfg, setup.net, setup.state, setup.out
    tr, collapse = cfg.train, cfg.dataset.collapse_time
    x, y = setup.train_set.x, torch.as_tensor(setup.train_set.y, dtype=torch.long)
    split = setup.split
    if cfg.network.init_rate is not None and state is None:
        # Deterministic: the first labelled samples in index order, no random draws.
        first = torch.as_tensor(split.train[: tr.eval_batch_size])
        calibrate_rates(net, prepare(x[first], collapse), cfg.network.init_rate)
    opt = torch.optim.Adam(net.parameters(), lr=tr.lr, weight_decay=tr.weight_decay)
    sched = make_scheduler(opt, cfg)
    shuffle = torch.Generator().manual_seed(tr.seed)
    start_epoch, history, train_seconds, cpu_seconds = 0, [], 0.0, 0.0
    if state is not None:
        with ckpt.restoring(out / ckpt.CHECKPOINT):
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            shuffle.set_state(state["shuffle_rng"])
            ckpt.set_rng_states(state["rng"])
            start_epoch, history = int(state["epoch"]), list(state["history"])
            train_seconds = float(state["train_seconds"])
            cpu_seconds = float(state["train_cpu_seconds"])

    train_idx = torch.as_tensor(split.train)
    n_batches = math.ceil(len(train_idx) / tr.batch_size)
    last = tr.epochs if stop_after is None else min(tr.epochs, start_epoch + stop_after)
    bar = progress_bar((last - start_epoch) * n_batches, f"bptt {cfg.dataset.name}", setup.progress)
    x_val, y_val = x[split.val], y[split.val]
    for epoch in range(start_epoch + 1, last + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        order = train_idx[torch.randperm(len(train_idx), generator=shuffle)]
        lr = opt.param_groups[0]["lr"]
        row = train_epoch(net, opt, x, y, order, tr.batch_size, collapse, bar)
        sched.step()
        val_loss, val_acc, _ = evaluate(net, x_val, y_val, cfg)
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
            setup.progress,
            f"bptt {cfg.dataset.name} epoch {epoch}/{tr.epochs}: train loss "
            f"{row['train_loss']:.4f}, validation accuracy {shown} ({seconds:.1f} s)",
        )
        if out is not None:
            state = {
                "config": cfg.to_dict(),
                "classes": list(setup.train_set.classes),
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
        scores=lambda frames: predict(net, frames, tr.eval_batch_size, collapse),
        spikes=lambda frames: record_spikes(net, frames, collapse),
        plots=lambda folder: _plot_curves(history, folder),
    )


@torch.no_grad()
def record_spikes(net: MMNDNet, frames: torch.Tensor, collapse_time: bool) -> list[torch.Tensor]:
    """Each spiking layer's spikes ``[T, B, C, H, W]`` for ``frames``."""
    net.eval()
    return net(prepare(frames, collapse_time), record=True).spikes


def _plot_curves(history: list[dict], folder: Path) -> None:
    from .plots import plot_curves

    plot_curves(history, folder / "curves.png")
