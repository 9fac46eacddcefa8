"""NIR export and import: exact round trips, the graph's meaning, clear errors, the CLI."""

import math
import subprocess
import sys

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skipsnn.cli import main
from skipsnn.config import Config
from skipsnn.errors import SkipSNNError
from skipsnn.export import NIRError, from_nir, read_nir, to_nir, write_nir
from skipsnn.network import MMNDNet


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def hetero_cfg(**network):
    """Three layers, three dynamics (one tonic-free but with a != 0), two skips (one
    pooled, one not), a pooled readout and dt != 1."""
    return Config.from_dict(
        {
            "network": {
                "layers": [
                    {"channels": 6, "kernel": 3, "stride": 2},
                    {"channels": 7, "kernel": 3, "stride": 1},
                    {"channels": 8, "kernel": 5, "stride": 1},
                ],
                "n_dynamic": 3,
                "dynamics": [
                    {"a": 0.2, "tau_m": 2.0, "r_m": 3.0},
                    {"a": 0.0, "tau_m": 5.0, "r_m": 4.0},
                    {"a": -0.3, "tau_m": 9.0, "r_m": 12.0},
                ],
                "v_th": 1.0,
                "v_reset": -0.1,
                "dt": 0.5,
                "skip": {"n_skip": 2, "l_start": 0, "l_end": 3},
                "readout": {"tau_m": 3.0, "pool": 2},
                **network,
            }
        }
    )


def make_net(cfg=None, seed=0, k=5):
    torch.manual_seed(seed)
    net = MMNDNet((cfg or hetero_cfg()).network, (2, 12, 12), k)
    with torch.no_grad():  # active layers: spikes in every layer
        for conv in net.convs:
            conv.weight.mul_(3.0)
        for adapter in net.adapters.values():
            adapter.weight.mul_(2.0)
    return net


def spikes_in(seed=1, b=3, t=9):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(b, t, 2, 12, 12, generator=g) < 0.3).float()


def test_round_trip_through_a_file_gives_identical_logits_and_spikes(tmp_path):
    net = make_net()
    x = spikes_in()
    path = tmp_path / "model.nir"
    write_nir(to_nir(net), path)
    back = from_nir(read_nir(path))
    a, b = net(x, record=True), back(x, record=True)
    assert all(s.sum() > 0 for s in a.spikes)  # every layer is active, so the test can fail
    assert torch.equal(a.logits, b.logits)
    for s, r in zip(a.spikes, b.spikes, strict=True):
        assert torch.equal(s, r)
    assert back.cfg == net.cfg  # the architecture and dynamics are recovered as well


def test_learned_per_channel_dynamics_survive(tmp_path):
    net = make_net(hetero_cfg(learn_dynamics=True))
    with torch.no_grad():  # every channel its own (a, tau, R), as after training them
        for i in range(1, 4):
            for name in (f"a_{i}", f"log_tau_{i}", f"log_r_{i}"):
                p = getattr(net, name)
                p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / "m.nir"
    write_nir(to_nir(net), path)
    back = from_nir(read_nir(path))
    assert back.cfg.learn_dynamics
    x = spikes_in(2)
    assert torch.equal(net(x), back(x))
    for i in range(1, 4):
        p, q = net.layer_params(i), back.layer_params(i)
        assert torch.allclose(p.tau_m, q.tau_m, rtol=1e-6) and torch.equal(p.a, q.a)


