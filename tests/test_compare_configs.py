"""`reproduce compare configs`: whole configs trained side by side on the same seeds."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from skipsnn.cli import main
from skipsnn.config import default_config
from skipsnn.errors import ConfigError
from skipsnn.experiments.compare import compare, variant_cfg
from skipsnn.experiments.pool import pool
from skipsnn.experiments.variant_sets import config_difference, config_variants
from test_experiments_protocol import FakeTrainer, _data

BASE = default_config("rhythms")
FAST = BASE.with_dynamics([(0.0, 1.0, 1.0), (0.0, 4.0, 4.0)])


class Recording(FakeTrainer):
    """FakeTrainer that also keeps every cell's config, by run folder name."""

    def __init__(self):
        super().__init__()
        self.cfgs = {}

    def __call__(self, cfg, run_dir, data, progress):
        self.cfgs[run_dir.name] = cfg
        return super().__call__(cfg, run_dir, data, progress)


def _kw(**extra):
    # half the labels keeps the fake's accuracies within [0, 1], as a results file's must
    return dict(progress=False, data=_data(), fractions=[0.5], **extra)


@given(
    tau=st.lists(st.floats(0.5, 64.0), min_size=1, max_size=3),
    epochs=st.integers(1, 50),
    lr=st.floats(1e-4, 0.1),
    per_class=st.one_of(st.none(), st.integers(10, 800)),
)
def test_a_configs_variant_trains_exactly_the_other_config(tau, epochs, lr, per_class):
    # The recorded overrides are a difference, not the whole file: merged back into the
    # reference they must give the other config itself, whatever it changes.
    other = BASE.with_dynamics([(0.0, t, t) for t in tau]).replace(
        train={"epochs": epochs, "lr": lr}, dataset={"train_per_class": per_class}
    )
    ref, v = config_variants([("ref", BASE), ("other", other)])
    assert ref.overrides == {}
    got = variant_cfg(BASE, v, 0.5, 7)
    assert got == other.replace(train={"label_fraction": 0.5, "seed": 7})
    assert config_difference(BASE.to_dict(), BASE.to_dict()) == {}


def test_only_what_differs_is_recorded():
    _, v = config_variants([("a", BASE), ("b", FAST.replace(train={"epochs": 3}))])
    assert v.overrides == {
        "network": {"dynamics": FAST.to_dict()["network"]["dynamics"]},
        "train": {"epochs": 3},
    }


@pytest.mark.parametrize(
    "configs, message",
    [
        ([("a", BASE)], "needs --config and at least one --against"),
        ([("a", BASE), ("a", FAST)], "two configs are both named 'a'"),
        (
            [("a", BASE), ("b", BASE.replace(dataset={"n_bins": 16}))],
            r"b has a different dataset\.n_bins from a \(16, not 32\)",
        ),
        (
            [("a", BASE), ("b", BASE.replace(dataset={"seed": 1}))],
            r"different dataset\.seed",
        ),
    ],
)
def test_configs_that_cannot_be_paired_are_refused(configs, message):
    with pytest.raises(ConfigError, match=message):
        config_variants(configs)


def test_compare_trains_each_config_records_it_and_names_what_differs(tmp_path):
    fake = Recording()
    variants = config_variants([("tau2_8", BASE), ("tau1_4", FAST)])
    r = compare(BASE, tmp_path, "configs", seeds=2, train_fn=fake, **_kw(variants=variants))
    by_cell = {k.split("-f")[0] + "-" + k.rsplit("-", 1)[1]: c for k, c in fake.cfgs.items()}
    assert set(by_cell) == {"tau2_8-s0", "tau2_8-s1", "tau1_4-s0", "tau1_4-s1"}
    assert by_cell["tau1_4-s1"].network.dynamics == FAST.network.dynamics
    assert by_cell["tau2_8-s1"].network.dynamics == BASE.network.dynamics
    assert [x["variant"] for x in r["rows"]] == ["tau2_8", "tau1_4"]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["variant_set"] == "configs"
    assert [v["name"] for v in saved["variants"]] == ["tau2_8", "tau1_4"]
    assert saved["variants"][1]["overrides"] == variants[1].overrides
    md = (tmp_path / "compare.md").read_text()
    assert "| rhythms (configs) |" in md
    assert "- tau1_4 differs from tau2_8 in: network.dynamics" in md


