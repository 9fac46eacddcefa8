"""train.deterministic: a seeded BPTT run gives the same bits at 1 and 2 threads."""

import pytest
import torch

from skipsnn import determinism
from skipsnn.config import Config
from skipsnn.data.framing import FramedDataset
from skipsnn.errors import ConfigError
from skipsnn.train import evaluate_run, run_training
from skipsnn.train.bptt import predict

CLASSES = 6  # MKL splits the readout's product only for enough outputs (here 6, not 3)
# wall and CPU times, and where the run computed (its thread count differs by design):
# the only free entries
SKIP = {"train_seconds", "train_cpu_seconds", "host"}


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def events(n_per_class, seed, t=8, size=16):
    """Random events with a class-dependent moving bar: big enough that the kernels which
    split sums across threads (convolution weight gradients, the readout's product over
    ``T * B`` rows) do split them at 2 threads."""
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for c in range(CLASSES):
        for _ in range(n_per_class):
            x = (torch.rand(t, 2, size, size, generator=g) < 0.05).to(torch.uint8)
            for n in range(t):
                row = (2 * n + 3 * c) % size
                x[n, c % 2, row : row + 2, :] += 1
            xs.append(x)
            ys.append(c)
    return FramedDataset(torch.stack(xs), torch.tensor(ys), list("abcdef"), {})


@pytest.fixture(scope="module")
def data():
    return events(12, 0), events(4, 1)


def cfg_of(deterministic, **network):
    return Config.from_dict(
        {
            "dataset": {"name": "rhythms", "n_bins": 8, "size": 16},
            "network": {
                "layers": [
                    {"channels": 16, "kernel": 3, "stride": 2},
                    {"channels": 32, "kernel": 3, "stride": 2},
                ],
                "skip": {"n_skip": 1, "l_start": 0, "l_end": 2},
                "readout": {"tau_m": 8.0},
                "init_rate": 0.05,  # every layer fires from the start: the weights learn
                **network,
            },
            "train": {
                "epochs": 1,  # 2 Adam steps: the second already tells the threads apart
                "batch_size": 32,  # T * B = 256 rows in the readout's product
                "lr": 0.01,
                "val_fraction": 0.2,
                "deterministic": deterministic,
                "device": "cpu",
            },
        }
    )


def run_at(cfg, threads, data, out):
    """Metrics (without times), per-epoch history, final weights and folder of a run."""
    m = run_training(cfg.replace(train={"num_threads": threads}), out, progress=False, data=data)
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    history = [{k: v for k, v in row.items() if "seconds" not in k} for row in state["history"]]
    return {k: v for k, v in m.items() if k not in SKIP}, history, state["model"], out


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """The tiny run with and without the setting at 1 and 2 threads, each made once."""
    cache = {}

    def get(deterministic, threads):
        if (deterministic, threads) not in cache:
            out = tmp_path_factory.mktemp(f"det{int(deterministic)}_t{threads}")
            cache[deterministic, threads] = run_at(cfg_of(deterministic), threads, data, out)
        return cache[deterministic, threads]

    return get


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def assert_same_bits(a, b):
    (ma, ha, wa, _), (mb, hb, wb, _) = a, b
    assert ma == mb  # losses, accuracies, firing rates, confusion matrix: exact floats
    assert ha == hb
    assert same_weights(wa, wb)


def test_deterministic_run_is_bitwise_equal_at_1_and_2_threads(runs, data):
    one, two = runs(True, 1), runs(True, 2)
    assert_same_bits(one, two)
    assert one[0]["test_loss"] is not None and one[0]["finished"]
    assert one[0]["val_accuracy"] > 1 / CLASSES  # it learns: the weights moved
    # Re-evaluation at another thread count gives the stored numbers.
    torch.set_num_threads(2)
    again = evaluate_run(one[3], data=data, progress=False, device="cpu")
    assert again["test_loss"] == one[0]["test_loss"]
    assert again["test_accuracy"] == one[0]["test_accuracy"]


def test_without_the_setting_the_threads_show(runs):
    """The control: without ``train.deterministic`` the same runs end with other weights
    on this build (MKL and oneDNN split sums across threads), so the test above is not
    vacuous; and with it a run at 2 threads gives the 1-thread run's numbers."""
    one, two = runs(False, 1), runs(False, 2)
    if same_weights(one[2], two[2]):
        pytest.skip("this torch build's kernels do not depend on the thread count here")
    assert_same_bits(one, runs(True, 2))


def test_learned_dynamics_are_deterministic_too(data, tmp_path):
    cfg = cfg_of(True, learn_dynamics=True)
    one, two = run_at(cfg, 1, data, tmp_path / "t1"), run_at(cfg, 2, data, tmp_path / "t2")
    assert_same_bits(one, two)


def test_predict_is_deterministic_for_odd_batch_sizes(data):
    """Evaluation at any batch size (a last batch of one sample included)."""
    from skipsnn.network import build_network

    torch.manual_seed(0)
    net = build_network(cfg_of(True), (2, 16, 16), CLASSES)
    x = data[1].x[:7]
    outs = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with determinism.deterministic():
            outs.append(predict(net, x, 3, False))
    assert torch.equal(outs[0], outs[1])


def test_serial_restores_the_thread_count_and_nests():
    torch.set_num_threads(2)
    assert not determinism.enabled()
    with determinism.serial():  # off: nothing changes
        assert torch.get_num_threads() == 2
    with determinism.deterministic():
        assert determinism.enabled()
        with determinism.deterministic(False):
            assert not determinism.enabled()
        assert determinism.enabled()
        with determinism.serial():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), determinism.serial():
            raise RuntimeError
        assert torch.get_num_threads() == 2
    assert not determinism.enabled()


def test_the_setting_is_a_boolean():
    assert Config().train.deterministic is False
    with pytest.raises(ConfigError, match="train.deterministic must be true or false"):
        Config.from_dict({"train": {"deterministic": "yes"}})


def test_cli_flag_sets_the_option(tmp_path):
    from skipsnn.cli import build_parser
    from skipsnn.commands.train import resolve_config

    argv = ["train", "--dataset", "rhythms", "--out", str(tmp_path / "run")]
    parser = build_parser()
    assert resolve_config(parser.parse_args(argv + ["--deterministic"])).train.deterministic
    assert not resolve_config(parser.parse_args(argv)).train.deterministic


def test_off_the_cpu_the_setting_warns():
    from skipsnn.train.run import warn_if_not_deterministic

    with pytest.warns(UserWarning, match="train.deterministic"):
        warn_if_not_deterministic(cfg_of(True), torch.device("meta"))
    warn_if_not_deterministic(cfg_of(False), torch.device("meta"))  # off: silent