def test_graph_holds_per_channel_parameters_and_the_time_step():
    net = make_net()
    g = to_nir(net)
    lif = g.nodes["lif2"]
    p = net.layer_params(2)
    assert lif.tau.shape == (7, 12 // 2, 12 // 2)
    np.testing.assert_array_equal(lif.tau[:, 0, 0], p.tau_m.reshape(-1).numpy())
    np.testing.assert_array_equal(lif.r[:, 3, 1], p.r_m.reshape(-1).numpy())
    np.testing.assert_array_equal(lif.v_leak[:, 5, 5], p.a.reshape(-1).numpy())
    assert len(np.unique(lif.tau)) == 3  # the three dynamics
    assert float(g.metadata["dt"]) == 0.5
    assert ("skip0_3_pool", "skip0_3") in g.edges and ("skip0_3", "lif3") in g.edges
    assert "skip1_3_pool" not in g.nodes  # same size: no pooling
    assert ("skip1_3", "lif3") in g.edges
    assert isinstance(g.nodes["readout_li"], nir.LI)


def simulate_graph(g, x):
    """The graph run under the conventions of its metadata (docs/nir.md), independently
    of skipsnn: the exact solution of each LIF with Dirac inputs, an LI with inputs held
    over the step, a spike at v >= v_threshold. Returns (logits, {lif: spikes})."""
    dt = float(g.metadata["dt"])
    order = ["input"]
    preds = {}
    for a, b in g.edges:
        preds.setdefault(b, []).append(a)
    while len(order) < len(g.nodes):  # a topological order
        order += [n for n in g.nodes if n not in order and all(p in order for p in preds[n])]
    t = torch.as_tensor
    state, outs, rec = {}, [], {n: [] for n in g.nodes if isinstance(g.nodes[n], nir.LIF)}
    for step in range(x.shape[1]):
        val = {"input": x[:, step]}
        for name in order[1:]:
            node, inp = g.nodes[name], sum(val[p] for p in preds[name])
            if isinstance(node, nir.Conv2d):
                y = F.conv2d(
                    inp, t(node.weight), t(node.bias), tuple(node.stride), tuple(node.padding)
                )
            elif isinstance(node, nir.AvgPool2d):
                y = F.avg_pool2d(inp, tuple(node.kernel_size), tuple(node.stride))
            elif isinstance(node, nir.Flatten):
                y = inp.flatten(1)
            elif isinstance(node, nir.Affine):
                y = inp @ t(node.weight).T + t(node.bias)
            elif isinstance(node, nir.LIF):
                tau, leak = t(node.tau), t(node.v_leak)
                v = state.get(name, t(node.v_reset).expand_as(inp))
                v = leak + (v - leak) * torch.exp(-dt / tau) + t(node.r) / tau * inp
                y = (v >= t(node.v_threshold)).float()
                state[name] = torch.where(y > 0, t(node.v_reset), v)
                rec[name].append(y)
            elif isinstance(node, nir.LI):
                q = torch.exp(-dt / t(node.tau))
                u = state.get(name, torch.zeros_like(inp))
                y = state[name] = (
                    t(node.v_leak) + (u - t(node.v_leak)) * q + (1 - q) * t(node.r) * inp
                )
            else:  # Output
                y = inp
            val[name] = y
        outs.append(val["output"])
    return torch.stack(outs).mean(0), {n: torch.stack(s) for n, s in rec.items()}


def test_the_graph_means_what_the_docs_say():
    net = make_net(seed=3)
    x = spikes_in(4)
    ref = net(x, record=True)
    logits, spikes = simulate_graph(to_nir(net), x)
    assert torch.allclose(logits, ref.logits, atol=1e-5)
    for i, s in enumerate(ref.spikes, start=1):
        assert torch.equal(spikes[f"lif{i}"], s)


def test_stdp_export_has_per_channel_thresholds_and_no_readout(tmp_path):
    net = make_net()
    thetas = [torch.linspace(0.0, 0.5, c) for c in (6, 7, 8)]
    g = to_nir(net, thetas=thetas, method="stdp")
    np.testing.assert_allclose(g.nodes["lif2"].v_threshold[:, 0, 0], 1.0 + thetas[1].numpy())
    assert "readout" not in g.nodes and ("lif3", "output") in g.edges
    assert "winner-take-all" in g.metadata["not_in_graph"]
    write_nir(g, tmp_path / "stdp.nir")
    with pytest.raises(NIRError, match="v_threshold"):
        from_nir(read_nir(tmp_path / "stdp.nir"))


def _strip_readout(g):
    nodes = {k: v for k, v in g.nodes.items() if k not in ("readout_li", "output")}
    nodes["output"] = nir.Output(output_type=np.array([5]))
    edges = [e for e in g.edges if "readout_li" not in e] + [("readout", "output")]
    return nodes, edges


@pytest.mark.parametrize(
    "edit,words",
    [
        (
            lambda n, e: (
                n
                | {
                    "readout_li": nir.CubaLI(
                        tau_syn=np.ones(5), tau_mem=np.ones(5), r=np.ones(5), v_leak=np.zeros(5)
                    )
                },
                e,
            ),
            "'readout_li' is a nir.CubaLI",
        ),
        (
            lambda n, e: (n | {"d": nir.Delay(delay=np.ones(5))}, e + [("readout", "d")]),
            "'d' is a nir.Delay",
        ),
        (lambda n, e: _strip_readout(nir.NIRGraph(n, e, type_check=False)), "not mMND's readout"),
    ],
)
def test_unsupported_graphs_raise_one_sentence_naming_the_node(edit, words):
    g = to_nir(make_net())
    nodes, edges = edit(dict(g.nodes), list(g.edges))
    bad = nir.NIRGraph(nodes=nodes, edges=edges, metadata=g.metadata, type_check=False)
    with pytest.raises(NIRError) as err:
        from_nir(bad)
    msg = str(err.value)
    assert isinstance(err.value, SkipSNNError)
    assert words in msg and "\n" not in msg


def test_a_skip_pool_that_does_not_divide_cannot_be_exported():
    cfg = Config.from_dict(
        {
            "network": {
                "layers": [{"channels": 4, "kernel": 3, "stride": 2}] * 2,
                "skip": {"n_skip": 1, "l_start": 0, "l_end": 2},
            }
        }
    )
    net = MMNDNet(cfg.network, (2, 10, 10), 3)  # 10 -> 5 -> 3: adaptive pooling 10 -> 3
    with pytest.raises(NIRError, match="10x10 to 3x3"):
        to_nir(net)


def test_time_step_comes_from_metadata_or_argument():
    g = to_nir(make_net())
    g.metadata = {}
    with pytest.raises(NIRError, match="dt"):
        from_nir(g)
    assert from_nir(g, dt=0.5).cfg.dt == 0.5


# -- the command ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bptt_run(tmp_path_factory):
    from skipsnn.train import run_training
    from test_bptt import tiny_cfg, toy_split

    out = tmp_path_factory.mktemp("runs") / "bptt"
    run_training(tiny_cfg(epochs=1), out, progress=False, data=(toy_split(4, 0), toy_split(2, 1)))
    return out


def test_export_command_writes_a_graph_with_the_runs_logits(bptt_run, tmp_path, capsys):
    from skipsnn.train import load_run

    out = tmp_path / "model.nir"
    assert main(["export", str(bptt_run), "--format", "nir", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    _, net, _ = load_run(bptt_run)
    back = from_nir(read_nir(out))
    x = torch.rand(2, 4, *net.input_shape, generator=torch.Generator().manual_seed(0)) < 0.2
    assert torch.equal(net(x.float()), back(x.float()))


def test_stdp_run_exports_its_spiking_layers(tmp_path):
    from skipsnn.train import run_training
    from test_bptt import tiny_cfg, toy_split

    cfg = tiny_cfg(method="stdp").replace(stdp={"epochs": 1, "windows": 2})
    run_training(cfg, tmp_path / "stdp", progress=False, data=(toy_split(4, 0), toy_split(2, 1)))
    out = tmp_path / "stdp.nir"
    assert main(["export", str(tmp_path / "stdp"), "--out", str(out), "--json"]) == 0
    g = read_nir(out)
    assert g.metadata["method"] == "stdp" and "readout" not in g.nodes
    state = torch.load(tmp_path / "stdp" / "checkpoint.pt", weights_only=True)
    np.testing.assert_allclose(
        g.nodes["lif1"].v_threshold[:, 0, 0], cfg.network.v_th + state["thetas"][0].numpy()
    )
    np.testing.assert_array_equal(g.nodes["conv2"].weight, state["net"]["convs.1.weight"].numpy())


def test_export_of_a_folder_that_is_not_a_run_exits_2_with_one_sentence(tmp_path):
    (tmp_path / "notarun").mkdir()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "skipsnn.cli",
            "export",
            str(tmp_path / "notarun"),
            "--out",
            str(tmp_path / "m.nir"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "not a run folder" in r.stderr
    assert not (tmp_path / "m.nir").exists()


def test_readout_decay_matches_the_li_time_constant():
    net = make_net()
    g = to_nir(net)
    q = math.exp(-float(g.metadata["dt"]) / float(g.nodes["readout_li"].tau[0]))
    assert q == pytest.approx(net.readout_decay())


def test_nodes_outside_the_mmnd_structure_are_refused():
    g = to_nir(make_net())
    nodes = dict(g.nodes)
    nodes["probe"] = nir.Output(output_type=np.array([6, 6, 6]))
    bad = nir.NIRGraph(nodes, list(g.edges) + [("lif1", "probe")], metadata=g.metadata)
    with pytest.raises(NIRError, match="'probe' is not part of"):
        from_nir(bad)


def test_hdf5_groups_that_loop_or_nest_too_deeply_are_refused(tmp_path):
    import h5py

    looped = tmp_path / "looped.nir"
    write_nir(to_nir(make_net()), looped)
    with h5py.File(looped, "a") as f:
        f["node"]["again"] = f["node"]  # a hard link back to its own group
    deep = tmp_path / "deep.nir"
    with h5py.File(deep, "w") as f:
        group = f.create_group("node")
        for _ in range(1200):
            group = group.create_group("g")
    for path in (looped, deep):
        with pytest.raises(NIRError, match="nest too deeply or link back") as err:
            read_nir(path)
        assert "\n" not in str(err.value)


def test_deeply_nested_network_config_metadata_is_refused():
    g = to_nir(make_net())
    meta = dict(g.metadata) | {"network_config": "[" * 100_000 + "]" * 100_000}
    bad = nir.NIRGraph(dict(g.nodes), list(g.edges), metadata=meta, type_check=False)
    with pytest.raises(NIRError, match="network_config metadata nests too deeply"):
        from_nir(bad)


def test_a_bare_assertion_in_nir_read_still_names_what_went_wrong(tmp_path):
    import h5py

    path = tmp_path / "typed.nir"
    with h5py.File(path, "w") as f:
        f.create_group("node")["type"] = 5  # nir.read asserts on it with no message
    with pytest.raises(NIRError, match=r"as a NIR graph \(AssertionError\)$"):
        read_nir(path)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_network_with_non_finite_weights_is_not_exported(bptt_run, tmp_path, capsys, value):
    import shutil

    run = tmp_path / "diverged"
    shutil.copytree(bptt_run, run)
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state["model"]["convs.1.weight"][0, 0, 0, 0] = value
    torch.save(state, run / "checkpoint.pt")
    out = tmp_path / "m.nir"
    assert main(["export", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "convs.1.weight holds NaN or infinite values" in err
    assert not out.exists()
    net = make_net()
    with pytest.raises(NIRError, match="threshold offsets of layer 2 holds NaN"):
        to_nir(net, thetas=[torch.zeros(6), torch.tensor([0.0] * 6 + [value]), torch.zeros(8)])
