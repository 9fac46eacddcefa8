"""Limits on what a config may ask for, and a YAML reader that cannot be made to hang.

`check_limits` runs at the end of `Config.validate`: every number has a range (the
table `LIMITS`, documented in docs/guarantees.md), and a network whose estimated
training memory exceeds the machine's memory is refused with the estimate in the
sentence. `read_yaml` reads a config file as strict UTF-8 YAML without aliases, a mapping with
string keys only, bounded in size, depth, node count and integer length. Neither
imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, shown

# name: (low, high, what): inclusive bounds checked by `check_limits`.
LIMITS: dict[str, tuple[float, float]] = {
    "dataset.n_bins": (1, 10_000),
    "dataset.size": (1, 4096),
    "dataset.seed": (0, 2**32 - 1),
    "dataset.train_per_class": (1, 100_000),
    "network.layers (count)": (1, 64),
    "network.layers[].channels": (1, 4096),
    "network.layers[].kernel": (1, 31),
    "network.layers[].stride": (1, 16),
    "network.n_dynamic": (1, 4096),
    "network.dynamics[].tau_m": (1e-6, 1e6),
    "network.dynamics[].r_m": (1e-6, 1e6),
    "network.dynamics[].a": (-1e6, 1e6),
    "network.v_th": (-1e6, 1e6),
    "network.v_reset": (-1e6, 1e6),
    "network.dt": (1e-6, 1e6),
    "network.readout.tau_m": (1e-6, 1e9),
    "network.readout.pool": (1, 1024),
    "network.surrogate_width": (1e-6, 1e6),
    "train.epochs": (1, 100_000),
    "train.batch_size": (1, 1_000_000),
    "train.eval_batch_size": (1, 1_000_000),
    "train.num_threads": (1, 256),
    "train.loader_workers": (0, 256),
    "train.lr": (1e-12, 1.0),
    "train.weight_decay": (0.0, 1.0),
    # 1e-6 is 0.0001%: smaller fractions have no plain three-digit percentage to name
    # their run folders and table columns by (1e-300 was 'f1e-298'); any fraction still
    # keeps at least one labelled sample per class (`stratified_fraction`).
    "train.label_fraction": (1e-6, 1.0),
    "train.seed": (0, 2**32 - 1),
}
MAX_ROOT_CHARS = 4096

DEVICES_HELP = "auto, cpu, cuda, cuda:N or mps"
# torch keeps the N of cuda:N in 8 bits (cuda:128 became cuda:-128) and refuses leading
# zeros and digits other than ASCII ones (cuda:00, cuda:²) with a RuntimeError.
_CUDA_INDEXES = frozenset(str(i) for i in range(128))

# Config files.
MAX_CONFIG_BYTES = 1 << 20  # 1 MiB
MAX_DEPTH = 32  # nesting of mappings and lists
MAX_NODES = 100_000  # scalars, mappings and lists in one file
MAX_INT_DIGITS = 30

# For a dataset the registry does not know: time bins, frame side and classes assumed
# by the memory estimate.
_FALLBACK_FRAMES = (20, 64, 101)
# Bytes kept per neuron and time step for the backward pass (float current and
# potential, spikes, surrogate inputs; a generous round figure), and per parameter
# (weight, gradient, two Adam moments).
BYTES_PER_NEURON_STEP = 16
BYTES_PER_PARAM = 16


def _fmt(v: float) -> str:
    if isinstance(v, int):  # str() of a huge int may fail
        if v.bit_length() > 200:
            return f"an integer of about {int(v.bit_length() * 0.30103) + 1} digits"
        return str(v)
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _check(name: str, value: float | None, key: str | None = None) -> None:
    if value is None:
        return
    lo, hi = LIMITS[key or name]
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {_fmt(lo)} and {_fmt(hi)}, got {_fmt(value)}")


def check_device_name(name: str) -> None:
    """Raise `ConfigError` unless ``name`` is a device name skipsnn knows (`train.device`)."""
    base, _, index = name.partition(":")
    if not (name in ("auto", "cpu", "cuda", "mps") or (base == "cuda" and index in _CUDA_INDEXES)):
        raise ConfigError(f"unknown device {shown(name)}; choose {DEVICES_HELP}")


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _dataset_defaults(name: str) -> tuple[int, int, int]:
    """``(n_bins, size, classes)`` of a dataset from the registry (torch-free)."""
    from .data.catalog import DATASETS

    info = DATASETS.get(name)
    return (info.n_bins, info.size, info.n_classes or 101) if info else _FALLBACK_FRAMES


def training_memory_bytes(cfg) -> tuple[int, int, int]:
    """``(bytes, neurons, params)``: a rough upper estimate of training memory.

    Activations of one batch over all time bins (``T * batch * neurons *``
    `BYTES_PER_NEURON_STEP`, the input frames included) plus the parameters with their
    gradients and optimizer moments (`BYTES_PER_PARAM` each). Spatial sizes follow the
    network's convolutions (padding ``kernel // 2``).
    """
    ds, net, tr = cfg.dataset, cfg.network, cfg.train
    t_def, s_def, n_classes = _dataset_defaults(ds.name)
    t = ds.n_bins or t_def
    h = w = ds.size or s_def
    c = 2
    neurons, params = c * h * w, 0
    shapes = [(c, h, w)]
    for layer in net.layers:
        pad = layer.kernel // 2
        h = (h + 2 * pad - layer.kernel) // layer.stride + 1
        w = (w + 2 * pad - layer.kernel) // layer.stride + 1
        params += c * layer.channels * layer.kernel**2
        c = layer.channels
        shapes.append((c, h, w))
        neurons += c * h * w
    k = net.skip.n_skip
    for src in range(net.skip.l_start, net.skip.l_start + k):
        if 0 <= src < len(shapes) and net.skip.l_end < len(shapes):
            params += shapes[src][0] * shapes[net.skip.l_end][0]
    pool = net.readout.pool
    params += (c * (pool * pool if pool else h * w) + 1) * n_classes
    batch = max(tr.batch_size, tr.eval_batch_size // 4)  # evaluation keeps no graph
    total = t * batch * neurons * BYTES_PER_NEURON_STEP + params * BYTES_PER_PARAM
    return total, neurons, params


def check_limits(cfg) -> None:
    """Raise `ConfigError` if a value of ``cfg`` is out of `LIMITS` or the network would
    not fit in this machine's memory."""
    ds, net, tr = cfg.dataset, cfg.network, cfg.train
    for name in ("n_bins", "size", "seed", "train_per_class"):
        _check(f"dataset.{name}", getattr(ds, name))
    if ds.root is not None and (len(ds.root) > MAX_ROOT_CHARS or "\0" in ds.root):
        raise ConfigError(f"dataset.root is not a usable folder name ({len(ds.root)} characters)")
    _check("the number of layers", len(net.layers), "network.layers (count)")
    for i, layer in enumerate(net.layers, start=1):
        for name in ("channels", "kernel", "stride"):
            _check(f"layer {i} {name}", getattr(layer, name), f"network.layers[].{name}")
    _check("network.n_dynamic", net.n_dynamic)
    for i, d in enumerate(net.dynamics):
        for name in ("tau_m", "r_m", "a"):
            _check(f"dynamic {i} {name}", getattr(d, name), f"network.dynamics[].{name}")
    for name in ("v_th", "v_reset", "dt", "surrogate_width"):
        _check(f"network.{name}", getattr(net, name))
    _check("readout tau_m", net.readout.tau_m, "network.readout.tau_m")
    _check("network.readout.pool", net.readout.pool)
    for name in (
        "epochs",
        "batch_size",
        "eval_batch_size",
        "num_threads",
        "loader_workers",
        "lr",
        "weight_decay",
        "label_fraction",
        "seed",
    ):
        _check(f"train.{name}", getattr(tr, name))
    need, neurons, params = training_memory_bytes(cfg)
    have = machine_memory_bytes()
    if have and need > have:
        t = ds.n_bins or _dataset_defaults(ds.name)[0]
        raise ConfigError(
            f"this network would need about {_gib(need)} to train ({t} time bins x batch "
            f"{tr.batch_size} x {neurons:,} neurons, {params:,} parameters), more than this "
            f"machine's {_gib(have)} of memory; use fewer or smaller layers, frames or batches"
        )


