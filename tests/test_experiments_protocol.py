import json
import re
from types import SimpleNamespace

import pytest
import torch

from skipsnn.config import default_config
from skipsnn.experiments.protocol import (
    VARIANTS,
    ablation,
    match_budget,
    table3,
    variant_config,
)
from skipsnn.experiments.variant_sets import VARIANT_SETS
from skipsnn.network import count_params
from skipsnn.theory.pathways import count_pathways

SHAPE, N_CLASSES = (2, 16, 16), 11


def _data():
    ds = SimpleNamespace(
        x=torch.zeros(4, 8, *SHAPE), y=torch.zeros(4), classes=[str(i) for i in range(N_CLASSES)]
    )
    return ds, ds


class FakeTrainer:
    """Stands in for training: accuracy from the config, and a record of the calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, cfg, run_dir, data, progress):
        self.calls.append(run_dir)
        acc = 0.5 + 0.4 * cfg.train.label_fraction + 0.01 * cfg.train.seed
        if cfg.train.method == "stdp":
            acc -= 0.1
        m = {"test_accuracy": acc, "params": count_params(cfg, SHAPE, N_CLASSES)}
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "metrics.json").write_text(json.dumps(m))
        return m


def test_table3_grid_table_and_resume(tmp_path):
    cfg = default_config("gestures")
    fake = FakeTrainer()
    table3(
        cfg, tmp_path, fractions=[1.0, 0.1], seeds=2, progress=False, train_fn=fake, data=_data()
    )
    assert len(fake.calls) == 2 * 2 * 2
    md = (tmp_path / "table3.md").read_text()
    # BPTT at 100%: seeds 0 and 1 give 90% and 91%; 95% CI 12.706 x 0.707 / sqrt(2).
    assert "90.5 ± 6.4" in md
    assert (tmp_path / "accuracy_vs_labels.png").stat().st_size > 0
    assert len(json.loads((tmp_path / "results.json").read_text())) == 8
    # A rerun reads finished cells instead of training them again.
    again = FakeTrainer()
    table3(
        cfg, tmp_path, fractions=[1.0, 0.1], seeds=2, progress=False, train_fn=again, data=_data()
    )
    assert again.calls == []


def _one_bptt_cell(out, train_fn):
    """The table3 grid of one cell: BPTT, all labels, seed 0."""
    return table3(
        default_config("gestures"),
        out,
        fractions=[1.0],
        methods=["bptt"],
        seeds=1,
        progress=False,
        train_fn=train_fn,
        data=_data(),
    )


def test_failed_cell_is_recorded_not_fatal(tmp_path):
    def boom(cfg, run_dir, data, progress):
        raise RuntimeError("loss is NaN")

    r = _one_bptt_cell(tmp_path, boom)
    assert r["results"][0]["test_accuracy"] is None and "NaN" in r["results"][0]["error"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"test_accuracy": 0.5', "is not readable JSON"),
        (b"\xff\xfe", "is not readable JSON"),
        (b"[1, 2]", "does not hold a JSON object"),
        (b'{"test_accuracy": "abc"}', "holds test_accuracy = 'abc', not a number"),
        (b'{"test_accuracy": true}', "holds test_accuracy = True, not a number"),
        (b'{"test_accuracy": 0.5, "params": [1]}', "holds params = [1], not a number"),
    ],
)
def test_a_damaged_finished_cell_is_one_sentence(tmp_path, content, message):
    # A cell's metrics.json from an earlier run, damaged: once a JSONDecodeError,
    # UnicodeDecodeError, AttributeError or TypeError traceback of `reproduce table3`.
    from skipsnn.errors import ConfigError

    cell = tmp_path / "runs" / "bptt-f100-s0"
    cell.mkdir(parents=True)
    (cell / "metrics.json").write_bytes(content)
    fake = FakeTrainer()
    with pytest.raises(ConfigError, match=re.escape(message)) as e:
        _one_bptt_cell(tmp_path, fake)
    assert str(cell / "metrics.json") in str(e.value) and "\n" not in str(e.value)
    assert fake.calls == []


def test_ablation_variants_differ_only_in_dynamics_and_skips():
    base = default_config("gestures")
    cfgs = [variant_config(base, v) for v in VARIANTS]
    h = max(2, base.network.n_dynamic)
    assert [c.network.n_dynamic for c in cfgs] == [1, 1, h, h]
    assert [bool(c.skip_edges()) for c in cfgs] == [False, True, False, True]
    assert all(len(c.network.layers) == len(base.network.layers) for c in cfgs)


def test_equal_budget_and_pathway_order(tmp_path):
    base = default_config("gestures")
    cfgs = [variant_config(base, v) for v in VARIANTS]
    budget = max(count_params(c, SHAPE, N_CLASSES) for c in cfgs)
    matched = [match_budget(c, budget, SHAPE, N_CLASSES) for c in cfgs]
    for c in matched:
        assert abs(count_params(c, SHAPE, N_CLASSES) - budget) <= 0.05 * budget
    r = ablation(base, tmp_path, seeds=1, progress=False, train_fn=FakeTrainer(), data=_data())
    rows = r["rows"]
    for row, c in zip(rows, matched, strict=True):
        lam = [c.network.n_dynamic] * len(c.network.layers)
        assert row["pathways"] == count_pathways(lam, c.skip_edges())
    # Heterogeneous dynamics and skips each add pathways (Lemmas 4 and 5).
    p = [row["pathways"] for row in rows]
    assert p[0] < p[1] and p[0] < p[2] < p[3]
    assert "memory pathways" in (tmp_path / "ablation.md").read_text()


def test_ablation_reports_seeds_and_interval(tmp_path):
    base = default_config("gestures")
    r = ablation(base, tmp_path, seeds=2, progress=False, train_fn=FakeTrainer(), data=_data())
    row = r["rows"][0]
    assert row["accuracy_per_seed"] == pytest.approx([90.0, 91.0])  # seeds 0 and 1
    md = (tmp_path / "ablation.md").read_text()
    assert "| 90.5 ± 6.4 (n=2) |" in md  # mean ± 95% CI half-width (t, 1 dof)
    assert "95% confidence interval" in md


def test_cli_rejects_bad_fractions_and_methods(tmp_path, capsys):
    from skipsnn.cli import main

    out = tmp_path / "t3"
    with pytest.raises(SystemExit) as e:  # a usage error since the options are bounded
        main(["reproduce", "table3", "--fractions", "1.5", "--seeds", "1", "--out", str(out)])
    assert e.value.code == 2
    assert "--fractions: must be comma-separated numbers from 1e-06 to 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # argparse's own usage error
        main(["reproduce", "table3", "--methods", "sgd", "--out", str(out)])
    assert e.value.code == 2
    assert "--methods: must list some of bptt, stdp" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    "fractions, same_at",
    [
        ([0.5, 0.5], "whole percent"),
        ([1.0, 0.3, 0.304], "whole percent"),
        ([0.001, 0.0011], "three decimals"),  # two folders (f0.1, f0.11), one table column
        ([0.0149, 0.015], "three decimals"),  # f001 and f002, both 0.015 in the table
    ],
)
@pytest.mark.parametrize("experiment", ["table3", "compare"])
def test_fractions_that_share_a_run_folder_are_refused(tmp_path, fractions, same_at, experiment):
    # Runs are named at whole percent: 0.3 and 0.304 once both read the run of 0.3, and
    # the table counted it as two seeds; the table groups fractions at three decimals.
    from skipsnn.errors import ConfigError
    from skipsnn.experiments.compare import compare

    fake, cfg = FakeTrainer(), default_config("gestures")
    kw = dict(fractions=fractions, seeds=1, progress=False, train_fn=fake, data=_data())
    with pytest.raises(ConfigError, match=f"are the same at {same_at}"):
        if experiment == "table3":
            table3(cfg, tmp_path, methods=["bptt"], **kw)
        else:
            compare(cfg, tmp_path, "labels", **kw)
    assert fake.calls == [] and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("experiment", ["table3", "ablation"])
def test_cli_threads_reach_every_run(tmp_path, monkeypatch, experiment):
    """`--threads N` sets train.num_threads of the shared config (as compare and search do);
    without it the dataset config's own value is kept."""
    from skipsnn.cli import main
    from skipsnn.experiments import protocol

    seen = []

    def fake(cfg, out, **kw):
        seen.append(cfg.train.num_threads)
        return {"table": "", "results": [], "rows": []}

    monkeypatch.setattr(protocol, experiment, fake)
    base = ["reproduce", experiment, "--dataset", "digits", "--out", str(tmp_path / "o")]
    assert main([*base, "--threads", "1"]) == 0
    assert main(base) == 0
    assert seen == [1, default_config("digits").train.num_threads]
    assert default_config("digits").train.num_threads != 1  # so the first check can fail


