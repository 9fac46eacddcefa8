"""The named sets of variants that `compare` trains side by side (`VARIANT_SETS`).

Each set's first variant is the reference its paired differences are taken against.
Variant kinds: ``mmnd`` (a `run_training` run of the base config with overrides),
``raw`` (logistic regression on pooled raw events) and ``gru`` (the conv-GRU of about
the mMND network's parameter count).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ..config import Config
from ..errors import ConfigError
from .protocol import VARIANTS as PATHWAY_VARIANTS


class Variant(NamedTuple):
    name: str
    kind: str  # mmnd | raw | gru
    overrides: dict  # config sections merged into the base config (mmnd, gru)
    # raw: grid, windows; mmnd: equal_steps (epochs / label fraction); mmnd, gru:
    # epochs_scale (the base config's epochs times this), lr_scale (its learning rate
    # times this); gru: gru (keyword arguments of
    # `baselines.train_conv_gru`: dropout, readout, budget_scale); mmnd: pathway (an index
    # of the pathway ablation's variants), single (fastest | slowest: its one dynamic is
    # the base's fastest or slowest instead of their middle)
    options: dict


_RANDOM_KERNELS = {"stdp": {"a_plus": 0.0, "a_minus": 0.0}}
_PATHWAY_NAMES = [v.name for v in PATHWAY_VARIANTS]
_FULL = _PATHWAY_NAMES.index("heterogeneous, skip")
_ONE_DYNAMIC = _PATHWAY_NAMES.index("homogeneous, skip")
_NO_SKIP = _PATHWAY_NAMES.index("heterogeneous, no skip")


# The full network (both dynamics, the skip) and the conv-GRU reading its hidden state
# averaged over time: shared by several sets, so their cells are the same runs.
_MIX = Variant("heterogeneous, skip", "mmnd", {}, {"pathway": _FULL})
_GRU_MEAN = Variant("conv-GRU, readout averaged over time", "gru", {}, {"gru": {"readout": "mean"}})


def _trained(v: Variant, change: str, **options) -> Variant:
    """The variant trained otherwise (``epochs_scale``, ``lr_scale``), its name saying how."""
    return v._replace(name=f"{v.name}, {change}", options={**v.options, **options})


def _twice_the_epochs(v: Variant) -> Variant:
    """The variant at twice the base config's epochs (rows shared by several sets)."""
    return _trained(v, "twice the epochs", epochs_scale=2.0)


def _gru_mean_readout_at(sizes: tuple[int, ...]) -> tuple[Variant, ...]:
    """The conv-GRU reading its hidden state averaged over time, at these training sizes."""
    return tuple(
        Variant(
            f"conv-GRU, readout averaged over time, {n} per class",
            "gru",
            {"dataset": {"train_per_class": n}},
            {"gru": {"readout": "mean"}},
        )
        for n in sizes
    )


def _layers(channels: tuple[int, ...], stride: int) -> dict:
    """Overrides replacing the network's layers by 3x3 convolutions of these widths."""
    return {
        "network": {"layers": [{"channels": c, "kernel": 3, "stride": stride} for c in channels]}
    }


