"""Training: one run scaffold (`run`), the methods (`bptt`, `stdp`), checkpoints, plots.

``run_training(cfg, out_dir)`` is the one entry point for the CLI, the search and the
experiments; it dispatches on ``train.method`` to `bptt.fit` or `stdp.fit`.
"""

from .run import evaluate_run, load_run, run_spawned, run_training

__all__ = ["evaluate_run", "load_run", "run_spawned", "run_training"]
