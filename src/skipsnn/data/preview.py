"""A PNG of a few samples per class, each as a row of event frames over time."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .cache import atomic_write
from .framing import FramedDataset


def check_png_name(out) -> Path:
    """``out`` as a path, refused unless it names a ``.png`` file (``.png`` alone is a
    hidden file with no suffix: a name is missing)."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        hint = " (a name is missing before .png)" if out.name.lower() == ".png" else ""
        raise DataError(f"the preview file must end in .png, got {out}{hint}")
    return out


def preview_png(
    ds: FramedDataset, out, per_class: int = 2, columns: int = 6, seed: int = 0
) -> Path:
    """Draw ``per_class`` random samples of each class; ON events red, OFF events blue.

    Each row is one sample; its ``T`` time bins are merged into ``columns`` equal groups.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = check_png_name(out)
    if per_class < 1 or columns < 1:
        raise DataError("per-class and columns must be positive")
    y = ds.y.numpy()
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(len(ds.classes)):
        members = np.flatnonzero(y == c)
        rows += [(c, i) for i in rng.permutation(members)[:per_class]]
    if not rows:
        raise DataError("the dataset has no samples to preview")
    t = ds.x.shape[1]
    groups = np.array_split(np.arange(t), min(columns, t))
    fig, axes = plt.subplots(
        len(rows), len(groups), figsize=(1.2 * len(groups) + 1.5, 1.2 * len(rows)), squeeze=False
    )
    for r, (c, i) in enumerate(rows):
        frames = ds.x[i].numpy().astype(np.float32)
        for k, g in enumerate(groups):
            f = frames[g].sum(axis=0)  # [2, H, W]
            scale = max(float(f.max()), 1.0)
            rgb = np.stack([f[1] / scale, np.zeros_like(f[0]), f[0] / scale], axis=-1)
            ax = axes[r, k]
            ax.imshow(np.clip(rgb * 2, 0, 1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(ds.classes[c][:14], fontsize=6, rotation=0, ha="right", va="center")
            if r == 0:
                ax.set_title(f"bins {g[0]}-{g[-1]}", fontsize=6)
    fig.tight_layout()
    atomic_write(out, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)
    return Path(os.fspath(out))