VARIANT_SETS: dict[str, tuple[Variant, ...]] = {
    "baselines": (
        Variant("mMND, BPTT", "mmnd", {}, {}),
        Variant(
            "mMND, BPTT, time-collapsed input", "mmnd", {"dataset": {"collapse_time": True}}, {}
        ),
        Variant("conv-GRU (same budget)", "gru", {}, {}),
        Variant("raw events, 2x2 grid x 4 windows", "raw", {}, {"grid": 2, "windows": 4}),
        Variant("raw events, 2x2 grid, time-collapsed", "raw", {}, {"grid": 2, "windows": 1}),
    ),
    "raw": (
        Variant("raw events, 2x2 grid x 4 windows", "raw", {}, {"grid": 2, "windows": 4}),
        Variant("raw events, 2x2 grid, time-collapsed", "raw", {}, {"grid": 2, "windows": 1}),
        Variant("raw events, 8x8 grid x 4 windows", "raw", {}, {"grid": 8, "windows": 4}),
        Variant("raw events, 8x8 grid x 8 windows", "raw", {}, {"grid": 8, "windows": 8}),
        Variant("raw events, 8x8 grid, time-collapsed", "raw", {}, {"grid": 8, "windows": 1}),
    ),
    # The conv-GRU's sensitivity to the learning rate the mMND config was tuned with.
    "gru-lr": (
        Variant("conv-GRU (same budget)", "gru", {}, {}),
        Variant("conv-GRU (same budget), lr 0.002", "gru", {"train": {"lr": 0.002}}, {}),
    ),
    # The conv-GRU fits 100 samples per class of rhythms better than the mMND network and
    # tests worse: does the mMND network's lead survive a regularized or shorter-trained GRU?
    "gru-regularized": (
        Variant("mMND, BPTT", "mmnd", {}, {}),
        Variant("conv-GRU (same budget)", "gru", {}, {}),
        Variant("conv-GRU, weight decay 0.001", "gru", {"train": {"weight_decay": 0.001}}, {}),
        Variant("conv-GRU, weight decay 0.01", "gru", {"train": {"weight_decay": 0.01}}, {}),
        Variant("conv-GRU, half the epochs", "gru", {}, {"epochs_scale": 0.5}),
    ),
    # The rest of a tuned GRU: dropout, a readout over time like the mMND network's, and a
    # smaller network (fewer parameters to memorize with).
    "gru-tuned": (
        Variant("mMND, BPTT", "mmnd", {}, {}),
        Variant("conv-GRU (same budget)", "gru", {}, {}),
        Variant("conv-GRU, dropout 0.3", "gru", {}, {"gru": {"dropout": 0.3}}),
        Variant("conv-GRU, readout averaged over time", "gru", {}, {"gru": {"readout": "mean"}}),
        Variant("conv-GRU, half the parameters", "gru", {}, {"gru": {"budget_scale": 0.5}}),
        Variant(
            "conv-GRU, dropout 0.3, readout averaged over time",
            "gru",
            {},
            {"gru": {"dropout": 0.3, "readout": "mean"}},
        ),
    ),
    # The GRU with the readout over time at two of the `data` sizes (paired with that
    # set's runs across folders: same seeds, splits and test set).
    "data-readout": _gru_mean_readout_at((800, 200)),
    # The same GRU at the two `data` sizes data-readout left out (fourteenth session).
    "data-readout-more": _gru_mean_readout_at((400, 50)),
    # The one GRU setting that mattered on rhythms (its readout), for the larger datasets;
    # the names are gru-tuned's, so the cells are the same runs.
    "gru-readout": (
        Variant("mMND, BPTT", "mmnd", {}, {}),
        Variant("conv-GRU (same budget)", "gru", {}, {}),
        _GRU_MEAN,
    ),
    "labels": (
        Variant("mMND, STDP", "mmnd", {"train": {"method": "stdp"}}, {}),
        Variant("mMND, BPTT, fixed epochs", "mmnd", {}, {}),
        Variant("mMND, BPTT, equal gradient steps", "mmnd", {}, {"equal_steps": True}),
        Variant("raw events, 2x2 grid x 4 windows", "raw", {}, {"grid": 2, "windows": 4}),
    ),
    "stdp-random": (
        Variant("mMND, STDP", "mmnd", {"train": {"method": "stdp"}}, {}),
        Variant(
            "mMND, random kernels (a+ = a- = 0), same epochs",
            "mmnd",
            {"train": {"method": "stdp"}, **_RANDOM_KERNELS},
            {},
        ),
    ),
    # Why the default network could not hold an interval: the temporal config's readout
    # (pooled to one cell, summed over time) against the choices it replaced.
    "readout": (
        Variant("mMND, readout pooled to 1 cell, sum over time (the config)", "mmnd", {}, {}),
        Variant(
            "readout pooled, mean over time",
            "mmnd",
            {"network": {"readout": {"mode": "mean"}}},
            {},
        ),
        Variant(
            "readout flattened, sum over time",
            "mmnd",
            {"network": {"readout": {"pool": None}}},
            {},
        ),
        Variant(
            "readout flattened, mean over time (the gestures readout)",
            "mmnd",
            {"network": {"readout": {"pool": None, "mode": "mean"}}},
            {},
        ),
        Variant(
            "layers calibrated to fire at 5% (init_rate 0.05)",
            "mmnd",
            {"network": {"init_rate": 0.05}},
            {},
        ),
    ),
    # The rest of the rhythms diagnosis: longer time constants, learned dynamics, and the
    # two stride-2 downsamplings (does the coarse map lose the flashes?).
    "timescales": (
        Variant("mMND, two dynamics tau_m 2, 8 (the config)", "mmnd", {}, {}),
        Variant(
            "three dynamics tau_m 2, 8, 32",
            "mmnd",
            {
                "network": {
                    "n_dynamic": 3,
                    "dynamics": [{"a": 0.0, "tau_m": t, "r_m": t} for t in (2.0, 8.0, 32.0)],
                }
            },
            {},
        ),
        Variant(
            "dynamics learned (a, tau_m, R_m)", "mmnd", {"network": {"learn_dynamics": True}}, {}
        ),
        Variant(
            "no downsampling (both layers stride 1)",
            "mmnd",
            _layers(channels=(16, 32), stride=1),
            {},
        ),
    ),
    # What holds the fixed network at ~40% on rhythms: training length or width?
    "capacity": (
        Variant("mMND, 40 epochs, 16 and 32 channels (the config)", "mmnd", {}, {}),
        Variant("80 epochs", "mmnd", {"train": {"epochs": 80}}, {}),
        Variant(
            "channels doubled (32 and 64)",
            "mmnd",
            _layers(channels=(32, 64), stride=2),
            {},
        ),
    ),
    # Is rhythms limited by its 540 training samples? More of the same generator's data
    # (a larger set begins with the default one's samples; the test set is the same).
    "data": (
        Variant("mMND, 100 training samples per class (the default)", "mmnd", {}, {}),
        Variant("50 per class", "mmnd", {"dataset": {"train_per_class": 50}}, {}),
        Variant("200 per class", "mmnd", {"dataset": {"train_per_class": 200}}, {}),
        Variant("400 per class", "mmnd", {"dataset": {"train_per_class": 400}}, {}),
        Variant("800 per class", "mmnd", {"dataset": {"train_per_class": 800}}, {}),
        *(
            Variant(f"conv-GRU (same budget), {n} per class{note}", "gru", over, {})
            for n, note, over in (
                (50, "", {"dataset": {"train_per_class": 50}}),
                (100, " (the default)", {}),
                (200, "", {"dataset": {"train_per_class": 200}}),
                (400, "", {"dataset": {"train_per_class": 400}}),
                (800, "", {"dataset": {"train_per_class": 800}}),
            )
        ),
    ),
    # With four times the data the network no longer fits its training set: does it now
    # gain from training longer or from width?
    "data-large": (
        Variant(
            "mMND, 400 per class, 40 epochs, 16 and 32 channels",
            "mmnd",
            {"dataset": {"train_per_class": 400}},
            {},
        ),
        Variant(
            "400 per class, 80 epochs",
            "mmnd",
            {"dataset": {"train_per_class": 400}, "train": {"epochs": 80}},
            {},
        ),
        Variant(
            "400 per class, channels doubled (32 and 64)",
            "mmnd",
            {"dataset": {"train_per_class": 400}, **_layers(channels=(32, 64), stride=2)},
            {},
        ),
    ),
    # Determinism: the same seeded run at 1 and at 2 threads (summation order may differ).
    "threads-bptt": (
        Variant("mMND, BPTT, 1 thread", "mmnd", {"train": {"num_threads": 1}}, {}),
        Variant("mMND, BPTT, 2 threads", "mmnd", {"train": {"num_threads": 2}}, {}),
    ),
    "threads-stdp": (
        Variant(
            "mMND, STDP, 1 thread", "mmnd", {"train": {"method": "stdp", "num_threads": 1}}, {}
        ),
        Variant(
            "mMND, STDP, 2 threads", "mmnd", {"train": {"method": "stdp", "num_threads": 2}}, {}
        ),
    ),
    "pathways": tuple(
        Variant(v.name, "mmnd", {}, {"pathway": i}) for i, v in enumerate(PATHWAY_VARIANTS)
    )[::-1],  # the full network (heterogeneous, skip) first: the reference
    # The pathway set's two networks with the skip alone: the mix against its middle.
    "mix-vs-middle": (
        _MIX,
        Variant("homogeneous, skip", "mmnd", {}, {"pathway": _ONE_DYNAMIC}),
    ),
    # The pathway set's two networks with both dynamics: the skip alone, same budget.
    "skip": (
        _MIX,
        Variant("heterogeneous, no skip", "mmnd", {}, {"pathway": _NO_SKIP}),
    ),
    # The full network against the conv-GRU of its budget with the same kind of readout.
    "mix-vs-gru": (_MIX, _GRU_MEAN),
    # Is the GRU behind the full network only at the full network's training settings?
    # (At 100 per class it fits its training set less well than the mix of tau_m 1 and 4.)
    "gru-training": (
        _MIX,
        _GRU_MEAN,
        _twice_the_epochs(_GRU_MEAN),
        _trained(_GRU_MEAN, "3x the learning rate", lr_scale=3.0),
        _trained(_GRU_MEAN, "0.3x the learning rate", lr_scale=0.3),
    ),
    # Both networks trained twice as long (a 2x2 design): is the mix still ahead, and does
    # it gain more from the longer training than the GRU does? The reference first.
    "trained-longer": (
        _twice_the_epochs(_MIX),
        _twice_the_epochs(_GRU_MEAN),
        _MIX,
        _GRU_MEAN,
    ),
    # Does the mix still gain beyond twice the epochs? (Its 80-epoch row, the reference,
    # is trained-longer's: same name and config, so a folder can share those cells.)
    "longer-still": (
        _twice_the_epochs(_MIX),
        _trained(_MIX, "four times the epochs", epochs_scale=4.0),
    ),
    # Is a gain from the second dynamic heterogeneity, or a better single time constant
    # than the middle one? One dynamic at the base's fastest or slowest, same budget.
    "single-dynamic": (
        _MIX,
        Variant(
            "homogeneous at the fastest dynamic, skip",
            "mmnd",
            {},
            {"pathway": _ONE_DYNAMIC, "single": "fastest"},
        ),
        Variant(
            "homogeneous at the slowest dynamic, skip",
            "mmnd",
            {},
            {"pathway": _ONE_DYNAMIC, "single": "slowest"},
        ),
    ),
}