def test_configs_needs_its_variants_and_only_it_takes_them(tmp_path):
    kw = _kw(train_fn=FakeTrainer())
    with pytest.raises(ConfigError, match="needs its variants"):
        compare(BASE, tmp_path / "a", "configs", seeds=1, **kw)
    variants = config_variants([("a", BASE), ("b", FAST)])
    with pytest.raises(ConfigError, match="only to the 'configs' comparison"):
        compare(BASE, tmp_path / "b", "skip", seeds=1, **kw, variants=variants)


def test_pool_joins_configs_batches_and_refuses_a_name_that_changed_its_contents(tmp_path):
    variants = config_variants([("ref", BASE), ("other", FAST)])
    kw = _kw(train_fn=FakeTrainer(), variants=variants)
    whole = compare(BASE, tmp_path / "all", "configs", seeds=4, first_seed=10, **kw)
    compare(BASE, tmp_path / "a", "configs", seeds=2, first_seed=10, **kw)
    compare(BASE, tmp_path / "b", "configs", seeds=2, first_seed=12, **kw)
    r = pool([tmp_path / "a", tmp_path / "b"], tmp_path / "pooled")
    assert r["table"] == whole["table"]  # the note on what differs included
    assert r["variants"] == json.loads((tmp_path / "a" / "results.json").read_text())["variants"]
    # a batch whose "other" is another file under the same name is not the same comparison
    slower = config_variants([("ref", BASE), ("other", BASE.with_dynamics([(0.0, 8.0, 8.0)]))])
    kw["variants"] = slower
    compare(BASE, tmp_path / "c", "configs", seeds=2, first_seed=14, **kw)
    with pytest.raises(ConfigError, match="define the variant 'other' differently"):
        pool([tmp_path / "a", tmp_path / "c"], tmp_path / "p2")


def _write(path, cfg):
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    return path


def test_cli_configs_loads_each_file_with_the_same_command_line_options(tmp_path, monkeypatch):
    import skipsnn.experiments.compare as cmp

    seen = {}

    def fake_compare(cfg, out, variant_set, **kw):
        seen.update(kw, cfg=cfg, variant_set=variant_set)
        return {"table": "", "rows": []}

    monkeypatch.setattr(cmp, "compare", fake_compare)
    a, b = _write(tmp_path / "mix_a.yaml", BASE), _write(tmp_path / "mix_b.yaml", FAST)
    args = ["reproduce", "compare", "configs", "--dataset", "rhythms", "--config", str(a)]
    args += ["--against", str(b), "--threads", "1", "--epochs", "3", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    ref, other = seen["variants"]
    assert (seen["variant_set"], ref.name, other.name) == ("configs", "mix_a", "mix_b")
    cell = variant_cfg(seen["cfg"], other, 1.0, 0)
    assert cell.network.dynamics == FAST.network.dynamics
    assert (cell.train.num_threads, cell.train.epochs) == (1, 3)  # --threads, --epochs


@pytest.mark.parametrize(
    "extra, message",
    [
        (["configs"], "needs at least one --against FILE"),
        (["skip", "--against", "x.yaml"], "--against is for the 'configs' comparison only"),
        (["configs", "--against", "missing.yaml"], "cannot read config file missing.yaml"),
    ],
)
def test_cli_configs_mistakes_are_one_sentence(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    args = ["reproduce", "compare", *extra, "--dataset", "rhythms", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("damage", [[1, 2], "x", [{"name": "ref"}], "reorder"])
def test_pool_refuses_damaged_recorded_variants_in_one_sentence(tmp_path, damage):
    variants = config_variants([("ref", BASE), ("other", FAST)])
    kw = _kw(train_fn=FakeTrainer(), variants=variants)
    compare(BASE, tmp_path / "a", "configs", seeds=2, first_seed=10, **kw)
    compare(BASE, tmp_path / "b", "configs", seeds=2, first_seed=12, **kw)
    path = tmp_path / "b" / "results.json"
    doc = json.loads(path.read_text())
    doc["variants"] = doc["variants"][::-1] if damage == "reorder" else damage
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="'variants' must list the table's variants in order"):
        pool([tmp_path / "a", tmp_path / "b"], tmp_path / "pooled")
