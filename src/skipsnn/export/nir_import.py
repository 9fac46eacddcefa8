"""NIR graphs back into `MMNDNet` networks (the inverse of `nir_graph.to_nir`).

`from_nir` recognises mMND's shape in any NIR graph, whatever its node names: the LIF
nodes in topological order are the spiking layers; the convolution into a LIF from the
layer below is that layer's, every other one (1x1, after an optional average pool) a
skip; after the last LIF come [AvgPool2d] Flatten Affine LI Output. Anything else raises
`NIRError` with one sentence naming the node.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict, deque
from typing import Any

import numpy as np
import torch

from ..errors import SkipSNNError
from .nir_graph import SUPPORTED, NIRError, _pool_kernel


def _topological(nodes: dict, edges: list[tuple[str, str]]) -> list[str]:
    indegree = {n: 0 for n in nodes}
    succ = defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
        indegree[b] += 1
    ready = deque(n for n in nodes if indegree[n] == 0)
    order = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for b in succ[n]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
    if len(order) != len(nodes):
        cyclic = sorted(n for n in nodes if indegree[n] > 0)
        raise NIRError(
            f"the graph has a recurrent loop through {cyclic[0]!r}, but mMND networks are "
            "feedforward"
        )
    return order


def _channel_values(arr: Any, name: str, what: str) -> np.ndarray:
    """Per-channel values of a ``[C, H, W]`` parameter that must not vary over space."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 3:
        raise NIRError(f"{name}.{what} has shape {list(a.shape)}; expected [C, H, W]")
    per_channel = a[:, :1, :1]
    if not np.array_equal(np.broadcast_to(per_channel, a.shape), a):
        raise NIRError(
            f"{name}.{what} varies within a channel, but mMND neurons share parameters per channel"
        )
    return per_channel.reshape(-1)


def _one(a: Any, name: str, what: str) -> float:
    values = np.unique(np.asarray(a, dtype=np.float64))
    if values.size != 1:
        raise NIRError(
            f"{name}.{what} takes {values.size} values, but an MMNDNet shares one {what} "
            "across all its neurons (an STDP export, with per-channel thresholds, cannot be "
            "read back)"
        )
    return float(values[0])


def _pair(x: Any) -> tuple[int, int]:
    if isinstance(x, str | bytes):
        raise NIRError(f"padding {x!r} given by name; mMND graphs give it in pixels")
    a = np.asarray(x).reshape(-1)
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))


