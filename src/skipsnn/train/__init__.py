"""Training: one run scaffold (`run`), the methods (`bptt`, `stdp`), checkpoints, plots.

``run_training(cfg, out_dir)`` is the one entry point for the CLI, the search and the
experiments; it dispatches on ``train.method`` to `bptt.fit` or `stdp.fit`.
"""

from ..lazy import lazy_exports

_EXPORTS = {n: ".run" for n in ("evaluate_run", "load_run", "run_spawned", "run_training")}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)  # config load imports no torch
__all__ = ["evaluate_run", "load_run", "run_spawned", "run_training"]
