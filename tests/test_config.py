"""Config: the skip rule, validation, YAML round-trip and the search helpers."""

import pytest
import yaml

from skipsnn.config import (
    Config,
    check_skip,
    load_config,
    skip_edges,
    skip_feasible,
    spread_dynamics,
)
from skipsnn.errors import ConfigError


@pytest.mark.parametrize(
    "m,k,s,e,ok",
    [
        (3, 0, 0, 0, True),  # no skips: s, e ignored
        (3, 0, 7, 9, True),
        (2, 1, 0, 2, True),  # input -> layer 2
        (3, 1, 1, 3, True),
        (3, 2, 0, 3, True),  # layers 0, 1 -> 3
        (3, 2, 1, 3, False),  # layer 2 -> 3 is adjacent, not a skip
        (3, 1, 2, 3, False),
        (3, 1, 0, 1, False),
        (3, 1, 0, 4, False),  # beyond the last layer
        (3, 1, -1, 2, False),
        (4, 3, 0, 4, True),
        (4, 3, 0, 3, False),
        (1, 1, 0, 1, False),  # one layer: nothing to skip over
        (3, -1, 0, 3, False),
    ],
)
def test_skip_feasibility(m, k, s, e, ok):
    assert skip_feasible(m, k, s, e) is ok
    if ok:
        check_skip(m, k, s, e)
    else:
        with pytest.raises(ConfigError):
            check_skip(m, k, s, e)


def test_skip_edges_leave_consecutive_layers_and_enter_one():
    assert skip_edges(4, 0, 0, 0) == []
    assert skip_edges(4, 3, 0, 4) == [(0, 4), (1, 4), (2, 4)]
    assert skip_edges(5, 2, 1, 5) == [(1, 5), (2, 5)]
    # Feasibility is exactly "every edge jumps over at least one layer, within 0..m".
    for m in range(1, 6):
        for k in range(0, 5):
            for s in range(-1, 6):
                for e in range(0, 7):
                    candidate = [(s + i, e) for i in range(k)]
                    every_edge_ok = all(0 <= a and b <= m and b - a >= 2 for a, b in candidate)
                    assert skip_feasible(m, k, s, e) is every_edge_ok
                    if every_edge_ok:
                        assert skip_edges(m, k, s, e) == candidate


def test_infeasible_skip_in_config_is_rejected_with_one_sentence():
    d = Config().to_dict()
    d["network"]["skip"] = {"n_skip": 2, "l_start": 1, "l_end": 2}
    with pytest.raises(ConfigError, match="infeasible skips"):
        Config.from_dict(d)


@pytest.mark.parametrize(
    "section,key,value,match",
    [
        ("network", "n_dynamic", 3, "n_dynamic"),
        ("network", "layers", [], "at least one layer"),
        ("network", "surrogate", "relu", "unknown surrogate"),
        ("network", "dt", -1.0, "dt"),
        (
            "network",
            "dynamics",
            [{"a": 0, "tau_m": -2, "r_m": 1}, {"a": 0, "tau_m": 2, "r_m": 1}],
            "tau_m",
        ),
        ("train", "label_fraction", 0.0, "label_fraction"),
        ("train", "epochs", 0, "epochs"),
        ("train", "method", "sgd", "training method"),
        ("train", "lr", "fast", "must be a number"),
        ("dataset", "name", "imagenet", "unknown dataset"),
        ("train", "batch_size", 2.5, "integer"),
        ("dataset", "collapse_time", "yes", "true or false"),
    ],
)
def test_bad_values_raise_config_error(section, key, value, match):
    d = Config().to_dict()
    d[section][key] = value
    with pytest.raises(ConfigError, match=match):
        Config.from_dict(d)


def test_unknown_keys_are_rejected():
    with pytest.raises(ConfigError, match="unknown key 'lerning_rate'"):
        Config.from_dict({"train": {"lerning_rate": 0.1}})
    with pytest.raises(ConfigError, match="unknown key"):
        Config.from_dict({"network": {"layers": [{"channels": 4, "kernal": 3}]}})
    with pytest.raises(ConfigError, match="unknown key"):
        Config.from_dict({"optimizer": {}})


def test_yaml_round_trip(tmp_path):
    cfg = Config.from_dict(
        {
            "dataset": {"name": "digits", "n_bins": 12, "size": 16},
            "network": {"skip": {"n_skip": 1, "l_start": 0, "l_end": 2}, "readout": {"pool": 2}},
            "train": {"lr": "1e-3", "epochs": 3},  # YAML 1.1 reads 1e-3 as a string
        }
    )
    assert cfg.train.lr == 1e-3
    path = tmp_path / "c.yaml"
    cfg.save(path)
    back = Config.load(path)
    assert back == cfg
    assert yaml.safe_load(path.read_text())["network"]["skip"]["l_end"] == 2
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_load_reports_missing_or_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        Config.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        Config.load(bad)
    bad.write_text("train: {epochs: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Config.load(bad)


def test_with_architecture_derives_layers_and_dynamics():
    base = Config()
    assert base.n_layers == 2 and base.network.n_dynamic == 2
    cfg = base.with_architecture(n_layers=4, n_dynamic=3, n_skip=2, l_start=0, l_end=3)
    assert cfg.n_layers == 4
    assert cfg.network.layers[:2] == base.network.layers
    assert all(layer.stride == 1 for layer in cfg.network.layers[2:])
    taus = [d.tau_m for d in cfg.network.dynamics]
    assert taus == pytest.approx([2.0, 4.0, 8.0])  # geometric between 2 and 8
    assert cfg.skip_edges() == [(0, 3), (1, 3)]
    # Unchanged n_dynamic keeps the configured dynamics exactly.
    same = base.with_architecture(1, 2, 0, 0, 0)
    assert same.network.dynamics == base.network.dynamics and same.n_layers == 1
    with pytest.raises(ConfigError):
        base.with_architecture(2, 2, 1, 1, 2)


def test_with_dynamics_and_spread():
    cfg = Config().with_dynamics([(0.0, 3.0, 1.5), (0.1, 6.0, 3.0), (0.2, 12.0, 6.0)])
    assert cfg.network.n_dynamic == 3
    assert cfg.network.dynamics[1].tau_m == 6.0
    one = spread_dynamics(cfg.network.dynamics, 1)
    assert one[0].tau_m == pytest.approx(6.0) and one[0].a == pytest.approx(0.1)
    with pytest.raises(ConfigError, match="exceeds the narrowest"):
        Config().replace(network={"layers": [{"channels": 1}]})


def test_load_config_with_overrides():
    cfg = load_config(None, train={"epochs": 2}, dataset={"name": "digits"})
    assert cfg.train.epochs == 2 and cfg.dataset.name == "digits"
    with pytest.raises(ConfigError, match="section"):
        load_config(None, trian={"epochs": 2})


@pytest.mark.parametrize("name", ["gestures", "digits", "dvsgesture", "ncaltech101"])
def test_shipped_config_files_equal_the_dataset_defaults(name):
    from pathlib import Path

    from skipsnn.config import default_config

    path = Path(__file__).resolve().parents[1] / "configs" / f"{name}.yaml"
    assert Config.load(path) == default_config(name)
    assert default_config(name).dataset.name == name


def test_replace_merges_nested_sections():
    from skipsnn.config import default_config

    cfg = default_config("gestures").replace(network={"readout": {"tau_m": 4.0}})
    cfg = cfg.replace(network={"readout": {"pool": 2}})
    assert (cfg.network.readout.tau_m, cfg.network.readout.pool) == (4.0, 2)
    assert cfg.network.skip.l_end == default_config("gestures").network.skip.l_end