def from_nir(graph, dt: float | None = None):
    """The `MMNDNet` of a NIR graph of mMND's shape (as `to_nir` writes it).

    ``dt`` is needed only when the graph's metadata does not give the time step. Raises
    `NIRError`, one sentence naming the node, for a graph an mMND network cannot be.
    """
    from ..config import Config, skip_edges
    from ..network import MMNDNet

    nodes, edges = dict(graph.nodes), [(str(a), str(b)) for a, b in graph.edges]
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED:
            raise NIRError(
                f"node {name!r} is a nir.{kind}, which an mMND network does not have "
                f"(supported: {', '.join(SUPPORTED)})"
            )
    meta = dict(getattr(graph, "metadata", None) or {})
    order = _topological(nodes, edges)
    pred, succ = defaultdict(list), defaultdict(list)
    for a, b in edges:
        pred[b].append(a)
        succ[a].append(b)
    kind = {n: type(v).__name__ for n, v in nodes.items()}

    inputs = [n for n in order if kind[n] == "Input"]
    if len(inputs) != 1:
        raise NIRError(f"the graph has {len(inputs)} Input nodes; an mMND network has one")
    in_shape = tuple(int(v) for v in np.asarray(nodes[inputs[0]].input_type["input"]))
    if len(in_shape) != 3:
        raise NIRError(f"input {inputs[0]!r} has shape {list(in_shape)}; expected [C, H, W]")

    lifs = [n for n in order if kind[n] == "LIF"]
    if not lifs:
        raise NIRError("the graph has no LIF node, so it has no spiking layer")
    layer_of = {inputs[0]: 0, **{n: i for i, n in enumerate(lifs, start=1)}}

    def source_layer(conv: str) -> tuple[int, bool]:
        """The layer feeding ``conv`` and whether an AvgPool2d sits in between."""
        (src,) = _single(pred[conv], conv, "input")
        pooled = kind[src] == "AvgPool2d"
        if pooled:
            (src,) = _single(pred[src], src, "input")
        if src not in layer_of:
            raise NIRError(f"{conv!r} is fed by {src!r}, which is not a spiking layer or the input")
        return layer_of[src], pooled

    layers, convs, adapters, skips, used = [], [], {}, [], {inputs[0], *lifs}
    shapes = [in_shape]
    for i, lif in enumerate(lifs, start=1):
        main = None
        for conv in pred[lif]:
            if kind[conv] != "Conv2d":
                raise NIRError(f"{lif!r} is fed by the nir.{kind[conv]} {conv!r}; expected Conv2d")
            src, pooled = source_layer(conv)
            if src == i - 1 and not pooled and main is None:
                main = conv
            elif src < i - 1:
                skips.append((src, i))
                adapters[(src, i)] = conv
            else:
                raise NIRError(
                    f"{conv!r} into {lif!r} is neither its layer's convolution nor a skip"
                )
        if main is None:
            raise NIRError(f"{lif!r} has no convolution from the layer below it")
        used.add(main)
        node = nodes[main]
        weight = np.asarray(node.weight)
        k = weight.shape[-1]
        stride, padding = _pair(node.stride), _pair(node.padding)
        if (
            weight.ndim != 4
            or weight.shape[-2] != k
            or stride[0] != stride[1]
            or padding != (k // 2, k // 2)
            or _pair(node.dilation) != (1, 1)
            or int(node.groups) != 1
            or weight.shape[1] != shapes[-1][0]
        ):
            raise NIRError(
                f"{main!r} is not an mMND convolution (square kernel, equal strides, padding "
                "kernel // 2, no dilation or groups, matching input channels)"
            )
        if np.any(np.asarray(node.bias) != 0):
            raise NIRError(f"{main!r} has a bias, which mMND convolutions do not have")
        layers.append({"channels": int(weight.shape[0]), "kernel": int(k), "stride": stride[0]})
        convs.append(weight)
        lif_shape = tuple(int(v) for v in np.asarray(nodes[lif].input_type["input"]))
        shapes.append(lif_shape)

    params = []
    for i, lif in enumerate(lifs, start=1):
        node = nodes[lif]
        params.append(
            (
                _channel_values(node.v_leak, lif, "v_leak"),
                _channel_values(node.tau, lif, "tau"),
                _channel_values(node.r, lif, "r"),
            )
        )
        v_th, v_reset = (
            _one(node.v_threshold, lif, "v_threshold"),
            _one(node.v_reset, lif, "v_reset"),
        )
        if i == 1:
            shared = (v_th, v_reset)
        elif (v_th, v_reset) != shared:
            raise NIRError(f"{lif!r} has another v_threshold or v_reset than {lifs[0]!r}")

    for (s, e), conv in adapters.items():
        node = nodes[conv]
        w = np.asarray(node.weight)
        if w.shape[-2:] != (1, 1) or _pair(node.stride) != (1, 1) or np.any(np.asarray(node.bias)):
            raise NIRError(f"skip {conv!r} is not a 1x1 convolution without bias and stride")
        if w.shape[:2] != (shapes[e][0], shapes[s][0]):
            raise NIRError(f"skip {conv!r} has weights {list(w.shape)} for layers {s} -> {e}")
        used.add(conv)
        src_nodes = pred[conv]
        if kind[src_nodes[0]] != "AvgPool2d" and shapes[s][1:] != shapes[e][1:]:
            raise NIRError(f"skip {conv!r} joins layer {s} to layer {e} of another size unpooled")
        if kind[src_nodes[0]] == "AvgPool2d":
            used.add(src_nodes[0])
            pool = nodes[src_nodes[0]]
            expect = _pool_kernel(shapes[s][1:], shapes[e][1:], f"skip {conv!r}")
            if (
                _pair(pool.kernel_size) != tuple(expect)
                or _pair(pool.stride) != tuple(expect)
                or any(_pair(pool.padding))
            ):
                raise NIRError(f"{src_nodes[0]!r} is not the average pool mMND skips use")
    skips.sort()
    n_skip = len(skips)
    l_start, l_end = (skips[0][0], skips[0][1]) if skips else (0, 0)
    m = len(lifs)
    try:
        rule = skip_edges(m, n_skip, l_start, l_end)
    except SkipSNNError as e:
        raise NIRError(f"the skip edges {skips} break mMND's skip rule: {e}") from None
    if rule != skips:
        raise NIRError(
            f"the skip edges {skips} are not mMND's (k consecutive layers into one layer)"
        )

    readout = _readout(nodes, kind, succ, lifs[-1], shapes[-1])
    used.update(readout["nodes"])
    unused = [n for n in order if n not in used]
    if unused:
        raise NIRError(f"node {unused[0]!r} is not part of an mMND network's structure")
    dt = _time_step(meta, dt)
    stored = _stored_network(meta)
    dyns = _dynamics(params, [layer["channels"] for layer in layers], stored)
    network = {
        **{k: stored[k] for k in ("surrogate", "surrogate_width", "learn_dynamics") if k in stored},
        "layers": layers,
        "n_dynamic": len(dyns),
        "dynamics": [{"a": a, "tau_m": t, "r_m": r} for a, t, r in dyns],
        "v_th": _stored_or(stored.get("v_th"), shared[0]),
        "v_reset": _stored_or(stored.get("v_reset"), shared[1]),
        "dt": dt,
        "skip": {"n_skip": n_skip, "l_start": l_start, "l_end": l_end},
        "readout": {
            "tau_m": _stored_or(stored.get("readout", {}).get("tau_m"), readout["tau"]),
            "pool": readout["pool"],
        },
    }
    cfg = Config.from_dict({"network": network}).network
    net = MMNDNet(cfg, in_shape, readout["weight"].shape[0])
    if [tuple(s) for s in net.shapes] != shapes:
        raise NIRError(f"the layer shapes {shapes} do not follow from the convolutions")
    if tuple(net.readout.weight.shape) != readout["weight"].shape:
        raise NIRError(
            f"the readout Affine has shape {list(readout['weight'].shape)}, but the features "
            f"of the last layer need {list(net.readout.weight.shape)}"
        )
    with torch.no_grad():
        for conv, w in zip(net.convs, convs, strict=True):
            conv.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
        for (s, e), name in adapters.items():
            w = torch.as_tensor(np.asarray(nodes[name].weight), dtype=torch.float32)
            net.adapters[f"{s}->{e}"].weight.copy_(w)
        net.readout.weight.copy_(torch.as_tensor(readout["weight"], dtype=torch.float32))
        net.readout.bias.copy_(torch.as_tensor(readout["bias"], dtype=torch.float32))
        # The exact per-channel values (the config's dynamics describe their groups).
        for i, (a, tau, r) in enumerate(params, start=1):
            col = {
                k: torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1, 1)
                for k, v in (("a", a), ("tau", tau), ("r", r))
            }
            getattr(net, f"a_{i}").copy_(col["a"])
            if cfg.learn_dynamics:
                getattr(net, f"log_tau_{i}").copy_(col["tau"].log())
                getattr(net, f"log_r_{i}").copy_(col["r"].log())
            else:
                getattr(net, f"tau_{i}").copy_(col["tau"])
                getattr(net, f"r_{i}").copy_(col["r"])
    return net


