"""Plots of a training run, written as PNG with matplotlib's Agg backend (atomically)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .checkpoint import atomic_write  # noqa: E402


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110, bbox_inches="tight"))
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: Path, title: str) -> None:
    k = len(classes)
    fig, ax = plt.subplots(figsize=(2 + 0.45 * k, 1.5 + 0.45 * k))
    ax.imshow(matrix, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(k), classes, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def plot_raster(
    spikes: Sequence[torch.Tensor], path: Path, title: str, max_neurons: int = 400
) -> None:
    """Spike raster of one sample: ``spikes[i]`` is layer ``i+1``'s ``[T, C, H, W]`` train.

    At most ``max_neurons`` neurons per layer are shown, evenly spaced over the layer.
    """
    fig, axes = plt.subplots(len(spikes), 1, figsize=(7, 1.6 * len(spikes) + 0.6), squeeze=False)
    for i, s in enumerate(spikes):
        flat = s.reshape(s.shape[0], -1).float().cpu().numpy()  # [T, N]
        n = flat.shape[1]
        keep = np.unique(np.linspace(0, n - 1, min(n, max_neurons)).astype(int))
        t, j = np.nonzero(flat[:, keep])
        ax = axes[i, 0]
        ax.scatter(t, j, s=2, marker="|", color="black")
        ax.set_xlim(-0.5, flat.shape[0] - 0.5)
        ax.set_ylim(-1, len(keep))
        ax.set_ylabel(f"layer {i + 1}\n({len(keep)}/{n})", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("time step")
    axes[0, 0].set_title(title, fontsize=9)
    _save(fig, path)


def plot_curves(history: Sequence[dict], path: Path) -> None:
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    if any(h.get("val_loss") is not None for h in history):
        ax1.plot(epochs, [h.get("val_loss") for h in history], label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend(fontsize=8)
    ax2.plot(epochs, [h["train_accuracy"] for h in history], label="train")
    if any(h.get("val_accuracy") is not None for h in history):
        ax2.plot(epochs, [h.get("val_accuracy") for h in history], label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0, 1.02)
    ax2.legend(fontsize=8)
    _save(fig, path)


def plot_kernels(weight: torch.Tensor, path: Path, w_range: tuple[float, float]) -> None:
    """PNG of first-layer kernels ``[C_out, C_in, k, k]``: one column per channel, one row
    per input channel (ON, OFF polarity), colours spanning the learned weights' range
    (printed in the title along with the bounds ``w_range``)."""
    w = weight.detach().cpu().numpy()
    c_out, c_in = w.shape[:2]
    lo, hi = float(w.min()), float(w.max())
    fig, axes = plt.subplots(
        c_in, c_out, figsize=(0.9 * c_out + 1.2, 0.9 * c_in + 0.8), squeeze=False
    )
    for i in range(c_in):
        for o in range(c_out):
            ax = axes[i, o]
            im = ax.imshow(w[o, i], cmap="viridis", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(str(o), fontsize=7)
        axes[i, 0].set_ylabel("ON" if i == 0 else "OFF" if i == 1 else f"in {i}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(
        f"STDP layer-1 kernels (weights {lo:.2f}..{hi:.2f}, bounds {w_range[0]:g}..{w_range[1]:g})",
        fontsize=9,
    )
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)