# What fixes a run's splits and test set (the training size may differ: a larger set
# begins with the smaller one's samples, and the test set stays the same).
PAIRING_KEYS = ("name", "root", "n_bins", "size", "seed")


def config_difference(base: dict, other: dict) -> dict:
    """The keys of ``other`` that differ from ``base``, nested as `Config.replace` takes
    them (mappings compared key by key, anything else, lists included, whole)."""
    diff: dict[str, Any] = {}
    for k, v in other.items():
        b = base.get(k)
        if isinstance(v, dict) and isinstance(b, dict):
            sub = config_difference(b, v)
            if sub:
                diff[k] = sub
        elif v != b or k not in base:
            diff[k] = v
    return diff


def config_variants(configs: Sequence[tuple[str, Config]]) -> tuple[Variant, ...]:
    """The ``configs`` set: each named config as one mMND variant, the first the reference.

    A variant's overrides are what its config changes in the first one's, so the
    comparison records what was compared. Every config must fix the same splits and test
    set (`PAIRING_KEYS` of its dataset section): the differences are paired by seed.
    """
    if len(configs) < 2:
        raise ConfigError("the 'configs' comparison needs --config and at least one --against")
    names = [n for n, _ in configs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"two configs are both named {twice[0]!r}: rename one of the files")
    (first, base), rest = configs[0], configs[1:]
    ref = base.to_dict()
    out = [Variant(first, "mmnd", {}, {})]
    for name, cfg in rest:
        d = cfg.to_dict()
        moved = [k for k in PAIRING_KEYS if d["dataset"][k] != ref["dataset"][k]]
        if moved:
            raise ConfigError(
                f"{name} has a different dataset.{moved[0]} from {first} "
                f"({d['dataset'][moved[0]]!r}, not {ref['dataset'][moved[0]]!r}): a paired "
                "comparison needs the same splits and test set"
            )
        out.append(Variant(name, "mmnd", config_difference(ref, d), {}))
    return tuple(out)