def test_fractions_below_half_a_percent_are_named_and_shown_apart_from_zero(tmp_path):
    """Whole percent names 0.001 "f000" and shows it as "0%"; fractions from 0.5% up keep
    the names (f010, f100) of every run already on disk."""
    from skipsnn.experiments.compare import compare

    kw = dict(seeds=1, progress=False, data=_data())
    table3(
        default_config("gestures"),
        tmp_path / "t",
        fractions=[1.0, 0.1, 0.001, 0.00025],
        methods=["bptt"],
        train_fn=FakeTrainer(),
        **kw,
    )
    runs = sorted(p.name for p in (tmp_path / "t" / "runs").iterdir())
    assert runs == ["bptt-f0.025-s0", "bptt-f0.1-s0", "bptt-f010-s0", "bptt-f100-s0"]
    head = (tmp_path / "t" / "table3.md").read_text().splitlines()[0]
    assert "| 100% | 10% | 0.1% | 0.025% |" in head
    compare(
        default_config("gestures"),
        tmp_path / "c",
        "threads-bptt",  # trained by train_fn alone (no raw readout)
        fractions=[0.5, 0.002],
        train_fn=FakeTrainer(),
        **kw,
    )
    runs = {p.name.rsplit("-", 2)[1] for p in (tmp_path / "c" / "runs").iterdir()}
    assert runs == {"f050", "f0.2"}
    rows = (tmp_path / "c" / "compare.md").read_text()
    assert "| 50% |" in rows and "| 0.2% |" in rows and "| 0% |" not in rows