def _single(names: list[str], node: str, what: str) -> list[str]:
    if len(names) != 1:
        raise NIRError(f"{node!r} has {len(names)} {what} edges; expected one")
    return names


def _readout(nodes, kind, succ, last: str, shape) -> dict[str, Any]:
    """The readout chain after the last spiking layer: [AvgPool2d] Flatten Affine LI Output."""
    chain, node = [], last
    while True:
        nxt = succ[node]  # no skip leaves the last spiking layer
        if not nxt:
            break
        (node,) = _single(nxt, node, "readout")
        chain.append(node)
        if kind[node] == "Output":
            break
    kinds, chain_all = [kind[n] for n in chain], list(chain)
    if kinds and kinds[0] == "AvgPool2d":
        pool_node = nodes[chain[0]]
        kinds, chain = kinds[1:], chain[1:]
    else:
        pool_node = None
    if kinds != ["Flatten", "Affine", "LI", "Output"]:
        raise NIRError(
            f"after {last!r} the graph has {' -> '.join(kinds) or 'nothing'}, not mMND's readout "
            "Flatten -> Affine -> LI -> Output (an STDP export has no readout to read back)"
        )
    pool = None
    if pool_node is not None:
        k = _pair(pool_node.kernel_size)
        h, w = shape[1], shape[2]
        if (
            _pair(pool_node.stride) != k
            or any(_pair(pool_node.padding))
            or h % k[0]
            or w % k[1]
            or h // k[0] != w // k[1]
        ):
            raise NIRError(f"{last!r}'s readout pool is not a square average pool that divides")
        pool = h // k[0]
    affine, li = nodes[chain[1]], nodes[chain[2]]
    if not (np.allclose(li.r, 1.0) and np.allclose(li.v_leak, 0.0)):
        raise NIRError(
            f"{chain[2]!r} has r != 1 or v_leak != 0, which the mMND readout cannot hold"
        )
    return {
        "nodes": chain_all,
        "pool": pool,
        "weight": np.asarray(affine.weight),
        "bias": np.asarray(affine.bias),
        "tau": _one(li.tau, chain[2], "tau"),
    }


