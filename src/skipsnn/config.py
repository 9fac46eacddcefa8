r"""Run configuration: nested dataclasses, YAML round-trip, validation, the skip rule.

A config has three sections::

    dataset: {name, root, n_bins, size, collapse_time, seed, train_per_class}
    network: {layers: [{channels, kernel, stride}, ...], n_dynamic,
              dynamics: [{a, tau_m, r_m}, ...], v_th, v_reset, dt,
              skip: {n_skip, l_start, l_end}, readout: {tau_m, pool, mode},
              surrogate, surrogate_width, learn_dynamics}
    train:   {method, epochs, batch_size, lr, lr_schedule, weight_decay, seed,
              label_fraction, val_fraction, num_threads, deterministic, eval_batch_size}
    stdp:    {...}   STDP trainer options, checked for every method (`train.stdp_options`)

**Skip rule.** Layers are numbered ``0`` (the input events) to ``m = len(layers)``. The
``k = n_skip`` skips leave layers ``s, s+1, ..., s+k-1`` (``s = l_start``) and all enter
layer ``e = l_end``. The rule is feasible iff::

    k = 0                                 (no skips; s and e are ignored), or
    0 <= s,  e <= m,  e - (s + k - 1) >= 2

so every skip jumps over at least one layer. `from_dict` rejects unknown keys and
`validate` raises `ConfigError` with one sentence for anything out of range.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .atomic import write_text
from .data.catalog import DATASETS as _REGISTRY
from .data.catalog import check_dataset_name, check_train_per_class
from .errors import ConfigError, ParameterError, check_choice, check_keys
from .limits import DEVICES_HELP, check_device_name, check_limits, read_yaml  # noqa: F401
from .neuron import Dynamic, NeuronParams, validate_params
from .surrogate import SURROGATES
from .train.stdp_options import stdp_options

DATASETS = tuple(_REGISTRY)  # the names of the dataset registry, `skipsnn.data.catalog`
METHODS = ("bptt", "stdp")
LR_SCHEDULES = ("cosine", "constant")
PRECISIONS = ("32", "bf16", "16")  # train.precision: float32, bfloat16 or float16 autocast


# ---------------------------------------------------------------------------------------
# The skip rule
# ---------------------------------------------------------------------------------------


def skip_problem(n_layers: int, n_skip: int, l_start: int, l_end: int) -> str | None:
    """Why the skip rule is infeasible for a net of ``n_layers`` spiking layers (None if feasible)."""
    if n_skip < 0:
        return f"n_skip must be >= 0, got {n_skip}"
    if n_skip == 0:
        return None
    last_src = l_start + n_skip - 1
    if l_start < 0:
        return f"skip l_start must be >= 0 (layer 0 is the input), got {l_start}"
    if l_end > n_layers:
        return f"skip l_end={l_end} is beyond the last spiking layer {n_layers}"
    if l_end - last_src < 2:
        return (
            f"infeasible skips: {n_skip} skip(s) leaving layers {l_start}..{last_src} cannot "
            f"enter layer {l_end}, which needs l_end - (l_start + n_skip - 1) >= 2"
        )
    return None


def skip_feasible(n_layers: int, n_skip: int, l_start: int, l_end: int) -> bool:
    """True iff the skip rule holds: ``k = 0`` or ``0 <= s``, ``e <= m``, ``e - (s+k-1) >= 2``."""
    return skip_problem(n_layers, n_skip, l_start, l_end) is None


def check_skip(n_layers: int, n_skip: int, l_start: int, l_end: int) -> None:
    """Raise `ConfigError` if the skip rule is infeasible."""
    problem = skip_problem(n_layers, n_skip, l_start, l_end)
    if problem:
        raise ConfigError(problem)


def skip_edges(n_layers: int, n_skip: int, l_start: int, l_end: int) -> list[tuple[int, int]]:
    """The skip connections ``[(src, dst), ...]``: ``(s + i, e)`` for ``i < k``; [] when k = 0."""
    check_skip(n_layers, n_skip, l_start, l_end)
    return [(l_start + i, l_end) for i in range(n_skip)]


# ---------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------


@dataclass
class DatasetConfig:
    name: str = "gestures"
    root: str | None = None  # folder of the real dataset; synthetic ones ignore it
    n_bins: int | None = 20  # time bins T (None: the dataset's default)
    size: int | None = 32  # frames resized to size x size (None: dataset default)
    # Control: feed the time-averaged frame at every step, so only spatial information
    # remains (clockwise and counter-clockwise circles then look the same).
    collapse_time: bool = False
    # Seed of the data itself: the synthetic sets' generation and N-Caltech101's split.
    # Separate from train.seed so that every training seed sees the same data.
    seed: int = 0
    # Training samples per class of a generated set (gestures, rhythms); None: 100. The
    # test split stays; a larger set repeats a smaller one's samples (docs/training.md).
    train_per_class: int | None = None


@dataclass
class LayerConfig:
    channels: int = 16
    kernel: int = 3
    stride: int = 1


@dataclass
class DynamicConfig:
    a: float = 0.0
    tau_m: float = 4.0
    r_m: float = 4.0


@dataclass
class SkipConfig:
    n_skip: int = 0
    l_start: int = 0
    l_end: int = 0


@dataclass
class ReadoutConfig:
    tau_m: float = 8.0
    # Spatial average pooling before the linear readout: the last layer's spikes are
    # pooled to pool x pool (None: flattened as they are).
    pool: int | None = None
    # How the readout potential u[n] becomes logits: its time average ("mean", the
    # paper's), its sum over time ("sum"), its maximum ("max") or its last value ("last").
    mode: str = "mean"


READOUT_MODES = ("mean", "sum", "max", "last")


@dataclass
class NetworkConfig:
    layers: list[LayerConfig] = field(
        default_factory=lambda: [LayerConfig(16, 3, 2), LayerConfig(32, 3, 2)]
    )
    n_dynamic: int = 2
    dynamics: list[DynamicConfig] = field(
        default_factory=lambda: [DynamicConfig(0.0, 2.0, 2.0), DynamicConfig(0.0, 8.0, 8.0)]
    )
    v_th: float = 1.0
    v_reset: float = 0.0
    dt: float = 1.0
    # One skip from the input events into layer 2: fresh event timing reaches the deep layer.
    skip: SkipConfig = field(default_factory=lambda: SkipConfig(1, 0, 2))
    readout: ReadoutConfig = field(default_factory=ReadoutConfig)
    surrogate: str = "fast_sigmoid"
    surrogate_width: float = 5.0
    # Neuron parameters are searched by BO and fixed in training; this makes them learnable.
    learn_dynamics: bool = False
    # If set, the initial weights of every layer are scaled (on the first training batch)
    # so that it fires at about this mean rate; None keeps torch's default initialization.
    init_rate: float | None = None


@dataclass
class TrainConfig:
    method: str = "bptt"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 0.0
    seed: int = 0
    label_fraction: float = 1.0
    val_fraction: float = 0.1
    num_threads: int = 2
    # CPU results bitwise independent of num_threads (`skipsnn.determinism`): the few
    # kernels that split a sum across threads run on one; costs time (docs/training.md).
    deterministic: bool = False
    eval_batch_size: int = 64
    device: str = "auto"  # auto (CUDA when present, else CPU), cpu, cuda, cuda:N, mps
    precision: str = "32"  # 32, bf16 or 16 (`skipsnn.train.devices`)
    loader_workers: int = 0  # DataLoader worker processes reading batches


@dataclass
class Config:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    stdp: dict[str, Any] = field(default_factory=dict)

    # -- conversion ------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Config:
        """Build and validate a config; unspecified keys keep their defaults, unknown keys fail."""
        cfg = _from_dict(cls, {} if d is None else d, "config")
        cfg.validate()
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Read a YAML config file (bounded: `skipsnn.limits.read_yaml`)."""
        return cls.from_dict(read_yaml(path))

    def save(self, path: str | Path) -> None:
        """Write the config as YAML (atomically)."""
        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))

    def replace(self, **sections: Any) -> Config:
        """A validated copy with some keys changed: ``cfg.replace(train={"epochs": 2})``.

        Mappings merge at every depth (``network={"skip": {"n_skip": 2}}`` keeps the
        other skip keys); anything else, lists included, is replaced whole.
        """
        d = self.to_dict()
        for section in sections:
            if section not in d:
                raise ConfigError(f"unknown config section {section!r}")
        return Config.from_dict(_merge(d, sections))

    # -- architecture helpers for the search -------------------------------------------

    @property
    def n_layers(self) -> int:
        return len(self.network.layers)

    def skip_edges(self) -> list[tuple[int, int]]:
        s = self.network.skip
        return skip_edges(self.n_layers, s.n_skip, s.l_start, s.l_end)

    def with_architecture(
        self, n_layers: int, n_dynamic: int, n_skip: int, l_start: int, l_end: int
    ) -> Config:
        """A copy with the architecture variables V = (N_layers, N_dynamic, N_skip, L_start, L_end).

        Layers: the first ``n_layers`` of the template; extra layers repeat the last one
        with stride 1 (so the spatial size does not shrink further). Dynamics: kept if
        ``n_dynamic`` is unchanged, else spread between the configured extremes —
        ``tau_m`` and the gain ``R_m / tau_m`` geometrically, ``a`` linearly.
        """
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
        layers = [dataclasses.asdict(layer) for layer in self.network.layers[:n_layers]]
        while len(layers) < n_layers:
            layers.append({**layers[-1], "stride": 1})
        if n_dynamic == self.network.n_dynamic:
            dyns = [dataclasses.asdict(d) for d in self.network.dynamics]
        else:
            dyns = [d._asdict() for d in spread_dynamics(self.network.dynamics, n_dynamic)]
        net = self.to_dict()["network"]
        net.update(
            layers=layers,
            n_dynamic=n_dynamic,
            dynamics=dyns,
            skip={"n_skip": n_skip, "l_start": l_start, "l_end": l_end},
        )
        return self.replace(network=net)

    def with_dynamics(self, dynamics: typing.Sequence[typing.Sequence[float]]) -> Config:
        """A copy whose dynamics are ``[(a, tau_m, r_m), ...]`` (``n_dynamic`` follows)."""
        dyns = [{"a": float(a), "tau_m": float(t), "r_m": float(r)} for a, t, r in dynamics]
        return self.replace(network={"dynamics": dyns, "n_dynamic": len(dyns)})

    def validate(self) -> Config:
        """Raise `ConfigError` (one sentence) for the first problem found; return self."""
        ds, net, tr = self.dataset, self.network, self.train
        check_dataset_name(ds.name, ConfigError)  # a registry name, or tonic:NAME
        _positive_or_none("dataset.n_bins", ds.n_bins)
        _positive_or_none("dataset.size", ds.size)
        if ds.root is not None and not str(ds.root).strip():  # "" would read the current folder
            raise ConfigError("dataset.root is empty; give the dataset's folder or leave it unset")
        if ds.train_per_class is not None:
            _positive_or_none("dataset.train_per_class", ds.train_per_class)
            check_train_per_class(ds.name, ConfigError)
        if not net.layers:
            raise ConfigError("network.layers must list at least one layer")
        for i, layer in enumerate(net.layers, start=1):
            for name in ("channels", "kernel", "stride"):
                if getattr(layer, name) < 1:
                    raise ConfigError(f"layer {i} {name} must be >= 1, got {getattr(layer, name)}")
        if net.n_dynamic < 1:
            raise ConfigError(f"network.n_dynamic must be >= 1, got {net.n_dynamic}")
        if len(net.dynamics) != net.n_dynamic:
            raise ConfigError(
                f"network.dynamics lists {len(net.dynamics)} dynamics but n_dynamic is {net.n_dynamic}"
            )
        narrowest = min(layer.channels for layer in net.layers)
        if net.n_dynamic > narrowest:
            raise ConfigError(
                f"n_dynamic={net.n_dynamic} exceeds the narrowest layer's {narrowest} channels"
            )
        if not (net.dt > 0 and math.isfinite(net.dt)):
            raise ConfigError(f"network.dt must be a positive number, got {net.dt}")
        for i, d in enumerate(net.dynamics):
            try:
                validate_params(NeuronParams(d.a, d.tau_m, d.r_m, net.v_th, net.v_reset))
            except ParameterError as e:
                raise ConfigError(f"dynamic {i}: {e}") from None
        s = net.skip
        check_skip(len(net.layers), s.n_skip, s.l_start, s.l_end)
        if not net.readout.tau_m > 0:
            raise ConfigError(f"readout tau_m must be positive, got {net.readout.tau_m}")
        _positive_or_none("network.readout.pool", net.readout.pool)
        check_choice("network.readout.mode", net.readout.mode, READOUT_MODES)
        if net.init_rate is not None and not 0 < net.init_rate < 1:
            raise ConfigError(f"network.init_rate must be in (0, 1), got {net.init_rate}")
        check_choice("surrogate", net.surrogate, SURROGATES)
        if not net.surrogate_width > 0:
            raise ConfigError(f"surrogate_width must be positive, got {net.surrogate_width}")
        check_choice("training method", tr.method, METHODS)
        check_choice("lr_schedule", tr.lr_schedule, LR_SCHEDULES)
        for name in ("epochs", "batch_size", "num_threads", "eval_batch_size"):
            if getattr(tr, name) < 1:
                raise ConfigError(f"train.{name} must be >= 1, got {getattr(tr, name)}")
        if not tr.lr > 0:
            raise ConfigError(f"train.lr must be positive, got {tr.lr}")
        if tr.weight_decay < 0:
            raise ConfigError(f"train.weight_decay must be >= 0, got {tr.weight_decay}")
        if not 0 < tr.label_fraction <= 1:
            raise ConfigError(f"label_fraction must be in (0, 1], got {tr.label_fraction}")
        if not 0 <= tr.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in [0, 1), got {tr.val_fraction}")
        check_device_name(tr.device)
        check_choice("precision", tr.precision, PRECISIONS)
        if tr.loader_workers < 0:
            raise ConfigError(f"train.loader_workers must be >= 0, got {tr.loader_workers}")
        stdp_options(self.stdp, len(net.layers))  # checked for every method, not only stdp
        check_limits(self)  # ranges of every number, and the training-memory estimate
        return self