@pytest.mark.parametrize("experiment", ["table3", "compare"])
def test_fractions_below_a_plain_percentage_are_refused(tmp_path, experiment):
    # 1e-300 ran as the folder f1e-298 and the column "1e-298%"; 1e-6 is 0.0001%.
    from skipsnn.errors import ConfigError
    from skipsnn.experiments.compare import compare

    fake, cfg = FakeTrainer(), default_config("gestures")
    kw = dict(fractions=[0.5, 1e-300], seeds=1, progress=False, train_fn=fake, data=_data())
    with pytest.raises(ConfigError, match="must lie between 1e-06 and 1, got 1e-300"):
        if experiment == "table3":
            table3(cfg, tmp_path, methods=["bptt"], **kw)
        else:
            compare(cfg, tmp_path, "labels", **kw)
    assert fake.calls == [] and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("f", [1e-6, 1.5e-6, 3.33e-5, 0.000999, 0.004999, 0.5, 1.0])
def test_every_accepted_fraction_is_named_in_plain_digits(f):
    from skipsnn.experiments.protocol import _fraction_tag, check_fractions
    from skipsnn.experiments.tables import fraction_percent

    check_fractions([f])
    assert "e" not in _fraction_tag(f)[1:] and "e" not in fraction_percent(f)
    assert float(fraction_percent(f)) > 0  # never shown as 0%


def test_compare_checks_every_cell_config_before_training_any(tmp_path, monkeypatch):
    # Equal gradient steps at 5e-5 of the labels ask for 10 / 5e-5 = 200,000 epochs, over
    # the limit: refused once the cells of 100% had trained, now before any cell.
    from skipsnn.errors import ConfigError
    from skipsnn.experiments import compare as cmp

    monkeypatch.setattr(cmp, "_baseline_cell", lambda *a: {"test_accuracy": 0.5})
    fake, cfg = FakeTrainer(), default_config("gestures").replace(train={"epochs": 10})
    kw = dict(fractions=[1.0, 5e-5], seeds=1, progress=False, train_fn=fake, data=_data())
    with pytest.raises(ConfigError, match=r"equal gradient steps at label fraction 5e-05: train"):
        cmp.compare(cfg, tmp_path, "labels", **kw)
    assert fake.calls == [] and not (tmp_path / "runs").exists()


def test_fractions_that_share_a_folder_are_named_as_given():
    # ":g" printed 0.5000001 as 0.5: "fractions 0.5 and 0.5 are the same" told the user
    # nothing; the message names the two values as they were given.
    from skipsnn.errors import ConfigError
    from skipsnn.experiments.protocol import check_fractions

    with pytest.raises(ConfigError, match=r"fractions 0\.5 and 0\.5000001 are the same"):
        check_fractions([0.5, 0.5000001])


def test_compare_runs_the_seeds_from_first_seed(tmp_path):
    # An independent replication trains fresh seeds (10-11 here), not 0..n-1 again; the
    # seed reaches each run's config (the fake's accuracy carries 0.01 x seed).
    from skipsnn.errors import ConfigError
    from skipsnn.experiments.compare import compare

    fake, cfg = FakeTrainer(), default_config("gestures")
    kw = dict(progress=False, train_fn=fake, data=_data())
    r = compare(cfg, tmp_path, "threads-bptt", seeds=2, first_seed=10, **kw)
    assert sorted({x["seed"] for x in r["results"]}) == [10, 11]
    assert sorted({p.name.rsplit("-", 1)[1] for p in (tmp_path / "runs").iterdir()}) == [
        "s10",
        "s11",
    ]
    assert sorted({x["test_accuracy"] for x in r["results"]}) == pytest.approx([1.0, 1.01])
    with pytest.raises(ConfigError, match="--first-seed must be at least 0, got -1"):
        compare(cfg, tmp_path / "x", "threads-bptt", seeds=1, first_seed=-1, **kw)