# ---------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """A config file breaks one of the limits (the message says which)."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader without aliases, with bounded depth, node count and integer length,
    string keys only and no repeated keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                f"uses the YAML alias *{event.anchor} at line {event.start_mark.line + 1} "
                "(aliases are not allowed in configs; write the values out)"
            )
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"nests deeper than {MAX_DEPTH} levels at line {line}")
        if self._nodes > MAX_NODES:
            raise _Refused(f"holds more than {MAX_NODES:,} values")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _no_base_60(self, node) -> None:
        # YAML 1.1 reads 1:30 as the base-60 number 90: never what a config means.
        if ":" in str(node.value):
            raise _Refused(
                f"has {node.value} at line {node.start_mark.line + 1}, which YAML reads as a "
                "base-60 number; quote it, or write the number"
            )

    def construct_yaml_float(self, node):
        self._no_base_60(node)
        return super().construct_yaml_float(node)

    def construct_yaml_int(self, node):
        self._no_base_60(node)
        text = str(node.value).lstrip("+-").replace("_", "")
        if len(text) > 1 and text[0] == "0" and text.isdigit():
            # YAML 1.1 reads epochs: 010 as the octal number 8, not the 10 it looks like.
            raise _Refused(
                f"has {node.value} at line {node.start_mark.line + 1}, which YAML reads as "
                f"the octal number {super().construct_yaml_int(node)}; write it without "
                "the leading 0"
            )
        digits = sum(ch.isalnum() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Refused(
                f"has an integer of {digits} digits at line {node.start_mark.line + 1} "
                f"(at most {MAX_INT_DIGITS})"
            )
        return super().construct_yaml_int(node)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise _Refused(f"has the key {key!r} at line {line}, which is not a name")
                if key in seen:
                    raise _Refused(f"repeats the key {key!r} at line {line}")
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)
_BoundedLoader.add_constructor("tag:yaml.org,2002:float", _BoundedLoader.construct_yaml_float)


