"""Training: BPTT (`run_training`), STDP (`stdp.train_stdp`), checkpoints, metrics, plots.

``run_training(cfg, out_dir)`` is the one entry point for the CLI, the search and the
experiments; it dispatches ``train.method: stdp`` to the STDP trainer.
"""

from .bptt import evaluate_run, load_run, run_training

__all__ = ["evaluate_run", "load_run", "run_training"]
