"""mMND network: shapes of every feasible skip, the step-by-step reference, gradients."""

import itertools
from pathlib import Path

import pytest
import torch

from skipsnn import neuron
from skipsnn.config import Config, skip_feasible
from skipsnn.errors import ConfigError
from skipsnn.network import build_network, count_params

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def tiny(n_layers=3, n_skip=1, l_start=0, l_end=2, strides=(1, 2, 1), channels=(4, 6, 5), **net):
    layers = [
        {"channels": channels[i % len(channels)], "kernel": 3, "stride": strides[i % len(strides)]}
        for i in range(n_layers)
    ]
    d = {
        "dataset": {"name": "gestures", "size": 8},
        "network": {
            "layers": layers,
            "skip": {"n_skip": n_skip, "l_start": l_start, "l_end": l_end},
            "dynamics": [
                {"a": 0.0, "tau_m": 2.0, "r_m": 3.0},
                {"a": 0.1, "tau_m": 6.0, "r_m": 9.0},
            ],
            **net,
        },
    }
    return Config.from_dict(d)


def events(b=2, t=5, size=8, p=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(b, t, 2, size, size, generator=g) < p).float()


def test_adapter_shapes_for_every_feasible_skip():
    x = events(b=1, t=2)
    n = 0
    for m in range(1, 6):
        for k, s, e in itertools.product(range(0, 5), range(0, 5), range(0, 6)):
            if k == 0 and (s, e) != (0, 0):
                continue
            if not skip_feasible(m, k, s, e):
                continue
            cfg = tiny(m, k, s, e)
            net = build_network(cfg)
            assert len(net.adapters) == k
            for src, dst in net.edges:
                assert dst - src >= 2 and 0 <= src and dst <= m
                c_src, h_src, w_src = net.shapes[src]
                out = net.adapt(torch.zeros(3, c_src, h_src, w_src), src, dst)
                assert tuple(out.shape[1:]) == net.shapes[dst]
            if m <= 3:  # the whole forward pass too (deeper ones only repeat the pattern)
                fw = net(x, record=True)
                assert fw.logits.shape == (1, 11)
                assert [tuple(s.shape[2:]) for s in fw.spikes] == net.shapes[1:]
            n += 1
    assert n >= 40  # the enumeration really covered many configurations


def reference_forward(net, x):
    """The network stepped one time step at a time with neuron.lif_step."""
    b, t = x.shape[:2]
    cfg = net.cfg
    m = len(net.convs)
    v = [None] * (m + 1)
    u = torch.zeros(b, net.n_classes, dtype=x.dtype)
    beta = net.readout_decay()
    us, all_spikes = [], []
    for n in range(t):
        s = [x[:, n]]
        for i in range(1, m + 1):
            current = net.convs[i - 1](s[i - 1])
            for src, dst in net.edges:
                if dst == i:
                    current = current + net.adapt(s[src], src, dst)
            p = net.layer_params(i)
            if v[i] is None:
                v[i] = neuron.initial_state(current, p)
            spk, v[i] = neuron.lif_step(
                current, v[i], p, cfg.dt, cfg.surrogate, cfg.surrogate_width
            )
            s.append(spk)
        all_spikes.append(s[1:])
        u = beta * u + (1 - beta) * net.readout(net.readout_features(s[m]))
        us.append(u)
    return torch.stack(us).mean(0), all_spikes


@pytest.mark.parametrize("pool", [None, 2])
def test_forward_equals_step_by_step_reference(pool):
    torch.manual_seed(0)
    cfg = tiny(3, 2, 0, 3, readout={"tau_m": 4.0, "pool": pool})
    net = build_network(cfg).double()
    with torch.no_grad():
        for conv in net.convs:
            conv.weight.mul_(3.0)  # enough drive that every layer spikes
    x = events(b=2, t=6).double()
    fw = net(x, record=True)
    ref_logits, ref_spikes = reference_forward(net, x)
    for i in range(3):
        ref = torch.stack([step[i] for step in ref_spikes])
        assert torch.equal(fw.spikes[i], ref)
        assert ref.sum() > 0 and ref.mean() < 1  # a real test: some spikes, not all
    torch.testing.assert_close(fw.logits, ref_logits, rtol=1e-10, atol=1e-12)


