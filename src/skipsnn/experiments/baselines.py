r"""Baselines beside every mMND result: a readout of the raw events, and a conv-GRU.

Both use the run protocol of `skipsnn.train.setup`: the same seeded validation split
and labelled subset (``train.seed``, ``train.label_fraction``, ``train.val_fraction``)
and the same test set, scored once.

**Raw-event readout** (`raw_readout`): no network at all. The input event counts are
pooled into a ``grid x grid`` spatial grid and ``windows`` equal time windows
(`skipsnn.train.readout.pooled_counts`, the features the STDP readout takes from spike
trains), standardized, and fitted by logistic regression on the labelled subset. With
``windows = 1`` it is the time-collapsed control: only how many events fell where.

**Conv-GRU** (`ConvGRU`, `train_conv_gru`): a non-spiking network of about the mMND
network's parameter count, trained like BPTT runs (Adam, ``train.lr``, cosine schedule
per epoch, ``train.batch_size``, ``train.epochs``, shuffled by ``train.seed``). Per time
step an encoder of the mMND network's convolutions below its last layer (same
channels, kernels, strides) with ReLU feeds a convolutional GRU cell in place of the
last spiking layer: its input gates are a convolution with that layer's kernel and
stride, its recurrence is 1x1 (each position keeps its own memory, like the mMND
neurons); the logits are a linear map of the last hidden state, averaged over
positions. The hidden width is chosen to match a parameter budget.

Options for tuning the baseline (`train_conv_gru`): ``dropout`` on its non-recurrent
connections (the encoder's output and the readout's input; the recurrence is left
alone, as in Zaremba et al. 2014), ``readout="mean"`` (the hidden state averaged over
time steps as well, the analogue of the mMND readout's sum over time) and
``budget_scale`` (a smaller or larger parameter budget than the mMND network's).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..errors import ConfigError
from ..train import checkpoint as ckpt
from ..train.readout import fit_readout, pooled_counts
from ..train.setup import load_data, prepare, split_indices


def raw_features(x: torch.Tensor, grid: int, windows: int, batch: int = 256) -> np.ndarray:
    """Pooled event counts ``[N, 2 * windows * grid * grid]`` of frames ``x [N, T, 2, H, W]``."""
    out = [
        pooled_counts(x[i : i + batch].to(torch.float32).transpose(0, 1), grid, windows).numpy()
        for i in range(0, len(x), batch)
    ]
    return np.concatenate(out) if out else np.zeros((0, 2 * windows * grid * grid))


def raw_readout(
    cfg: Config, *, grid: int = 2, windows: int = 4, c: float = 1.0, data: Any = None
) -> dict[str, Any]:
    """Logistic regression on pooled raw events: validation and test accuracy."""
    train_set, test_set = load_data(cfg, data, progress=False)
    split = split_indices(train_set.y, cfg)
    y = np.asarray(train_set.y)
    feats = raw_features(train_set.x, grid, windows)
    mask = np.zeros(len(y), dtype=bool)
    mask[split.train] = True
    readout = fit_readout(feats, y, mask, c=c, seed=cfg.train.seed)
    test_acc = None
    if test_set is not None and len(test_set.y):
        test_acc = readout.accuracy(raw_features(test_set.x, grid, windows), np.asarray(test_set.y))
    val = readout.accuracy(feats[split.val], y[split.val]) if len(split.val) else None
    return {
        "method": "raw_readout",
        "grid": grid,
        "windows": windows,
        "seed": cfg.train.seed,
        "label_fraction": cfg.train.label_fraction,
        "n_train": int(mask.sum()),
        "params": int(feats.shape[1] * len(np.unique(y[mask])) + len(np.unique(y[mask]))),
        "val_accuracy": val,
        "test_accuracy": test_acc,
    }


class ConvGRU(nn.Module):
    """Conv encoder (the mMND layers below the last, ReLU) + a convolutional GRU + linear."""

    def __init__(
        self,
        cfg: Config,
        input_shape: tuple[int, int, int],
        n_classes: int,
        hidden: int,
        *,
        dropout: float = 0.0,
        readout: str = "last",
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"conv-GRU dropout must be in [0, 1), got {dropout}")
        if readout not in ("last", "mean"):
            raise ConfigError(f"conv-GRU readout must be 'last' or 'mean', got {readout!r}")
        c = input_shape[0]
        layers = []
        *below, last = cfg.network.layers
        for layer in below:
            layers += [
                nn.Conv2d(c, layer.channels, layer.kernel, layer.stride, layer.kernel // 2),
                nn.ReLU(),
            ]
            c = layer.channels
        self.encoder = nn.Sequential(*layers)
        self.hidden = hidden
        self.time_mean = readout == "mean"
        self.drop = nn.Dropout(dropout)  # identity at 0 and in eval mode
        # The last layer's convolution (kernel, stride) computes the GRU's input gates.
        self.gates_x = nn.Conv2d(c, 3 * hidden, last.kernel, last.stride, last.kernel // 2)
        self.gates_h = nn.Conv2d(hidden, 3 * hidden, 1, bias=False)
        self.readout = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, K]`` for frames ``x [B, T, C, H, W]``."""
        b, t = x.shape[:2]
        feats = self.drop(self.encoder(x.reshape(b * t, *x.shape[2:])))
        gx = self.gates_x(feats)
        gx = gx.reshape(b, t, *gx.shape[1:])
        h = torch.zeros(b, self.hidden, *gx.shape[-2:], dtype=x.dtype, device=x.device)
        pooled = torch.zeros(b, self.hidden, dtype=x.dtype, device=x.device)
        for n in range(t):
            xr, xz, xn = gx[:, n].chunk(3, dim=1)
            hr, hz, hn = self.gates_h(h).chunk(3, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
            if self.time_mean:
                pooled = pooled + h.mean((-2, -1)) / t
        return self.readout(self.drop(pooled if self.time_mean else h.mean((-2, -1))))


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def gru_for_budget(cfg: Config, input_shape, n_classes: int, budget: int, **options) -> ConvGRU:
    """The `ConvGRU` whose parameter count is closest to ``budget`` (hidden 2..256);
    ``options`` (dropout, readout) go to `ConvGRU` and add no parameters."""
    with torch.device("meta"):
        sizes = {h: n_params(ConvGRU(cfg, input_shape, n_classes, h)) for h in range(2, 257)}
    hidden = min(sizes, key=lambda h: (abs(sizes[h] - budget), h))
    return ConvGRU(cfg, input_shape, n_classes, hidden, **options)


def train_conv_gru(
    cfg: Config,
    *,
    budget: int | None = None,
    data: Any = None,
    dropout: float = 0.0,
    readout: str = "last",
    budget_scale: float = 1.0,
) -> dict[str, Any]:
    """Train a `ConvGRU` of about ``budget`` parameters (default: ``cfg``'s mMND network's,
    times ``budget_scale``) with the BPTT protocol; returns validation and test accuracy."""
    from ..network import count_params

    tr = cfg.train
    # Its plain torch layers split sums across threads (`skipsnn.determinism`); under
    # train.deterministic the whole baseline runs on one thread: the 1-thread bits.
    torch.set_num_threads(1 if tr.deterministic else tr.num_threads)
    train_set, test_set = load_data(cfg, data, progress=False)
    split = split_indices(train_set.y, cfg)
    input_shape = tuple(int(v) for v in train_set.x.shape[2:])
    n_classes = len(train_set.classes)
    if not 0.0 < budget_scale <= 100.0:
        raise ConfigError(f"conv-GRU budget_scale must be in (0, 100], got {budget_scale}")
    if budget is None:
        budget = round(budget_scale * count_params(cfg, input_shape, n_classes))
    ckpt.seed_everything(tr.seed)
    net = gru_for_budget(cfg, input_shape, n_classes, budget, dropout=dropout, readout=readout)
    opt = torch.optim.Adam(net.parameters(), lr=tr.lr, weight_decay=tr.weight_decay)
    cosine = tr.lr_schedule == "cosine"
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda e: 0.5 * (1 + math.cos(math.pi * e / tr.epochs)) if cosine else 1.0
    )
    shuffle = torch.Generator().manual_seed(tr.seed)
    x, y = train_set.x, torch.as_tensor(train_set.y, dtype=torch.long)
    collapse = cfg.dataset.collapse_time
    train_idx = torch.as_tensor(split.train)
    t0 = time.perf_counter()
    train_acc = None
    for _ in range(tr.epochs):
        net.train()
        order = train_idx[torch.randperm(len(train_idx), generator=shuffle)]
        correct = 0
        for start in range(0, len(order), tr.batch_size):
            idx = order[start : start + tr.batch_size]
            logits = net(prepare(x[idx], collapse))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int((logits.detach().argmax(1) == y[idx]).sum())
        sched.step()
        # counted during the epoch, as BPTT runs count theirs: the two are comparable
        train_acc = correct / len(order) if len(order) else None

    @torch.no_grad()
    def accuracy(frames, labels) -> float | None:
        if len(labels) == 0:
            return None
        net.eval()
        bs = tr.eval_batch_size
        logits = torch.cat(
            [net(prepare(frames[i : i + bs], collapse)) for i in range(0, len(frames), bs)]
        )
        return float((logits.argmax(1) == torch.as_tensor(labels)).float().mean())

    test_acc = None if test_set is None else accuracy(test_set.x, test_set.y)
    return {
        "method": "conv_gru",
        "hidden": net.hidden,
        "dropout": dropout,
        "readout": readout,
        "params": n_params(net),
        "budget": budget,
        "seed": tr.seed,
        "label_fraction": tr.label_fraction,
        "epochs": tr.epochs,
        "lr": tr.lr,
        "weight_decay": tr.weight_decay,
        "n_train": len(train_idx),
        "train_accuracy": train_acc,
        "val_accuracy": accuracy(x[split.val], y[split.val]),
        "test_accuracy": test_acc,
        "train_seconds": time.perf_counter() - t0,
    }
