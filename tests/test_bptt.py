"""BPTT trainer: learning, exact resume, label fractions, run folders."""

import json

import numpy as np
import pytest
import torch

from skipsnn.config import Config
from skipsnn.data.framing import FramedDataset
from skipsnn.errors import ConfigError
from skipsnn.train import evaluate_run, run_training
from skipsnn.train.metrics import direction_pairs, pair_accuracy
from skipsnn.train.setup import split_indices

CLASSES = ["left", "right_clockwise", "right_counter_clockwise"]


def toy_split(n_per_class, seed):
    """Class 0: events on the left half; classes 1/2: right half, sweeping down or up.

    Classes 1 and 2 have the same time-summed frames, like clockwise and
    counter-clockwise circles: only the order of events separates them.
    """
    g = torch.Generator().manual_seed(seed)
    t, size = 4, 8
    xs, ys = [], []
    for c in range(3):
        for _ in range(n_per_class):
            x = (torch.rand(t, 2, size, size, generator=g) < 0.03).to(torch.uint8)
            for n in range(t):
                row = 2 * n if c != 2 else 2 * (t - 1 - n)
                cols = slice(0, 4) if c == 0 else slice(4, 8)
                x[n, 0, row : row + 2, cols] = 2
            xs.append(x)
            ys.append(c)
    return FramedDataset(torch.stack(xs), torch.tensor(ys), list(CLASSES), {})


@pytest.fixture(scope="module")
def toy():
    return toy_split(16, 0), toy_split(8, 1)


def tiny_cfg(**train):
    return Config.from_dict(
        {
            "dataset": {"name": "gestures"},
            "network": {
                "layers": [
                    {"channels": 4, "kernel": 3, "stride": 2},
                    {"channels": 4, "kernel": 3, "stride": 1},
                ],
                "skip": {"n_skip": 1, "l_start": 0, "l_end": 2},
                "readout": {"tau_m": 4.0},
            },
            "train": {
                "epochs": 2,
                "batch_size": 8,
                "lr": 0.02,
                "val_fraction": 0.25,
                "num_threads": 1,
                **train,
            },
        }
    )


def _same(a, b, skip=("train_seconds", "epoch_seconds", "train_cpu_seconds", "epoch_cpu_seconds")):
    return {k: v for k, v in a.items() if k not in skip} == {
        k: v for k, v in b.items() if k not in skip
    }


def test_two_epoch_tiny_run_learns_above_chance(toy):
    m = run_training(tiny_cfg(), None, progress=False, data=toy)
    assert m["epochs"] == 2 and m["finished"]
    assert m["test_accuracy"] > 0.6  # chance is 1/3
    assert m["val_accuracy"] is not None and m["val_loss"] is not None
    assert m["params"] > 0 and m["train_seconds"] > 0
    assert m["direction_pairs"] == [["right_clockwise", "right_counter_clockwise"]]


def test_run_folder_contents_and_evaluate(toy, tmp_path):
    out = tmp_path / "run"
    m = run_training(tiny_cfg(), out, progress=False, data=toy)
    for name in (
        "config.yaml",
        "metrics.jsonl",
        "metrics.json",
        "checkpoint.pt",
        "confusion.png",
        "raster.png",
        "curves.png",
    ):
        assert (out / name).exists(), name
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    stored = json.loads((out / "metrics.json").read_text())
    for key in (
        "test_accuracy",
        "val_accuracy",
        "params",
        "epochs",
        "train_seconds",
        "label_fraction",
    ):
        assert key in stored
    assert stored["test_accuracy"] == m["test_accuracy"]
    # where it ran: another CPU or torch build changes a BPTT run's floating point
    assert set(stored["host"]) == {"cpu", "cpu_id", "cpu_capability", "torch", "threads"}
    assert stored["host"]["cpu"] and stored["host"]["cpu_id"]
    assert stored["host"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert stored["host"]["torch"] == torch.__version__
    assert stored["host"]["threads"] == tiny_cfg().train.num_threads
    assert Config.load(out / "config.yaml") == tiny_cfg()
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    again = evaluate_run(out, data=toy, progress=False)
    assert again["recomputed"] and again["test_accuracy"] == m["test_accuracy"]
    # A second run into the same folder is refused, and nothing is changed.
    before = (out / "metrics.json").read_bytes()
    with pytest.raises(ConfigError, match="already holds"):
        run_training(tiny_cfg(), out, progress=False, data=toy)
    assert (out / "metrics.json").read_bytes() == before


def test_resume_after_kill_equals_uninterrupted_run(toy, tmp_path):
    full = run_training(tiny_cfg(), tmp_path / "full", progress=False, data=toy)
    part = run_training(tiny_cfg(), tmp_path / "cut", progress=False, data=toy, stop_after=1)
    assert part["epochs"] == 1 and not part["finished"] and part["test_accuracy"] is None
    assert not (tmp_path / "cut" / "metrics.json").exists()
    # Disturb the global RNGs as a new process would be: the checkpoint must restore them.
    torch.manual_seed(12345)
    np.random.seed(54321)
    resumed = run_training(tiny_cfg(), tmp_path / "cut", resume=True, progress=False, data=toy)
    assert resumed["epochs"] == 2
    assert _same(full, resumed)
    rows = [
        [json.loads(line) for line in (tmp_path / d / "metrics.jsonl").read_text().splitlines()]
        for d in ("full", "cut")
    ]
    assert all(_same(a, b) for a, b in zip(*rows, strict=True))
    sa = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)["model"]
    sb = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_resume_with_a_different_config_is_refused(toy, tmp_path):
    run_training(tiny_cfg(), tmp_path / "r", progress=False, data=toy, stop_after=1)
    with pytest.raises(ConfigError, match="differs"):
        run_training(tiny_cfg(lr=0.5), tmp_path / "r", resume=True, progress=False, data=toy)


