"""Search settings: the ranges of V, the bounds of W, the constraints of Delta, the GP knobs.

They live in the ``search:`` section of a run's YAML file (the rest of the file is the
training `Config`); every key is optional::

    search:
      n_layers: [1, 3]          # V: inclusive integer ranges
      n_dynamic: [1, 3]
      n_skip: [0, 2]
      l_start: [0, 2]
      l_end: [2, 3]
      a: [-0.5, 0.5]            # W: bounds of each dynamic's parameters
      tau_m: [1.5, 32.0]        # searched on a log scale
      r_m: [0.5, 32.0]          # searched on a log scale
      min_tau_ratio: 1.2        # ordered, distinct dynamics: tau_{i+1} >= ratio * tau_i
      max_params: null          # parameter budget (null: none)
      cutoff: null              # or {g: 0.5, period_min: 2.0, period_max: 40.0}
      trial_train: {epochs: 2}  # overrides of `train` for the short trial runs
      n_initial: null           # random points before the GP takes over (per phase)
      raw_samples: 512
      num_restarts: 8
      gp_kernel: rbf            # or matern-gamma (docs/search.md compares them)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, check_choice, check_keys

# The GP covariances `acquisition.fit_gp` offers (named here, so that reading a config
# does not import botorch).
GP_KERNELS = ("rbf", "matern-gamma")
INT_RANGES = ("n_layers", "n_dynamic", "n_skip", "l_start", "l_end")
FLOAT_RANGES = ("a", "tau_m", "r_m")
# Every architecture of the V ranges is checked against Delta (about 0.2 ms each) when
# the search starts and at every step; n_layers [1, 1000000000] once hung the search
# there. 20,000 is over a hundred times the default ranges' 162.
MAX_ARCHITECTURES = 20_000
# Acquisition effort per step: candidate points drawn (each decoded and checked against
# Delta in Python) and gradient ascents started from the best of them. BoTorch's examples
# use a few hundred to a few thousand raw samples and 10-20 restarts; these bounds are
# about 200x and 125x the defaults (512 and 8). Unbounded, raw_samples: 10**12 asked for
# 10**12 Sobol points and num_restarts: 10**9 for a billion ascents, accepted silently.
MAX_ACQUISITION = {"raw_samples": 100_000, "num_restarts": 1_000}


@dataclass(frozen=True)
class CutoffConstraint:
    """Each dynamic's cutoff period for input conductance ``g`` must lie in the data's periods."""

    g: float
    period_min: float
    period_max: float


@dataclass(frozen=True)
class SearchSettings:
    n_layers: tuple[int, int] = (1, 3)
    n_dynamic: tuple[int, int] = (1, 3)
    n_skip: tuple[int, int] = (0, 2)
    l_start: tuple[int, int] = (0, 2)
    l_end: tuple[int, int] = (2, 3)
    a: tuple[float, float] = (-0.5, 0.5)
    tau_m: tuple[float, float] = (1.5, 32.0)
    r_m: tuple[float, float] = (0.5, 32.0)
    min_tau_ratio: float = 1.2
    max_params: int | None = None
    cutoff: CutoffConstraint | None = None
    trial_train: dict = field(default_factory=lambda: {"epochs": 2})
    n_initial: int | None = None
    raw_samples: int = 512
    num_restarts: int = 8
    gp_kernel: str = "rbf"

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> SearchSettings:
        """Validated settings; unknown keys and bad ranges raise `ConfigError`."""
        d = dict(d or {})
        check_keys("the search section", d, {f.name for f in dataclasses.fields(cls)})
        kwargs: dict[str, Any] = {}
        for k, v in d.items():
            if k in INT_RANGES or k in FLOAT_RANGES:
                kwargs[k] = _range(k, v, integer=k in INT_RANGES)
            elif k == "cutoff":
                kwargs[k] = None if v is None else _cutoff(v)
            elif k == "trial_train":
                if not isinstance(v, dict):
                    raise ConfigError("search.trial_train must be a mapping of train options")
                kwargs[k] = dict(v)
            else:
                kwargs[k] = v
        s = cls(**kwargs)
        s.validate()
        return s

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def validate(self) -> None:
        if self.n_layers[0] < 1:
            raise ConfigError(f"search.n_layers must start at 1 or more, got {list(self.n_layers)}")
        if self.n_dynamic[0] < 1:
            raise ConfigError(
                f"search.n_dynamic must start at 1 or more, got {list(self.n_dynamic)}"
            )
        if self.n_skip[0] < 0 or self.l_start[0] < 0:
            raise ConfigError("search.n_skip and search.l_start must not be negative")
        architectures = math.prod(getattr(self, n)[1] - getattr(self, n)[0] + 1 for n in INT_RANGES)
        if architectures > MAX_ARCHITECTURES:
            raise ConfigError(
                f"the search ranges {', '.join(INT_RANGES)} hold {architectures:,} "
                f"architectures; at most {MAX_ARCHITECTURES:,} are searched, so narrow them"
            )
        if self.tau_m[0] <= 0 or self.r_m[0] <= 0:
            raise ConfigError("search.tau_m and search.r_m bounds must be positive (log scale)")
        if not (isinstance(self.min_tau_ratio, int | float) and self.min_tau_ratio >= 1):
            raise ConfigError(
                f"search.min_tau_ratio must be a number >= 1, got {self.min_tau_ratio!r}"
            )
        if self.max_params is not None and not (
            isinstance(self.max_params, int) and self.max_params > 0
        ):
            raise ConfigError(
                f"search.max_params must be a positive integer or null, got {self.max_params!r}"
            )
        if self.n_initial is not None and not (
            isinstance(self.n_initial, int) and self.n_initial >= 1
        ):
            raise ConfigError(
                f"search.n_initial must be a positive integer or null, got {self.n_initial!r}"
            )
        for name in ("raw_samples", "num_restarts"):
            v, most = getattr(self, name), MAX_ACQUISITION[name]
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= most:
                raise ConfigError(f"search.{name} must be an integer from 1 to {most:,}, got {v!r}")
        check_choice("search.gp_kernel", self.gp_kernel, GP_KERNELS)


def _range(name: str, v: Any, integer: bool) -> tuple:
    if not (isinstance(v, list | tuple) and len(v) == 2):
        raise ConfigError(f"search.{name} must be a [low, high] pair, got {v!r}")
    lo, hi = v
    ok = (
        (lambda x: isinstance(x, int) and not isinstance(x, bool))
        if integer
        else (lambda x: isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x))
    )
    if not (ok(lo) and ok(hi)) or hi < lo:
        kind = "integers" if integer else "finite numbers"
        raise ConfigError(f"search.{name} must be two {kind} with low <= high, got {v!r}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


def _cutoff(v: Any) -> CutoffConstraint:
    if not isinstance(v, dict) or set(v) != {"g", "period_min", "period_max"}:
        raise ConfigError(
            "search.cutoff must be a mapping with exactly g, period_min and period_max"
        )
    try:
        c = CutoffConstraint(float(v["g"]), float(v["period_min"]), float(v["period_max"]))
    except (TypeError, ValueError):
        raise ConfigError("search.cutoff values must be numbers") from None
    if not (c.g > 0 and 0 < c.period_min < c.period_max):
        raise ConfigError("search.cutoff needs g > 0 and 0 < period_min < period_max")
    return c
