"""The search objective for mMND networks: validation loss after a short training run.

`TrainingObjective(params)` builds the trial's config (V and, when present, W from
``params``), applies the search's ``trial_train`` overrides (few epochs), trains with
`skipsnn.train.run_training` writing nothing, and returns ``(val_loss, info)``. The test
set is never evaluated. Picklable, so Ray workers can run it; each worker process loads
the dataset once (from the on-disk frame cache) and keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..errors import SkipSNNError
from .mmnd import MMNDProblem
from .settings import SearchSettings

_DATA_CACHE: dict[str, Any] = {}  # per process: dataset key -> (train, test)


def _dataset_key(cfg: Config) -> str:
    ds = cfg.dataset
    return f"{ds.name}|{ds.root}|{ds.n_bins}|{ds.size}|{ds.seed}|{ds.train_per_class}"


@dataclass
class TrainingObjective:
    """``params -> (validation loss, info)`` for one trial."""

    config_dict: dict
    settings_dict: dict = field(default_factory=dict)
    data: Any = None  # optional preloaded (train, test); otherwise loaded per process

    def problem(self) -> MMNDProblem:
        return MMNDProblem(
            Config.from_dict(self.config_dict), SearchSettings.from_dict(self.settings_dict)
        )

    def trial_config(self, params: Mapping[str, Any]) -> Config:
        problem = self.problem()
        cfg = problem.config_for(params)
        overrides = dict(problem.settings.trial_train)
        cfg = cfg.replace(train=overrides) if overrides else cfg
        if not cfg.train.val_fraction > 0:
            raise SkipSNNError(
                "search trials need train.val_fraction > 0 to have a validation loss"
            )
        return cfg

    def __call__(self, params: Mapping[str, Any]) -> tuple[float, dict]:
        from ..train import run_training
        from ..train.setup import load_data

        cfg = self.trial_config(params)
        data = self.data
        if data is None:
            k = _dataset_key(cfg)
            if k not in _DATA_CACHE:
                _DATA_CACHE[k] = load_data(cfg, None, progress=False)
            data = _DATA_CACHE[k]
        m = run_training(cfg, None, evaluate_test=False, progress=False, data=data)
        loss = m.get("val_loss")
        if loss is None or not math.isfinite(loss):
            raise RuntimeError(f"training gave no finite validation loss ({loss})")
        info = {
            k: m.get(k)
            for k in ("val_accuracy", "params", "train_seconds", "epochs", "firing_rate")
        }
        return float(loss), info
