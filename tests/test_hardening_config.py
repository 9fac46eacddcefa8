"""Issue #11, items 5 and 6: configs that used to hang, crash or pass validation.

Each bad config is refused with one `ConfigError` sentence; through ``skipsnn train``
that is exit status 2, no traceback and no run folder.
"""

from __future__ import annotations

import time

import pytest

from skipsnn import limits
from skipsnn.cli import main
from skipsnn.config import (
    Config,
    DatasetConfig,
    LayerConfig,
    NetworkConfig,
    SkipConfig,
    default_config,
)
from skipsnn.errors import ConfigError
from skipsnn.limits import LIMITS, check_limits, parse_yaml, read_yaml, training_memory_bytes

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
stdp: {x: [*h,*h,*h,*h,*h,*h,*h,*h,*h]}
"""


def _train(tmp_path, capsys, content: bytes, *extra: str) -> str:
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(content)
    out = tmp_path / "run"
    rc = main(["train", "--config", str(cfg), "--out", str(out), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("skipsnn: error:")
    assert not out.exists()  # nothing written half-way
    return err


def test_alias_bomb_is_refused_at_once(tmp_path, capsys):
    assert len(BOMB) < 1000
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match=r"bomb\.yaml uses the YAML alias \*a at line 2"):
        Config.load(f)
    assert time.perf_counter() - t < 1
    assert "alias *a at line 2" in _train(tmp_path, capsys, BOMB.encode())


@pytest.mark.parametrize(
    "content, message",
    [
        ("train:\n  epochs: 3\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        (b"train:\n  lr: \xff\xfe\n", "is not UTF-8 text"),
        (b"1: 2\n", "has the key 1 at line 1, which is not a name"),
        (b"train: {epochs: 2}\ntrain: {epochs: 3}\n", "repeats the key 'train'"),
        (b"stdp: {null: 1}\n", "key None"),
        (("stdp: " + "[" * 3000 + "]" * 3000 + "\n").encode(), "nests deeper than 32 levels"),
        (("train:\n  epochs: " + "9" * 5000 + "\n").encode(), "integer of 5000 digits"),
        (b"train:\n  lr: 1e300\n", "train.lr must be between 1e-12 and 1, got 1e+300"),
        (b"train:\n  weight_decay: 1e300\n", "train.weight_decay must be between 0 and 1"),
        (b"train:\n  seed: 4294967296\n", "train.seed must be between 0 and 4294967295"),
        (b"train:\n  seed: -1\n", "train.seed must be between 0 and 4294967295, got -1"),
        (b"dataset:\n  seed: -1\n", "dataset.seed must be"),
        (
            b"train:\n  epochs: 1180591620717411303424\n",
            "train.epochs must be between 1 and 100000",
        ),
        (b"train:\n  num_threads: 100000\n", "train.num_threads must be between 1 and 256"),
        (b"dataset:\n  n_bins: 1000000\n", "dataset.n_bins must be between 1 and 10000"),
        (b"dataset:\n  size: 100000\n", "dataset.size must be between 1 and 4096"),
        (b"network:\n  readout: {pool: 100000}\n", "network.readout.pool must be between"),
        (b"network:\n  layers: [{channels: 1000000}]\n  skip: {n_skip: 0}\n", "layer 1 channels"),
        (b"network:\n  layers: [{kernel: 999}]\n  skip: {n_skip: 0}\n", "layer 1 kernel"),
        (b"network:\n  dt: 1e300\n", "network.dt must be between"),
        (b"train:\n  lr: .nan\n", "must be a finite number"),
        (b"train: [1, 2\n", "is not valid YAML at line"),
        (b"\x00\x01", "NUL"),
        (b"- 1\n- 2\n", "must hold a mapping"),
        (b"", "is empty; give at least one section, or leave out --config"),
        (b"# only a comment\n\n", "is empty"),
        (b"dataset:\n  train_per_class: 0\n", "dataset.train_per_class must be >= 1"),
        (b"dataset: {name: digits, train_per_class: 5}\n", "train_per_class applies to"),
        (b"dataset: {root: ''}\n", "dataset.root is empty"),  # read the current folder
        (b"train:\n  epochs: 1:30\n", "has 1:30 at line 2, which YAML reads as a base-60"),
        (b"train:\n  lr: 1:30.5\n", "has 1:30.5 at line 2, which YAML reads as a base-60"),
        (b"dataset: {root: '  '}\n", "dataset.root is empty"),
        (b"train:\n  epochs: 010\n", "has 010 at line 2, which YAML reads as the octal number 8"),
        (
            b"train: {seed: -0_17}\n",
            "has -0_17 at line 1, which YAML reads as the octal number -15",
        ),
    ],
)
def test_bad_configs_are_one_sentence(tmp_path, capsys, content, message):
    assert message in _train(tmp_path, capsys, content)


@pytest.mark.parametrize(
    "text, value", [("0", 0), ("-0", 0), ("10", 10), ("0x10", 16), ("1_0", 10)]
)
def test_integers_without_a_leading_zero_read_as_written(text, value):
    assert parse_yaml(f"train: {{epochs: {text}}}") == {"train": {"epochs": value}}


def test_large_and_unreadable_config_files(tmp_path, capsys):
    assert "larger than 1024 KiB" in _train(tmp_path, capsys, b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="is a folder"):
        read_yaml(tmp_path)
    with pytest.raises(ConfigError, match="cannot read config file"):
        read_yaml(tmp_path / ("x" * 5000 + ".yaml"))
    with pytest.raises(ConfigError, match="holds more than 100,000 values"):
        parse_yaml("stdp: [" + "1," * 100_001 + "]")


def test_epochs_beyond_the_bound_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--out", str(out), "--epochs", str(2**70), "--no-progress"])
    err = capsys.readouterr().err
    assert (
        rc == 2 and "train.epochs must be between 1 and 100000, got 1180591620717411303424" in err
    )
    assert not out.exists()


def test_network_too_big_for_the_machine_gives_the_estimate(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "machine_memory_bytes", lambda: 8 * 2**30)
    content = (
        b"dataset: {size: 512}\n"
        b"network:\n  layers: [{channels: 512, kernel: 3, stride: 1}]\n  skip: {n_skip: 0}\n"
    )
    err = _train(tmp_path, capsys, content)
    unchecked = Config(  # the same config, built without validation, for its estimate
        dataset=DatasetConfig(size=512),
        network=NetworkConfig(layers=[LayerConfig(512, 3, 1)], skip=SkipConfig(0, 0, 0)),
    )
    need = training_memory_bytes(unchecked)[0]
    assert need > 8 * 2**30
    assert f"about {need / 2**30:.1f} GiB to train" in err
    assert "more than this machine's 8.0 GiB" in err


def test_memory_estimate_is_plausible_for_the_shipped_configs():
    # The paper's networks: about 1.1M and 1.7M parameters, well under a GiB to train.
    for name, params in (("dvsgesture", 1.1e6), ("ncaltech101", 1.7e6)):
        need, _, p = training_memory_bytes(default_config(name))
        assert abs(p - params) / params < 0.1
        assert 2**20 < need < 2**30
    need, neurons, _ = training_memory_bytes(default_config("gestures"))
    cfg = default_config("gestures")
    bigger = cfg.replace(train={"batch_size": 2 * cfg.train.batch_size})
    assert training_memory_bytes(bigger)[0] > need  # grows with the batch


def test_limits_table_is_checked_for_every_entry():
    """Each LIMITS entry is enforced: one step beyond it is refused."""
    cfg = default_config("gestures")
    d = cfg.to_dict()
    probes = {
        "dataset.n_bins": ("dataset", "n_bins"),
        "dataset.size": ("dataset", "size"),
        "dataset.seed": ("dataset", "seed"),
        "train.epochs": ("train", "epochs"),
        "train.batch_size": ("train", "batch_size"),
        "train.eval_batch_size": ("train", "eval_batch_size"),
        "train.num_threads": ("train", "num_threads"),
        "train.lr": ("train", "lr"),
        "train.weight_decay": ("train", "weight_decay"),
        "train.seed": ("train", "seed"),
        "network.dt": ("network", "dt"),
        "network.v_th": ("network", "v_th"),
        "network.surrogate_width": ("network", "surrogate_width"),
    }
    for key, (section, name) in probes.items():
        lo, hi = LIMITS[key]
        too_big = hi * 2 if isinstance(hi, float) else hi + 1
        with pytest.raises(ConfigError, match=rf"{section}\.{name} must be between"):
            Config.from_dict({**d, section: {**d[section], name: too_big}})
    check_limits(cfg)  # the defaults pass


def test_guarantees_doc_lists_every_limit():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "guarantees.md").read_text()
    for key, (lo, hi) in LIMITS.items():
        assert f"| `{key}` | {limits._fmt(lo)} | {limits._fmt(hi)} |" in doc, key


def test_an_empty_search_config_is_refused_too(tmp_path):
    from skipsnn.commands.search import read_config

    f = tmp_path / "s.yaml"
    f.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="is empty"):
        read_config(f)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"train: {method: bptt}\nstdp: {epochs: -1}\n", "stdp.epochs must be a positive integer"),
        (b"train: {method: bptt}\nstdp: {windows: .nan}\n", "stdp.windows must be a positive"),
        (b"stdp: {a_plus: -1}\n", "STDP parameter a_plus must be a non-negative number"),
        (b"stdp: {epochs: 3, typo: 1}\n", "unknown key 'typo' in the stdp section"),
    ],
)
def test_the_stdp_section_is_checked_whatever_the_method(tmp_path, capsys, content, message):
    assert message in _train(tmp_path, capsys, content)


def test_loading_a_config_with_an_stdp_section_imports_no_torch(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "c.yaml"
    f.write_text("stdp: {epochs: 3, a_plus: 0.1}\n")
    code = f"import sys\nfrom skipsnn.config import Config\nConfig.load({str(f)!r})\n"
    code += "assert 'torch' not in sys.modules, 'torch was imported'\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("device", ["cuda:99999999999999999999", "cuda:²", "cuda:٣", "cuda:00"])
def test_device_indexes_torch_cannot_parse_are_one_sentence(tmp_path, capsys, device):
    # They passed str.isdigit, then torch.device raised a RuntimeError: a traceback.
    err = _train(tmp_path, capsys, f"train: {{device: '{device}'}}\n".encode())
    assert "unknown device" in err


def test_device_indexes_stay_within_torchs_eight_bits():
    # torch reads cuda:128 as cuda:-128, which no `index >= device_count()` check catches.
    assert default_config("gestures").replace(train={"device": "cuda:127"}).train.device
    with pytest.raises(ConfigError, match="unknown device 'cuda:128'"):
        default_config("gestures").replace(train={"device": "cuda:128"})


def test_a_long_value_is_shown_cut_in_the_error(tmp_path):
    # A 500,000-character device or choice (a key: YAML's limit, 1,000) was quoted whole.
    for text, n in (("train: {device: '%s'}\n", 500_000), ("train: {'%s': 1}\n", 1000),
                    ("network: {surrogate: %s}\n", 500_000)):  # fmt: skip
        f = tmp_path / "c.yaml"
        f.write_text(text % ("a" * n))
        with pytest.raises(ConfigError) as e:
            Config.load(f)
        assert len(str(e.value)) < 400 and "aaa...aaa" in str(e.value)