def _merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for k, v in changes.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def spread_dynamics(dynamics: typing.Sequence[DynamicConfig], n: int) -> list[Dynamic]:
    """``n`` dynamics between the extremes (by ``tau_m``) of ``dynamics``.

    ``tau_m`` and the gain ``R_m / tau_m`` are spaced geometrically, ``a`` linearly;
    ``n = 1`` gives the geometric middle.
    """
    if n < 1:
        raise ConfigError(f"n_dynamic must be >= 1, got {n}")
    ordered = sorted(dynamics, key=lambda d: d.tau_m)
    lo, hi = ordered[0], ordered[-1]
    out = []
    for i in range(n):
        f = 0.5 if n == 1 else i / (n - 1)
        tau = lo.tau_m * (hi.tau_m / lo.tau_m) ** f
        g_lo, g_hi = lo.r_m / lo.tau_m, hi.r_m / hi.tau_m
        gain = g_lo * (g_hi / g_lo) ** f
        out.append(Dynamic(lo.a + (hi.a - lo.a) * f, tau, gain * tau))
    return out


# Per-dataset defaults on top of `Config()` (whose defaults are the synthetic gestures
# ones); configs/<name>.yaml holds the same values, and a test keeps them in step.
_PAPER_LAYERS = [
    {"channels": 32, "kernel": 3, "stride": 2},
    {"channels": 64, "kernel": 3, "stride": 2},
    {"channels": 128, "kernel": 3, "stride": 2},
    {"channels": 256, "kernel": 3, "stride": 1},
]
_PAPER_TRAIN = {"epochs": 30, "batch_size": 16, "lr": 1e-3, "eval_batch_size": 32}
DATASET_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    # STDP: 3 epochs per layer, the setting measured in docs/stdp.md (more did not help).
    "gestures": {"stdp": {"epochs": 3}},
    "digits": {"dataset": {"name": "digits", "n_bins": 15, "size": 32}, "stdp": {"epochs": 3}},
    # Temporal tasks (docs/results/README.md, "rhythms"): a few coincidence spikes decide
    # the class, so the readout pools space to one cell and sums over time instead of
    # averaging (a time and space mean shrinks them to nothing), and trains longer.
    "rhythms": {
        "dataset": {"name": "rhythms", "n_bins": 32, "size": 16},
        "network": {"readout": {"pool": 1, "mode": "sum"}},
        "train": {"epochs": 40, "lr": 0.01},
        "stdp": {"epochs": 3},
    },
    "dvsgesture": {  # about 1.1M parameters, like the paper's BPTT network
        "dataset": {"name": "dvsgesture", "n_bins": 20, "size": 64},
        "network": {
            "layers": _PAPER_LAYERS + [{"channels": 280, "kernel": 3, "stride": 2}],
            "skip": {"n_skip": 2, "l_start": 1, "l_end": 4},
            "readout": {"tau_m": 8.0, "pool": 4},
            "init_rate": 0.05,  # five layers: the default init leaves the upper ones silent
        },
        "train": _PAPER_TRAIN,
    },
    "ncaltech101": {  # about 1.7M parameters
        "dataset": {"name": "ncaltech101", "n_bins": 20, "size": 64},
        "network": {
            "layers": _PAPER_LAYERS + [{"channels": 320, "kernel": 3, "stride": 2}],
            "skip": {"n_skip": 2, "l_start": 1, "l_end": 4},
            "readout": {"tau_m": 8.0, "pool": 4},
            "init_rate": 0.05,  # five layers: the default init leaves the upper ones silent
        },
        "train": _PAPER_TRAIN,
    },
}