def parse_yaml(text: str, where: str = "the config") -> Any:
    """Parse config text with `_BoundedLoader`; any problem is one `ConfigError` sentence."""
    try:
        loader = _BoundedLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as e:
        raise ConfigError(f"{where} {e}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f" at line {mark.line + 1}" if mark else ""
        problem = (e.problem or e.context or "malformed").rstrip(".")
        raise ConfigError(f"{where} is not valid YAML{at}: {problem}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        raise ConfigError(f"{where} is not valid YAML ({e.__class__.__name__})") from None


def read_yaml(path) -> dict:
    """The YAML document of a config file: strict UTF-8 (a UTF-8 BOM is allowed), at most
    `MAX_CONFIG_BYTES`, parsed by `parse_yaml`, and a mapping of sections (an empty file,
    or one of comments only, is refused: it would silently train another dataset's
    defaults)."""
    from .data.npyfile import show_path

    path = Path(path)
    where = f"config file {show_path(path)}"
    try:
        if path.is_dir():
            raise ConfigError(f"{where} is a folder, not a file")
        with open(path, "rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read {where}: {e.strerror or e}") from None
    except ValueError as e:  # a NUL in the name
        raise ConfigError(f"cannot read {where}: {e}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where} is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{where} is UTF-16 text; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where} is not UTF-8 text (byte {e.start} is not valid)") from None
    if "\0" in text:
        raise ConfigError(f"{where} holds a NUL character; is it a binary file?")
    d = parse_yaml(text, where)
    if d is None:
        raise ConfigError(
            f"{where} is empty; give at least one section, or leave out --config "
            "for the dataset's defaults"
        )
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must hold a mapping of sections")
    return d
