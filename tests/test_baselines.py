"""Baselines (raw-event readout, conv-GRU) and the paired comparison grid, on tiny data."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from skipsnn.config import default_config
from skipsnn.data.binning import frame_many
from skipsnn.data.rhythms import RHYTHM_BINS, RHYTHM_CLASSES, RHYTHM_STEPS, generate_rhythms
from skipsnn.data.synthetic import DT_US
from skipsnn.experiments.baselines import gru_for_budget, n_params, raw_readout, train_conv_gru
from skipsnn.experiments.compare import compare, summarize
from skipsnn.experiments.tables import ci95
from skipsnn.network import count_params


class _Set:
    def __init__(self, x, y):
        self.x, self.y, self.classes = x, y, list(RHYTHM_CLASSES)


def _rhythms(n_per_class, stream):
    es = generate_rhythms(n_per_class, 0, stream)
    x = frame_many(es.events, es.offsets, (16, 16), RHYTHM_BINS, (16, 16), RHYTHM_STEPS * DT_US)
    return _Set(torch.from_numpy(x), torch.from_numpy(es.labels))


@pytest.fixture(scope="module")
def data():
    return _rhythms(40, 0), _rhythms(30, 1)


def _cfg(**train):
    return default_config("rhythms").replace(train={"num_threads": 1, **train})


def test_raw_readout_is_near_chance_on_rhythms(data):
    r = raw_readout(_cfg(), data=data, grid=2, windows=4)
    assert r["n_train"] == 216 and r["method"] == "raw_readout"
    assert r["test_accuracy"] <= 2 / len(RHYTHM_CLASSES)


def test_conv_gru_matches_the_budget_and_trains(data):
    cfg = _cfg(epochs=1, batch_size=64)
    budget = count_params(cfg, (2, 16, 16), 6)
    net = gru_for_budget(cfg, (2, 16, 16), 6, budget)
    assert abs(n_params(net) - budget) < 0.1 * budget
    logits = net(torch.zeros(3, RHYTHM_BINS, 2, 16, 16))
    assert logits.shape == (3, 6)
    r = train_conv_gru(cfg, data=data)
    assert 0 <= r["test_accuracy"] <= 1 and r["params"] == n_params(net)
    assert train_conv_gru(cfg, data=data)["test_accuracy"] == r["test_accuracy"]  # seeded


def test_conv_gru_reports_its_training_accuracy(data):
    """With a step too small to change a prediction, the accuracy counted during the epoch
    is the initial network's on the labelled training split: labels are set so that it
    predicts exactly the first half of the samples right."""
    from skipsnn.train import checkpoint as ckpt
    from skipsnn.train.setup import split_indices

    cfg = _cfg(epochs=1, batch_size=64, lr=1e-12, label_fraction=0.5)
    train_set = data[0]
    ckpt.seed_everything(cfg.train.seed)
    budget = count_params(cfg, (2, 16, 16), 6)
    with torch.no_grad():
        pred = gru_for_budget(cfg, (2, 16, 16), 6, budget)(train_set.x.float()).argmax(1)
    right = torch.arange(len(pred)) < len(pred) // 2
    y = torch.where(right, pred, (pred + 1) % 6)
    r = train_conv_gru(cfg, data=(_Set(train_set.x, y.numpy()), data[1]))
    idx = split_indices(y.numpy(), cfg).train
    assert r["n_train"] == len(idx) < len(y)
    assert r["train_accuracy"] == pytest.approx(float(right[idx].float().mean()), abs=1e-12)
    assert 0.2 < r["train_accuracy"] < 0.8  # neither all right nor all wrong


def test_ci95_and_paired_summary():
    mean, half, n = ci95([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3) and half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert math.isnan(ci95([5.0])[1])
    runs = [
        {"variant": v, "fraction": 1.0, "seed": s, "test_accuracy": a}
        for v, accs in (("ref", [0.5, 0.6, 0.7]), ("other", [0.4, 0.5, 0.7]))
        for s, a in enumerate(accs)
    ]
    for r in runs:
        r["params"] = 10
    ref, other = summarize(runs, ["ref", "other"], [1.0])
    assert ref["reference"] and not other["reference"]
    assert other["diff_mean"] == pytest.approx(-200 / 3 / 10)
    assert other["per_seed"] == pytest.approx([40.0, 50.0, 70.0])


def test_compare_grid_resumes(tmp_path, data):
    calls = []

    def fake_train(cfg, out_dir, data, progress):
        calls.append(cfg.train.epochs)
        out_dir.mkdir(parents=True)
        m = {"test_accuracy": 0.5 + 0.1 * cfg.train.seed, "train_accuracy": 0.9, "params": 7}
        (out_dir / "metrics.json").write_text(__import__("json").dumps(m))
        return m

    cfg = _cfg(epochs=2)
    r = compare(
        cfg,
        tmp_path,
        "labels",
        fractions=[0.5],
        seeds=2,
        train_fn=fake_train,
        data=data,
        progress=False,
    )
    assert sorted(calls) == [2, 2, 2, 2, 4, 4]  # STDP, BPTT fixed; equal steps doubles
    assert "mMND, BPTT, equal gradient steps" in r["table"]
    assert np.isfinite(r["rows"][-1]["mean"])  # the raw readout ran too
    runs = __import__("json").loads((tmp_path / "results.json").read_text())["runs"]
    assert {x["train_accuracy"] for x in runs if x["method"] != "raw"} == {0.9}
    # the raw readout's cells record their machine, as training runs do (the fake's do not)
    from skipsnn.train.devices import host

    assert {x["host"]["cpu"] for x in runs if x["method"] == "raw"} == {host()["cpu"]}
    assert {x["host"] for x in runs if x["method"] != "raw"} == {None}
    # every seed's paired difference, drawn beside the table
    assert (tmp_path / "paired_differences.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    calls.clear()
    compare(
        cfg,
        tmp_path,
        "labels",
        fractions=[0.5],
        seeds=2,
        train_fn=fake_train,
        data=data,
        progress=False,
    )
    assert calls == []  # finished cells are read back


def test_a_damaged_baseline_cell_is_one_sentence(tmp_path):
    from skipsnn.errors import ConfigError
    from skipsnn.experiments.compare import _baseline_cell

    (tmp_path / "metrics.json").write_text('{"test_accuracy": 0.5')  # torn
    with pytest.raises(ConfigError, match="metrics.json is not readable JSON"):
        _baseline_cell(None, _cfg(), tmp_path, None)
    (tmp_path / "metrics.json").write_text('{"test_accuracy": [0.5]}')
    with pytest.raises(ConfigError, match="holds test_accuracy = \\[0.5\\], not a number"):
        _baseline_cell(None, _cfg(), tmp_path, None)


def test_a_runs_epochs_are_the_ones_its_method_trains():
    from skipsnn.experiments.compare import trained_epochs

    cfg = default_config("gestures")  # train.epochs 10, stdp.epochs 3
    assert trained_epochs(cfg) == cfg.train.epochs == 10
    stdp = cfg.replace(train={"method": "stdp"})
    assert trained_epochs(stdp) == 3  # STDP's layer-wise epochs, not the unused 10
    unset = dataclasses.replace(stdp, stdp={})  # (Config.replace merges sections)
    assert trained_epochs(unset) == 10  # unset: train.epochs, as STDP does


def test_every_variant_set_is_offered_by_the_command_and_builds_a_config():
    import argparse

    from skipsnn.commands import reproduce
    from skipsnn.experiments.compare import VARIANT_SETS, variant_cfg

    parser = argparse.ArgumentParser()
    reproduce.register(parser.add_subparsers())
    for name in VARIANT_SETS:  # the command's hard-coded choices keep up with the sets
        assert parser.parse_args(["reproduce", "compare", name, "--out", "x"]).variant_set == name
    base = default_config("rhythms")
    nets = [variant_cfg(base, v, 1.0, 0).network for v in VARIANT_SETS["readout"]]
    got = [(n.readout.pool, n.readout.mode, n.init_rate) for n in nets]
    assert got == [(1, "sum", None), (1, "mean", None), (None, "sum", None),
                   (None, "mean", None), (1, "sum", 0.05)]  # fmt: skip


def test_gru_regularized_set_changes_one_setting_per_variant(data):
    from skipsnn.experiments.compare import VARIANT_SETS, variant_cfg

    base = default_config("rhythms")
    vs = VARIANT_SETS["gru-regularized"]
    cfgs = [variant_cfg(base, v, 1.0, 3) for v in vs]
    assert [v.kind for v in vs] == ["mmnd", "gru", "gru", "gru", "gru"]
    assert [c.train.weight_decay for c in cfgs] == [0.0, 0.0, 0.001, 0.01, 0.0]
    assert [c.train.epochs for c in cfgs] == [40, 40, 40, 40, 20]
    assert {c.train.seed for c in cfgs} == {3} and all(c.network == base.network for c in cfgs)
    # the weight decay reaches the GRU's optimizer: one epoch ends elsewhere with it
    one = _cfg(epochs=1, batch_size=64)
    plain = train_conv_gru(one, data=data)
    decayed = train_conv_gru(one.replace(train={"weight_decay": 0.5}), data=data)
    assert plain["train_accuracy"] != decayed["train_accuracy"] or (
        plain["val_accuracy"] != decayed["val_accuracy"]
    )


def test_conv_gru_options_dropout_time_mean_readout_and_budget():
    from skipsnn.errors import ConfigError

    cfg = _cfg()
    budget = count_params(cfg, (2, 16, 16), 6)
    x = torch.rand(2, RHYTHM_BINS, 2, 16, 16)
    torch.manual_seed(0)
    plain = gru_for_budget(cfg, (2, 16, 16), 6, budget)
    torch.manual_seed(0)
    dropped = gru_for_budget(cfg, (2, 16, 16), 6, budget, dropout=0.5)
    torch.manual_seed(0)
    averaged = gru_for_budget(cfg, (2, 16, 16), 6, budget, readout="mean")
    assert n_params(plain) == n_params(dropped) == n_params(averaged)  # options add none
    plain.eval(), dropped.eval(), averaged.eval()
    with torch.no_grad():
        assert torch.equal(plain(x), dropped(x))  # dropout is off in evaluation
        assert not torch.allclose(plain(x), averaged(x))  # another readout, same weights
        # the time-mean readout is the readout of the hidden state averaged over steps
        b, t = x.shape[:2]
        gx = averaged.gates_x(averaged.encoder(x.reshape(b * t, *x.shape[2:])))
        gx = gx.reshape(b, t, *gx.shape[1:])
        h, states = torch.zeros(b, averaged.hidden, *gx.shape[-2:]), []
        for n in range(t):
            xr, xz, xn = gx[:, n].chunk(3, dim=1)
            hr, hz, hn = averaged.gates_h(h).chunk(3, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
            states.append(h.mean((-2, -1)))
        want = averaged.readout(torch.stack(states).mean(0))
        assert torch.allclose(averaged(x), want, atol=1e-6)
    dropped.train()
    torch.manual_seed(1)
    assert not torch.equal(dropped(x), plain(x))  # and on in training
    with pytest.raises(ConfigError, match="dropout"):
        gru_for_budget(cfg, (2, 16, 16), 6, budget, dropout=1.0)
    with pytest.raises(ConfigError, match="readout"):
        gru_for_budget(cfg, (2, 16, 16), 6, budget, readout="max")


def test_gru_tuned_set_trains_each_setting_as_its_own_run(tmp_path, data):
    import json

    from skipsnn.experiments.compare import VARIANT_SETS

    def fake_train(cfg, out_dir, data, progress):
        out_dir.mkdir(parents=True)
        m = {"test_accuracy": 0.5, "train_accuracy": 0.9, "params": 7}
        (out_dir / "metrics.json").write_text(json.dumps(m))
        return m

    vs = VARIANT_SETS["gru-tuned"]
    assert [v.kind for v in vs] == ["mmnd"] + ["gru"] * 5
    cfg = _cfg(epochs=1, batch_size=64)
    compare(cfg, tmp_path, "gru-tuned", seeds=1, train_fn=fake_train, data=data, progress=False)
    runs = sorted((tmp_path / "runs").glob("conv_gru*/metrics.json"))
    got = {
        (m["dropout"], m["readout"], m["params"])
        for m in map(json.loads, map(Path.read_text, runs))
    }
    full = count_params(cfg, (2, 16, 16), 6)
    half = n_params(gru_for_budget(cfg, (2, 16, 16), 6, round(full / 2)))
    same = n_params(gru_for_budget(cfg, (2, 16, 16), 6, full))
    assert half < 0.7 * same
    # five runs, none shared: the options are part of what makes a run
    assert len(runs) == 5 and got == {
        (0.0, "last", same), (0.3, "last", same), (0.0, "mean", same), (0.0, "last", half),
        (0.3, "mean", same),
    }  # fmt: skip
    with pytest.raises(Exception, match="budget_scale"):
        train_conv_gru(cfg, data=data, budget_scale=0.0)


def test_gru_training_set_changes_only_the_grus_epochs_and_learning_rate(
    tmp_path, data, monkeypatch
):
    """'gru-training': the full network and the time-mean GRU as in mix-vs-gru, and that
    GRU with twice the epochs, 3x and 0.3x the learning rate, each recorded by its run."""
    import json

    from skipsnn.experiments.compare import VARIANT_SETS, variant_cfg

    vs = VARIANT_SETS["gru-training"]
    assert vs[:2] == VARIANT_SETS["mix-vs-gru"]  # the same cells as mix-vs-gru's
    base = default_config("rhythms")
    cfgs = [variant_cfg(base, v, 1.0, 3) for v in vs]
    assert [c.train.lr for c in cfgs] == pytest.approx([0.01, 0.01, 0.01, 0.03, 0.003])
    assert [c.train.epochs for c in cfgs] == [40, 40, 80, 40, 40]
    assert all(v.options["gru"] == {"readout": "mean"} for v in vs[1:])
    assert {c.train.seed for c in cfgs} == {3}
    assert all(c.network == cfgs[1].network for c in cfgs[1:])

    def fake_train(cfg, out_dir, data, progress):
        out_dir.mkdir(parents=True)
        m = {"test_accuracy": 0.5, "train_accuracy": 0.9, "params": 7}
        (out_dir / "metrics.json").write_text(json.dumps(m))
        return m

    adam, seen = torch.optim.Adam, []

    def recording_adam(params, lr, **kw):  # what the GRU's optimizer is given
        seen.append(lr)
        return adam(params, lr=lr, **kw)

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    cfg = _cfg(epochs=2, batch_size=64, lr=0.01)
    compare(cfg, tmp_path, "gru-training", seeds=1, train_fn=fake_train, data=data,
            progress=False)  # fmt: skip
    runs = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("conv_gru*/m*"))]
    got = sorted((m["epochs"], round(m["lr"], 6), m["readout"]) for m in runs)
    assert got == [(2, 0.003, "mean"), (2, 0.01, "mean"), (2, 0.03, "mean"), (4, 0.01, "mean")]
    assert sorted(seen) == pytest.approx([0.003, 0.01, 0.01, 0.03])


def test_trained_longer_set_doubles_only_the_epochs_of_the_mix_and_the_gru(tmp_path, data):
    """'trained-longer': the two networks of mix-vs-gru, each also at twice the epochs
    (the mix at twice them first, the reference); nothing else changes."""
    import json

    from skipsnn.experiments.compare import VARIANT_SETS, variant_cfg

    vs = VARIANT_SETS["trained-longer"]
    assert vs[2:] == VARIANT_SETS["mix-vs-gru"]  # the same cells as mix-vs-gru's
    assert [v.kind for v in vs] == ["mmnd", "gru", "mmnd", "gru"]
    base = default_config("rhythms")
    cfgs = [variant_cfg(base, v, 1.0, 3) for v in vs]
    assert [c.train.epochs for c in cfgs] == [80, 80, 40, 40]
    for longer, shorter in ((cfgs[0], cfgs[2]), (cfgs[1], cfgs[3])):
        assert longer.replace(train={"epochs": 40}).to_dict() == shorter.to_dict()
    assert vs[1].options["gru"] == vs[3].options["gru"] == {"readout": "mean"}

    trained = []

    def fake_train(cfg, out_dir, data, progress):
        trained.append(cfg.train.epochs)
        out_dir.mkdir(parents=True)
        m = {"test_accuracy": 0.5, "train_accuracy": 0.9, "params": 7}
        (out_dir / "metrics.json").write_text(json.dumps(m))
        return m

    cfg = _cfg(epochs=2, batch_size=64, lr=0.01)
    compare(cfg, tmp_path, "trained-longer", seeds=1, train_fn=fake_train, data=data,
            progress=False)  # fmt: skip
    assert sorted(trained) == [2, 4]
    runs = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("conv_gru*/m*"))]
    assert sorted(m["epochs"] for m in runs) == [2, 4]


def test_longer_still_set_is_the_mix_at_twice_and_four_times_the_epochs():
    """'longer-still': trained-longer's reference row, then the same network at four
    times the epochs; nothing else changes."""
    from skipsnn.experiments.compare import VARIANT_SETS, variant_cfg

    vs = VARIANT_SETS["longer-still"]
    assert vs[0] == VARIANT_SETS["trained-longer"][0]  # the same cells
    base = default_config("rhythms")
    twice, four = (variant_cfg(base, v, 1.0, 3) for v in vs)
    assert (twice.train.epochs, four.train.epochs) == (80, 160)
    assert four.replace(train={"epochs": 80}).to_dict() == twice.to_dict()
