r"""Supervised training by backpropagation through time (BPTT) with surrogate gradients.

Protocol, for a config ``cfg`` and the dataset's train/test splits:

1. A seeded, stratified ``train.val_fraction`` of the training set is held out for
   validation; of the rest, a seeded, stratified ``train.label_fraction`` keeps its
   labels and is the only data the weights are trained on.
2. Adam (``train.lr``, ``train.weight_decay``) on the cross-entropy of the readout's
   time-averaged potential; the learning rate follows ``train.lr_schedule``
   (``cosine``: ``lr_e = lr (1 + cos(pi e / E)) / 2`` for epoch ``e`` of ``E``).
3. After every epoch: validation loss/accuracy, one line in ``metrics.jsonl``, and a
   checkpoint (model, optimizer, scheduler, shuffling and global RNG states, history)
   written atomically, so ``resume=True`` continues a killed run bit for bit.
4. The test set is evaluated once, at the end.

Everything is seeded and runs on the CPU with deterministic kernels, so the same config
gives the same numbers (for the same ``train.num_threads`` and torch build).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..config import Config
from ..errors import ConfigError, DataError
from ..network import MMNDNet, build_network, calibrate_rates
from . import checkpoint as ckpt
from .metrics import accuracy, confusion_matrix, direction_pairs, pair_accuracy

CHECKPOINT = ckpt.CHECKPOINT


class Split(NamedTuple):
    """Index arrays into the training set, and the test set (None when not given)."""

    train: np.ndarray  # the labelled subset the weights are trained on
    val: np.ndarray
    pool: np.ndarray  # training samples outside validation (labelled or not)


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------


def load_data(cfg: Config, data: Any = None, progress: bool = True) -> tuple[Any, Any]:
    """``(train, test)`` datasets with ``x [N, T, 2, H, W]``, ``y [N]``, ``classes``.

    ``data`` may be given as such a pair or a mapping with ``train``/``test`` (the search
    passes preloaded data); otherwise both splits are loaded from the config's dataset.
    """
    if data is None:
        from ..data import load_frames

        ds = cfg.dataset
        kw = dict(root=ds.root, n_bins=ds.n_bins, size=ds.size, seed=ds.seed, progress=progress)
        return load_frames(ds.name, "train", **kw), load_frames(ds.name, "test", **kw)
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


# ---------------------------------------------------------------------------------------
# One epoch, evaluation
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


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


def _check_run_dir(out: Path, cfg: Config, resume: bool) -> dict | None:
    """The checkpoint to resume from (None: start afresh); refuse to clobber a run."""
    state = ckpt.existing_checkpoint(out, resume)
    if state is None:
        return None
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
    return state


def run_training(
    cfg: Config,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    evaluate_test: bool = True,
    progress: bool = True,
    data: Any = None,
    stop_after_epochs: int | None = None,
) -> dict[str, Any]:
    """Train ``cfg``'s network and return its metrics.

    ``out_dir`` None writes nothing (for search trials); otherwise the folder gets
    ``config.yaml``, ``metrics.jsonl``, ``checkpoint.pt``, and at the end
    ``metrics.json`` and the plots. ``data`` is an optional preloaded ``(train, test)``.
    ``stop_after_epochs`` returns after that many epochs of this call, as if the process
    were killed there (used to test ``resume``). ``method: stdp`` is handed to
    `skipsnn.train.stdp.train_stdp`.

    Returned keys include ``val_loss``, ``val_accuracy``, ``test_accuracy`` (None if not
    evaluated), ``params``, ``epochs``, ``train_seconds``, ``label_fraction``.
    """
    cfg = cfg.validate()
    if cfg.train.method == "stdp":
        from .stdp import train_stdp

        return train_stdp(cfg, out_dir, resume=resume, progress=progress, data=data)
    tr = cfg.train
    torch.set_num_threads(tr.num_threads)
    out = Path(out_dir) if out_dir is not None else None
    state = _check_run_dir(out, cfg, resume) if out is not None else None

    # Everything that can fail on bad input happens before anything is written.
    train_set, test_set = load_data(cfg, data, progress)
    if evaluate_test and test_set is None:
        raise DataError("evaluate_test needs a test set, but none was given")
    x, y = train_set.x, torch.as_tensor(train_set.y, dtype=torch.long)
    classes = list(train_set.classes)
    split = split_indices(y, cfg)
    input_shape = tuple(int(v) for v in x.shape[2:])

    ckpt.seed_everything(tr.seed)
    net = build_network(cfg, input_shape, len(classes))
    if cfg.network.init_rate is not None and state is None:
        # Deterministic: the first labelled samples in index order, no random draws.
        first = torch.as_tensor(split.train[: tr.eval_batch_size])
        calibrate_rates(net, prepare(x[first], cfg.dataset.collapse_time), cfg.network.init_rate)
    opt = torch.optim.Adam(net.parameters(), lr=tr.lr, weight_decay=tr.weight_decay)
    sched = make_scheduler(opt, cfg)
    shuffle = torch.Generator().manual_seed(tr.seed)
    start_epoch, history, train_seconds, cpu_seconds = 0, [], 0.0, 0.0
    if state is not None:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        shuffle.set_state(state["shuffle_rng"])
        ckpt.set_rng_states(state["rng"])
        start_epoch, history, train_seconds = (
            state["epoch"],
            state["history"],
            state["train_seconds"],
        )
        cpu_seconds = state["train_cpu_seconds"]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        cfg.save(out / "config.yaml")
        ckpt.write_jsonl(history, out / "metrics.jsonl")

    train_idx = torch.as_tensor(split.train)
    n_batches = math.ceil(len(train_idx) / tr.batch_size)
    last = (
        tr.epochs if stop_after_epochs is None else min(tr.epochs, start_epoch + stop_after_epochs)
    )
    bar = tqdm(
        total=(last - start_epoch) * n_batches,
        desc=f"bptt {cfg.dataset.name}",
        unit="batch",
        disable=not progress or not sys.stderr.isatty(),
    )
    x_val, y_val = x[split.val], y[split.val]
    for epoch in range(start_epoch + 1, last + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        order = train_idx[torch.randperm(len(train_idx), generator=shuffle)]
        lr = opt.param_groups[0]["lr"]
        row = train_epoch(net, opt, x, y, order, tr.batch_size, cfg.dataset.collapse_time, bar)
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
        bar.set_postfix(
            loss=f"{row['train_loss']:.3f}", val_acc="-" if val_acc is None else f"{val_acc:.3f}"
        )
        if out is not None:
            # The checkpoint first: if killed before the jsonl is rewritten, resume rewrites it.
            ckpt.save_torch(
                {
                    "config": cfg.to_dict(),
                    "classes": classes,
                    "input_shape": input_shape,
                    "model": net.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "shuffle_rng": shuffle.get_state(),
                    "rng": ckpt.rng_states(),
                    "epoch": epoch,
                    "history": history,
                    "train_seconds": train_seconds,
                    "train_cpu_seconds": cpu_seconds,
                },
                out / CHECKPOINT,
            )
            ckpt.write_jsonl(history, out / "metrics.jsonl")
    bar.close()

    final = history[-1] if history else {}
    metrics: dict[str, Any] = {
        "method": "bptt",
        "dataset": cfg.dataset.name,
        "collapse_time": cfg.dataset.collapse_time,
        "seed": tr.seed,
        "label_fraction": tr.label_fraction,
        "n_train": len(split.train),
        "n_val": len(split.val),
        "params": sum(p.numel() for p in net.parameters() if p.requires_grad),
        "epochs": len(history),
        "finished": len(history) == tr.epochs,
        "train_loss": final.get("train_loss"),
        "train_accuracy": final.get("train_accuracy"),
        "val_loss": final.get("val_loss"),
        "val_accuracy": final.get("val_accuracy"),
        "firing_rate": final.get("firing_rate"),
        "test_accuracy": None,
        "train_seconds": train_seconds,
        "train_cpu_seconds": cpu_seconds,
    }
    if not metrics["finished"]:
        return metrics  # stopped early: no test evaluation, no metrics.json
    if evaluate_test:
        metrics.update(score_test_set(net, test_set, cfg, classes, out))
    if out is not None:
        from .plots import plot_curves

        plot_curves(history, out / "curves.png")
        ckpt.write_json(metrics, out / "metrics.json")
    return metrics


def score_test_set(
    net: MMNDNet, test_set, cfg: Config, classes: list[str], out: Path | None
) -> dict:
    """Test loss/accuracy, clockwise/counter-clockwise pair accuracy; plots into ``out``."""
    y = torch.as_tensor(test_set.y, dtype=torch.long)
    loss, acc, logits = evaluate(net, test_set.x, y, cfg)
    pairs = direction_pairs(classes)
    result = {
        "n_test": len(y),
        "test_loss": loss,
        "test_accuracy": acc,
        "direction_pairs": [[classes[a], classes[b]] for a, b in pairs],
        "direction_pair_accuracy": pair_accuracy(logits, y, pairs) if pairs else None,
    }
    if out is not None and len(y):
        from .plots import plot_confusion, plot_raster

        matrix = confusion_matrix(logits.argmax(1).numpy(), y.numpy(), len(classes))
        title = f"{cfg.dataset.name} test, accuracy {acc:.3f}"
        plot_confusion(matrix, classes, out / "confusion.png", title)
        net.eval()
        with torch.no_grad():
            fw = net(prepare(test_set.x[:1], cfg.dataset.collapse_time), record=True)
        label = classes[int(y[0])]
        plot_raster([s[:, 0] for s in fw.spikes], out / "raster.png", f"test sample 0 ({label})")
        result["confusion_matrix"] = matrix.tolist()
    return result


# ---------------------------------------------------------------------------------------
# Re-evaluating a finished run
# ---------------------------------------------------------------------------------------


def load_run(run_dir: str | Path) -> tuple[Config, MMNDNet, dict]:
    """The config, the trained network and the checkpoint of a BPTT run folder."""
    run = Path(run_dir)
    if not (run / "config.yaml").exists():
        raise ConfigError(f"{run} is not a run folder (no config.yaml)")
    cfg = Config.load(run / "config.yaml")
    if not (run / CHECKPOINT).exists():
        raise ConfigError(f"{run} has no {CHECKPOINT} to evaluate")
    state = ckpt.load_checkpoint(run / CHECKPOINT)
    if "model" not in state:
        raise ConfigError(f"{run / CHECKPOINT} is not a BPTT checkpoint")
    net = build_network(cfg, tuple(state["input_shape"]), len(state["classes"]))
    net.load_state_dict(state["model"])
    return cfg, net, state


def evaluate_run(run_dir: str | Path, *, data: Any = None, progress: bool = True) -> dict[str, Any]:
    """Evaluate a run's checkpoint on the test set again; compare with its metrics.json.

    Returns the recomputed ``test_accuracy``/``test_loss`` and the stored metrics. A
    STDP run (whose checkpoint has no end-to-end model) returns its stored metrics.
    """
    run = Path(run_dir)
    stored_path = run / "metrics.json"
    import json

    stored = json.loads(stored_path.read_text()) if stored_path.exists() else None
    if not (run / "config.yaml").exists():
        raise ConfigError(f"{run} is not a run folder (no config.yaml)")
    if Config.load(run / "config.yaml").train.method != "bptt":
        if stored is None:
            raise ConfigError(f"{run} has no metrics.json yet")
        return {"run": str(run), "recomputed": False, "stored": stored, **stored}
    cfg, net, state = load_run(run)
    torch.set_num_threads(cfg.train.num_threads)
    _, test_set = load_data(cfg, data, progress)
    if test_set is None:
        raise DataError("evaluating a run needs the test set")
    res = score_test_set(net, test_set, cfg, list(state["classes"]), None)
    return {
        "run": str(run),
        "recomputed": True,
        "epochs": state["epoch"],
        "finished": state["epoch"] == cfg.train.epochs,
        "params": sum(p.numel() for p in net.parameters() if p.requires_grad),
        **res,
        "stored_test_accuracy": None if stored is None else stored.get("test_accuracy"),
    }