def test_seed_batches_in_two_folders_pool_to_the_table_of_one_folder(tmp_path):
    # `pool` joins batches run apart (another machine, a later day) into the table that
    # one folder holding every seed gets; the recorded config is what lets it check them.
    import json

    from skipsnn.experiments.compare import compare
    from skipsnn.experiments.pool import pool

    cfg = default_config("gestures")
    # half the labels: the fake's accuracies stay in [0, 1], as a results file's must
    kw = dict(progress=False, train_fn=FakeTrainer(), data=_data(), fractions=[0.5])
    whole = compare(cfg, tmp_path / "all", "threads-bptt", seeds=4, first_seed=10, **kw)
    compare(cfg, tmp_path / "a", "threads-bptt", seeds=2, first_seed=10, **kw)
    compare(cfg, tmp_path / "b", "threads-bptt", seeds=2, first_seed=12, **kw)
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert saved["config"] == cfg.to_dict()
    r = pool([tmp_path / "a", tmp_path / "b"], tmp_path / "pooled")
    assert r["config_checked"] and r["table"] == whole["table"]


def test_reproduce_compare_takes_first_seed_from_the_command_line(tmp_path, monkeypatch):
    import skipsnn.experiments.compare as cmp
    from skipsnn.cli import main

    seen = {}

    def fake_compare(cfg, out, variant_set, **kw):
        seen.update(kw, variant_set=variant_set)
        return {"table": "", "rows": []}

    monkeypatch.setattr(cmp, "compare", fake_compare)
    args = ["reproduce", "compare", "pathways", "--seeds", "15", "--first-seed", "10"]
    assert main([*args, "--dataset", "rhythms", "--out", str(tmp_path / "o")]) == 0
    assert (seen["seeds"], seen["first_seed"], seen["variant_set"]) == (15, 10, "pathways")


def test_single_dynamic_set_puts_one_dynamic_at_each_extreme_at_the_same_budget(tmp_path):
    """'single-dynamic': the full network (the same run as the pathway set's), and one
    dynamic at the base's fastest and at its slowest, each at the pathway set's budget."""
    from skipsnn.experiments.compare import compare

    cells = {}

    class Recording(FakeTrainer):
        def __call__(self, cfg, run_dir, data, progress):
            cells[(run_dir.parent.parent.name, run_dir.name.split("-f")[0])] = cfg.to_dict()
            return super().__call__(cfg, run_dir, data, progress)

    cfg = default_config("rhythms").with_dynamics([(0.0, 8.0, 8.0), (0.1, 2.0, 3.0)])
    kw = dict(progress=False, train_fn=Recording(), data=_data(), seeds=1, first_seed=3)
    single = compare(cfg, tmp_path / "s", "single-dynamic", **kw)
    compare(cfg, tmp_path / "p", "pathways", **kw)
    compare(cfg, tmp_path / "m", "mix-vs-middle", **kw)
    # mix-vs-middle is the pathway set's two networks with the skip, the same runs
    assert {k[1]: c for k, c in cells.items() if k[0] == "m"} == {
        k[1]: c for k, c in cells.items() if k[0] == "p" and "no_skip" not in k[1]
    }
    compare(cfg, tmp_path / "k", "skip", **kw)
    # skip is the pathway set's two networks with both dynamics, the same runs
    assert {k[1]: c for k, c in cells.items() if k[0] == "k"} == {
        k[1]: c for k, c in cells.items() if k[0] == "p" and k[1].startswith("heterogeneous")
    }
    assert len([k for k in cells if k[0] == "k"]) == 2
    # mix-vs-gru: the same full network, beside gru-readout's GRU with the readout over time
    full_v, gru_v = VARIANT_SETS["mix-vs-gru"]
    assert full_v == VARIANT_SETS["single-dynamic"][0]
    assert gru_v == VARIANT_SETS["gru-readout"][2] and gru_v.options["gru"]["readout"] == "mean"
    full = cells[("s", "heterogeneous_skip")]
    assert full == cells[("p", "heterogeneous_skip")]
    fast = cells[("s", "homogeneous_at_the_fastest_dynamic_skip")]
    slow = cells[("s", "homogeneous_at_the_slowest_dynamic_skip")]
    middle = cells[("p", "homogeneous_skip")]
    assert fast["network"]["dynamics"] == [{"a": 0.1, "tau_m": 2.0, "r_m": 3.0}]
    assert slow["network"]["dynamics"] == [{"a": 0.0, "tau_m": 8.0, "r_m": 8.0}]
    assert middle["network"]["dynamics"][0]["tau_m"] == pytest.approx(4.0)
    for c in (fast, slow):
        assert c["network"]["n_dynamic"] == 1
        assert c["network"]["skip"] == full["network"]["skip"]
        assert c["network"]["layers"] == middle["network"]["layers"]
        assert c["train"]["seed"] == 3
    assert len({r["params"] for r in single["results"]}) == 1
