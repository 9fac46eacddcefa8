"""Data-parallel training (torch.distributed, gloo): 2 processes equal 1 at the same global
batch and seed; only rank 0 writes; devices and precision options."""

import json

import pytest
import torch

from skipsnn.errors import ConfigError
from skipsnn.train import run_training
from skipsnn.train.distributed import GlobalBatchShares, World, share_bounds, spawn
from test_bptt import tiny_cfg, toy_split


def _toy():
    # 3 classes x 11: 33 samples, so batches of 8 leave an uneven last batch (and with
    # val_fraction 0.25 and shares of 4, uneven shares too).
    return toy_split(11, 0), toy_split(4, 1)


def _rank_run(cfg_dict, out):
    from skipsnn.config import Config

    run_training(Config.from_dict(cfg_dict), out, progress=False, data=_toy())


def _weights(folder):
    return torch.load(folder / "checkpoint.pt", weights_only=True)["model"]


@pytest.mark.parametrize("batch_size", [8, 3])
def test_two_gloo_processes_train_the_same_weights_as_one(tmp_path, batch_size):
    cfg = tiny_cfg(epochs=1, batch_size=batch_size)
    one = run_training(cfg, tmp_path / "one", progress=False, data=_toy())
    spawn(_rank_run, 2, cfg.to_dict(), str(tmp_path / "two"))
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert one["world_size"] == 1 and two["world_size"] == 2
    w1, w2 = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert w1.keys() == w2.keys()
    for k in w1:  # equal up to the order of float summation across processes
        torch.testing.assert_close(w2[k], w1[k], rtol=1e-4, atol=1e-5, msg=k)
    assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-4)
    assert two["val_loss"] == pytest.approx(one["val_loss"], rel=1e-4)
    assert two["test_accuracy"] == one["test_accuracy"]


def test_global_batches_are_cut_into_contiguous_shares():
    order = torch.arange(10)
    shares = [list(GlobalBatchShares(order, 4, World(r, 3))) for r in range(3)]
    # Batches [0..3], [4..7], [8, 9]: shares of 1/1/2, then 1/1/2, then -/1/1 (rank 0's
    # empty share gets a stand-in sample that the trainer weights by 0).
    assert shares[0] == [[0], [4], [8]] and share_bounds(2, World(0, 3)) == (0, 0)
    assert shares[1] == [[1], [5], [8]]
    assert shares[2] == [[2, 3], [6, 7], [9]]
    for b in range(3):
        got = sorted(sum((s[b] for r, s in enumerate(shares) if _nonempty(b, r)), []))
        assert got == list(range(4 * b, min(4 * b + 4, 10)))


def _nonempty(batch, rank):
    n = min(4, 10 - 4 * batch)
    lo, hi = share_bounds(n, World(rank, 3))
    return hi > lo


def test_stdp_refuses_more_than_one_process(tmp_path):
    from skipsnn.train import run_spawned

    with pytest.raises(ConfigError, match="one process"):
        run_spawned(tiny_cfg(method="stdp"), tmp_path / "s", 2)
    assert not (tmp_path / "s").exists()


def test_device_cpu_and_auto_give_the_same_run_here(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("auto means CUDA on this machine")
    a = run_training(tiny_cfg(device="cpu"), None, progress=False, data=_toy())
    b = run_training(tiny_cfg(device="auto"), None, progress=False, data=_toy())
    assert a["device"] == b["device"] == "cpu"
    drop = ("train_seconds", "train_cpu_seconds")
    assert {k: v for k, v in a.items() if k not in drop} == {
        k: v for k, v in b.items() if k not in drop
    }


@pytest.mark.parametrize(
    "device, words", [("gpu", "unknown device"), ("cuda:x", "unknown device")]
)
def test_bad_devices_are_one_sentence(device, words):
    with pytest.raises(ConfigError, match=words):
        tiny_cfg(device=device)


def test_a_missing_device_is_refused_before_anything_is_written(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="no CUDA device"):
        run_training(tiny_cfg(device="cuda"), tmp_path / "r", progress=False, data=_toy())
    assert not (tmp_path / "r").exists()


def test_bf16_trains_with_exact_spikes_and_a_float32_scan(tmp_path):
    from skipsnn.network import build_network
    from skipsnn.train.devices import autocast

    m = run_training(tiny_cfg(precision="bf16"), None, progress=False, data=_toy())
    assert m["precision"] == "bf16" and m["finished"]
    assert m["train_loss"] == m["train_loss"]  # not NaN
    net = build_network(tiny_cfg(), (2, 8, 8), 3)
    x = toy_split(2, 0).x.float()
    with autocast(torch.device("cpu"), "bf16"):
        fw = net(x, record=True)
    for s in fw.spikes:
        assert s.dtype == torch.float32 and set(s.unique().tolist()) <= {0.0, 1.0}


def test_a_run_resumes_on_another_device_setting(tmp_path):
    cfg = tiny_cfg(epochs=2, device="cpu")
    run_training(cfg, tmp_path / "r", progress=False, data=_toy(), stop_after=1)
    m = run_training(
        cfg.replace(train={"device": "auto"}), tmp_path / "r", resume=True, progress=False, data=_toy()
    )
    whole = run_training(cfg, None, progress=False, data=_toy())
    assert m["epochs"] == 2 and m["val_loss"] == whole["val_loss"]


def test_train_nproc_goes_through_spawn(tmp_path, monkeypatch, capsys):
    import skipsnn.train.run as run
    from skipsnn.cli import main
    from test_cli_train import write_cfg

    calls = []
    monkeypatch.setattr(run, "spawn", lambda fn, n, *args: calls.append((fn, n, args)))
    cfg = write_cfg(tmp_path / "c.yaml")
    argv = ["train", "--config", str(cfg), "--out", str(tmp_path / "r"), "--nproc", "2"]
    assert main(argv) == 2  # the fake spawn trained nothing: no metrics.json
    assert "did not finish" in capsys.readouterr().err
    (fn, n, args), = calls
    assert fn is run._spawned_run and n == 2 and args[1] == str(tmp_path / "r")


def test_gpus_per_trial_beyond_the_cluster_is_one_sentence():
    from skipsnn.search.executor import make_executor

    with pytest.raises(ConfigError, match="more GPUs than the Ray cluster has"):
        make_executor(2, None, gpus_per_trial=1)
    with pytest.raises(ConfigError, match="gpus-per-trial"):
        make_executor(1, None, gpus_per_trial=-1)