def default_config(dataset: str = "gestures") -> Config:
    """The default config of a dataset (the same as ``configs/<dataset>.yaml``)."""
    check_dataset_name(dataset, ConfigError)  # tonic:NAME gets the generic defaults
    return Config().replace(**DATASET_DEFAULTS.get(dataset, {"dataset": {"name": dataset}}))


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Load a YAML config (or the defaults when ``path`` is None) and apply section overrides."""
    cfg = Config() if path is None else Config.load(path)
    return cfg.replace(**overrides) if overrides else cfg.validate()


# ---------------------------------------------------------------------------------------
# dict -> dataclass with type checks
# ---------------------------------------------------------------------------------------


def _positive_or_none(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ConfigError(f"{name} must be >= 1, got {value}")


def _from_dict(cls: type, d: Any, where: str) -> Any:
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(d).__name__}")
    hints = typing.get_type_hints(cls)
    check_keys(where, d, {f.name for f in dataclasses.fields(cls)})
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in d.items()}
    return cls(**kwargs)


def _convert(tp: Any, v: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        (tp,) = [a for a in args if a is not type(None)]
        origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, v, where)
    if origin is list:
        if not isinstance(v, list):
            raise ConfigError(f"{where} must be a list, got {type(v).__name__}")
        (item,) = typing.get_args(tp)
        return [_convert(item, x, f"{where}[{i}]") for i, x in enumerate(v)]
    if origin is dict:
        if not isinstance(v, dict):
            raise ConfigError(f"{where} must be a mapping, got {type(v).__name__}")
        return dict(v)
    if tp is bool:
        if not isinstance(v, bool):
            raise ConfigError(f"{where} must be true or false, got {v!r}")
        return v
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ConfigError(f"{where} must be an integer, got {v!r}")
        return v
    if tp is float:
        if isinstance(v, str):  # YAML 1.1 reads "2e-3" (no dot) as a string
            try:
                v = float(v)
            except ValueError:
                raise ConfigError(f"{where} must be a number, got {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ConfigError(f"{where} must be a number, got {v!r}")
        if isinstance(v, int) and abs(v) > 1e308:
            raise ConfigError(f"{where} must be a finite number, got a huge integer")
        if not math.isfinite(v):
            raise ConfigError(f"{where} must be a finite number, got {v!r}")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(f"{where} must be a string, got {v!r}")
        return v
    return v