def test_heterogeneous_groups_get_their_own_dynamics():
    net = build_network(tiny(2, 0, 0, 0, channels=(5, 4)))
    p = net.layer_params(1)
    assert p.tau_m.flatten().tolist() == [2.0, 2.0, 2.0, 6.0, 6.0]
    assert p.a.flatten().tolist() == pytest.approx([0, 0, 0, 0.1, 0.1])


def test_gradients_reach_every_layer_and_every_skip():
    torch.manual_seed(1)
    cfg = tiny(4, 2, 0, 3)
    net = build_network(cfg)
    with torch.no_grad():
        for conv in net.convs:
            conv.weight.mul_(3.0)  # every layer must spike for the readout to get a gradient
    x = events(b=3, t=6)
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor([0, 1, 2]))
    loss.backward()
    names = [n for n, _ in net.named_parameters()]
    assert any(n.startswith("adapters.") for n in names) and len(net.adapters) == 2
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_learnable_dynamics_get_gradients_and_count():
    cfg = tiny(2, 0, 0, 0, learn_dynamics=True)
    net = build_network(cfg)
    net(events()).sum().backward()
    assert net.log_tau_1.grad.abs().sum() > 0 and net.a_2.grad.abs().sum() > 0
    fixed = count_params(tiny(2, 0, 0, 0))
    assert count_params(cfg) == fixed + 3 * (4 + 6)


def test_count_params_matches_the_built_network():
    cfg = tiny(3, 1, 1, 3)
    net = build_network(cfg)
    assert count_params(cfg) == sum(p.numel() for p in net.parameters())
    # conv weights + adapter + readout, by hand
    convs = 2 * 4 * 9 + 4 * 6 * 9 + 6 * 5 * 9
    adapter = 4 * 5
    readout = 5 * 4 * 4 * 11 + 11  # 8x8 -> stride 2 -> 4x4
    assert count_params(cfg) == convs + adapter + readout


@pytest.mark.parametrize("name,target", [("dvsgesture", 1.1e6), ("ncaltech101", 1.7e6)])
def test_paper_sized_configs(name, target):
    cfg = Config.load(CONFIGS / f"{name}.yaml")
    assert cfg.dataset.name == name
    assert abs(count_params(cfg) - target) / target < 0.10


def test_all_shipped_configs_are_valid():
    files = sorted(CONFIGS.glob("*.yaml"))
    assert files
    for f in files:
        cfg = Config.load(f)
        assert count_params(cfg) > 0


def test_wrong_input_shape_is_one_sentence():
    net = build_network(tiny())
    with pytest.raises(ConfigError, match="expects input"):
        net(torch.zeros(1, 3, 2, 9, 9))


def test_calibrate_rates_wakes_up_a_silent_deep_network():
    from skipsnn.network import calibrate_rates

    torch.manual_seed(0)
    cfg = tiny(5, 2, 1, 4, strides=(2, 1, 2, 1, 1), channels=(6, 8, 8, 8, 8))
    net = build_network(cfg)
    x = events(b=4, t=5, p=0.02)
    before = [s.mean().item() for s in net(x, record=True).spikes]
    assert before[-1] < 0.005  # the default initialization leaves the top silent
    rates = calibrate_rates(net, x, 0.05)
    after = [s.mean().item() for s in net(x, record=True).spikes]
    assert after == pytest.approx(rates)
    assert all(0.03 < r < 0.08 for r in after), after
    with pytest.raises(ConfigError, match="init_rate"):
        cfg.replace(network={"init_rate": 1.5})