def _stored_or(stored: Any, value: float) -> float:
    """The config's own value when the graph's float32 copy of it is ``value``."""
    if isinstance(stored, int | float) and np.float32(stored) == np.float32(value):
        return float(stored)
    return value


def _time_step(meta: dict, dt: float | None) -> float:
    if dt is None:
        dt = meta.get("dt")
    if dt is None:
        raise NIRError("the graph's metadata gives no time step dt; pass dt")
    dt = float(np.asarray(dt))
    if not (dt > 0 and math.isfinite(dt)):
        raise NIRError(f"the time step dt must be a positive number, got {dt}")
    return dt


def _stored_network(meta: dict) -> dict[str, Any]:
    raw = meta.get("network_config")
    if raw is None:
        return {}
    try:
        return json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except ValueError:
        raise NIRError("the graph's network_config metadata is not JSON") from None
    except RecursionError:
        raise NIRError("the graph's network_config metadata nests too deeply") from None


def _dynamics(params, channels: list[int], stored: dict) -> list[tuple[float, float, float]]:
    """The config's dynamics: the stored ones if every layer's channels follow them, else
    the runs of equal parameters in layer 1 (checked against every layer)."""
    from ..neuron import channel_params

    def fits(dyns) -> bool:
        for (a, tau, r), c in zip(params, channels, strict=True):
            try:
                p = channel_params(dyns, c)
            except SkipSNNError:
                return False
            got = np.stack([a, tau, r])
            want = np.stack([t.reshape(-1).double().numpy() for t in (p.a, p.tau_m, p.r_m)])
            if not np.allclose(got, want, rtol=1e-6, atol=0):
                return False
        return True

    if stored.get("dynamics"):
        dyns = [(d["a"], d["tau_m"], d["r_m"]) for d in stored["dynamics"]]
        if stored.get("learn_dynamics") or fits(dyns):
            return dyns
    a, tau, r = params[0]
    runs = [(float(a[0]), float(tau[0]), float(r[0]))]
    for triple in zip(a[1:].tolist(), tau[1:].tolist(), r[1:].tolist(), strict=True):
        if triple != runs[-1]:
            runs.append(triple)
    if fits(runs):
        return runs
    raise NIRError(
        "the LIF parameters do not split every layer's channels into the same groups of "
        "neuron dynamics, as an MMNDNet does"
    )
