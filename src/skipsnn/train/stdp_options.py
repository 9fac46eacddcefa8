"""The free-form ``stdp:`` config section, parsed and checked (one sentence per error)."""

from __future__ import annotations

import math
from typing import NamedTuple

from ..errors import ConfigError, check_choice, check_keys

COMPETITIONS = ("wta", "none")


class STDPParams(NamedTuple):
    """Hyperparameters of the STDP rule, competition and adaptive thresholds."""

    a_plus: float = 0.05  # potentiation rate
    a_minus: float = 0.04  # depression rate
    tau_pre: float = 4.0  # presynaptic trace time constant (time units of dt)
    tau_post: float = 4.0  # postsynaptic trace time constant
    w_min: float = 0.0
    w_max: float = 1.0
    mu: float = 1.0  # weight dependence of the bounds (0 additive, 1 multiplicative)
    # Presynaptic trace target: depression per post spike (0: the pure pair rule). 0.5 was
    # the best of {0, 0.3, 0.5} by validation accuracy on synthetic gestures (seed 0).
    x_tar: float = 0.5
    theta_plus: float = 0.5  # threshold increment per unit firing fraction
    tau_theta: float = 200.0  # threshold decay time constant (time units of dt)
    competition: str = "wta"  # "wta": one channel per position may spike; "none"


def validate_stdp(p: STDPParams) -> STDPParams:
    """Return ``p`` if valid, else raise `ConfigError` with one sentence."""
    for name in ("a_plus", "a_minus", "theta_plus", "mu", "x_tar"):
        v = getattr(p, name)
        if not (math.isfinite(v) and v >= 0):
            raise ConfigError(f"STDP parameter {name} must be a non-negative number, got {v}")
    for name in ("tau_pre", "tau_post", "tau_theta"):
        v = getattr(p, name)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"STDP time constant {name} must be positive, got {v}")
    if not (math.isfinite(p.w_min) and math.isfinite(p.w_max) and p.w_max > p.w_min):
        raise ConfigError(f"STDP bounds need w_max > w_min, got [{p.w_min}, {p.w_max}]")
    check_choice("STDP competition", p.competition, COMPETITIONS)
    return p


class STDPOptions(NamedTuple):
    """Everything the ``stdp:`` config section may set (all optional).

    ``rule`` keys are the `STDPParams` fields; the others are listed here. ``epochs``
    is per layer (None: ``train.epochs``); ``feature_layers`` lists the spiking layers
    (1..m) whose pooled counts feed the readout (None: all of them).
    """

    rule: STDPParams = STDPParams()
    epochs: int | None = None
    batch_size: int | None = None  # None: train.batch_size
    w_init: tuple[float, float] = (0.2, 0.8)  # initial weights ~ U(lo, hi) * (w_max - w_min)
    binarize_input: bool = True  # an input bin with any event is one spike
    feature_layers: tuple[int, ...] | None = None
    grid: int = 2  # spatial pooling grid of the readout features
    windows: int = 4  # time windows of the readout features
    readout_c: float = 1.0  # inverse L2 strength of the logistic regression


def stdp_options(section: dict, n_layers: int) -> STDPOptions:
    """Parse the free-form ``stdp`` config section; raise `ConfigError` on bad keys/values."""
    rule_keys = set(STDPParams._fields)
    other_keys = set(STDPOptions._fields) - {"rule"}
    check_keys("the stdp section", section, rule_keys | other_keys)
    try:
        rule = STDPParams(
            **{
                k: (str(v) if k == "competition" else float(v))
                for k, v in section.items()
                if k in rule_keys
            }
        )
    except (TypeError, ValueError):
        raise ConfigError("stdp rule parameters must be numbers (competition a name)") from None
    validate_stdp(rule)
    opts = STDPOptions(rule=rule, **{k: v for k, v in section.items() if k in other_keys})
    for name, most in (
        ("epochs", 100_000),
        ("batch_size", 1_000_000),
        ("grid", 64),
        ("windows", 1024),
    ):
        v = getattr(opts, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"stdp.{name} must be a positive integer, got {v!r}")
        if v is not None and v > most:
            raise ConfigError(f"stdp.{name} must be at most {most:,}, got {v:,}")
    if not isinstance(opts.binarize_input, bool):
        raise ConfigError(f"stdp.binarize_input must be true or false, got {opts.binarize_input!r}")
    try:
        lo, hi = (float(v) for v in opts.w_init)
    except (TypeError, ValueError):
        raise ConfigError(
            f"stdp.w_init must be two numbers [lo, hi], got {opts.w_init!r}"
        ) from None
    if not 0 <= lo <= hi <= 1:
        raise ConfigError(
            f"stdp.w_init must be [lo, hi] with 0 <= lo <= hi <= 1, got {opts.w_init}"
        )
    layers = opts.feature_layers
    if layers is not None:
        ok = isinstance(layers, list | tuple) and all(
            isinstance(i, int) and 1 <= i <= n_layers for i in layers
        )
        if not (ok and layers):
            raise ConfigError(
                f"stdp.feature_layers must list spiking layers among 1..{n_layers}, got {layers!r}"
            )
        layers = tuple(layers)
    if isinstance(opts.readout_c, bool) or not (
        isinstance(opts.readout_c, int | float) and opts.readout_c > 0
    ):
        raise ConfigError(f"stdp.readout_c must be a positive number, got {opts.readout_c!r}")
    return opts._replace(w_init=(lo, hi), feature_layers=layers)