def test_label_fraction_subset_is_stratified_and_disjoint_from_validation(toy):
    train, _ = toy
    cfg = tiny_cfg(label_fraction=0.25)
    split = split_indices(train.y, cfg)
    y = train.y.numpy()
    assert set(split.train) <= set(split.pool)
    assert not set(split.pool) & set(split.val)
    assert len(split.pool) + len(split.val) == len(y)
    per_class = np.bincount(y[split.train], minlength=3)
    pool_class = np.bincount(y[split.pool], minlength=3)
    assert list(per_class) == [max(1, round(0.25 * n)) for n in pool_class]
    # Same seed, same subset; another seed, another subset.
    assert np.array_equal(split.train, split_indices(train.y, cfg).train)
    assert not np.array_equal(
        split.train, split_indices(train.y, tiny_cfg(label_fraction=0.25, seed=3)).train
    )


def test_training_batches_come_only_from_the_labelled_fraction(toy, monkeypatch):
    import skipsnn.train.bptt as bptt

    train, test = toy
    cfg = tiny_cfg(label_fraction=0.5, epochs=2)
    split = split_indices(train.y, cfg)
    assert 0 < len(split.train) < len(split.pool)
    seen = []
    real_epoch = bptt.train_epoch

    def spy(net, opt, data, order, *args):
        seen.append(order.tolist())
        return real_epoch(net, opt, data, order, *args)

    monkeypatch.setattr(bptt, "train_epoch", spy)
    m = run_training(cfg, None, progress=False, data=(train, test))
    assert m["n_train"] == len(split.train)
    assert len(seen) == 2
    for order in seen:  # every labelled sample once per epoch, nothing else
        assert sorted(order) == sorted(split.train.tolist())
    assert seen[0] != seen[1]  # reshuffled each epoch


def test_collapse_time_removes_the_order_of_events(toy):
    from skipsnn.train.setup import prepare

    train, _ = toy
    x1, x2 = train.x[train.y == 1][:1], train.x[train.y == 2][:1]
    c1, c2 = prepare(x1, True), prepare(x2, True)
    assert torch.allclose(c1[:, 0], c1[:, -1])
    assert prepare(x1, True).sum() == pytest.approx(prepare(x1, False).sum().item())
    assert not torch.equal(prepare(x1, False)[:, 0], prepare(x1, False)[:, -1])
    del c2


def test_out_dir_none_writes_nothing(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_training(tiny_cfg(epochs=1), None, progress=False, data=toy)
    assert list(tmp_path.iterdir()) == []


def test_pair_accuracy_decides_only_between_the_pair():
    classes = ["a", "right_arm_clockwise", "right_arm_counter_clockwise", "left cw", "left ccw"]
    pairs = direction_pairs(classes)
    assert pairs == [(1, 2), (3, 4)]
    logits = torch.tensor(
        [[9.0, 1, 2, 0, 0], [9.0, 2, 1, 0, 0], [0, 0, 0, 1, 2], [5.0, 0, 0, 0, 0]]
    )
    y = torch.tensor([2, 1, 4, 0])
    # Class 0 has the largest logit for two samples, but only the pair's logits count.
    assert pair_accuracy(logits, y, pairs) == 1.0
    assert pair_accuracy(logits, torch.tensor([1, 2, 3, 0]), pairs) == 0.0
    assert pair_accuracy(logits, torch.tensor([0, 0, 0, 0]), pairs) is None


def test_cosine_schedule_and_resume_with_fewer_epochs_refused(toy, tmp_path):
    from skipsnn.train.bptt import lr_factor

    assert [lr_factor(e, 4, "cosine") for e in range(5)] == pytest.approx(
        [1.0, 0.8535534, 0.5, 0.1464466, 0.0]
    )
    assert lr_factor(3, 4, "constant") == 1.0
    out = tmp_path / "r"
    m = run_training(tiny_cfg(epochs=2), out, progress=False, data=toy, stop_after=2)
    assert m["epochs"] == 2
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in rows] == pytest.approx([0.02, 0.01])
    with pytest.raises(ConfigError, match="already trained 2 epochs"):
        run_training(tiny_cfg(epochs=1), out, resume=True, progress=False, data=toy)


def test_init_rate_calibrates_on_labelled_samples_before_training(toy, monkeypatch):
    import skipsnn.train.bptt as bptt

    calls = []
    real = bptt.calibrate_rates

    def spy(net, x, target):
        calls.append((len(x), target))
        return real(net, x, target)

    monkeypatch.setattr(bptt, "calibrate_rates", spy)
    cfg = tiny_cfg(epochs=1, batch_size=8).replace(network={"init_rate": 0.1})
    m = run_training(cfg, None, progress=False, data=toy)
    n_labelled = len(split_indices(toy[0].y, cfg).train)
    assert calls == [(min(n_labelled, cfg.train.eval_batch_size), 0.1)]
    assert all(r > 0 for r in m["firing_rate"])
    run_training(tiny_cfg(epochs=1), None, progress=False, data=toy)
    assert len(calls) == 1  # not without init_rate
