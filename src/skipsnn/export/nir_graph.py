r"""mMND networks to and from NIR, the Neuromorphic Intermediate Representation.

`to_nir` writes an `MMNDNet` as a `nir.NIRGraph`:

- each spiking layer ``i`` as ``conv{i}`` (`nir.Conv2d`, no bias) followed by ``lif{i}``
  (`nir.LIF` with ``tau = tau_m``, ``r = R_m``, ``v_leak = a``, ``v_threshold``,
  ``v_reset`` as arrays of the layer's shape ``[C, H, W]``, so every channel keeps its
  own dynamic);
- each skip ``s -> e`` as ``skip{s}_{e}_pool`` (`nir.AvgPool2d`, only when the sizes
  differ) and ``skip{s}_{e}`` (a 1x1 `nir.Conv2d`), with an edge into ``lif{e}``: NIR
  sums the inputs of a node, as the network sums the currents;
- the readout as ``readout_pool`` (`nir.AvgPool2d`, if ``readout.pool``), ``flatten``,
  ``readout`` (`nir.Affine`) and ``readout_li`` (`nir.LI` with ``tau = tau_out``,
  ``r = 1``, ``v_leak = 0``), then ``output``.

The time step and the conventions that NIR's continuous-time equations leave open are in
the graph's metadata (`CONVENTIONS`; ``docs/nir.md`` explains each). Under them the NIR
equations reproduce the network's discrete step exactly: with input spikes as unit-area
Dirac deltas at ``t = n dt``, ``tau dv/dt = (v_leak - v) + r I`` jumps by
``r G / tau = (R_m / tau_m) G`` at each input and decays as ``exp(-dt / tau)`` in
between, which is `skipsnn.neuron.lif_step`.

`from_nir` reads such a graph back into an `MMNDNet` (same logits, same spikes) and
raises `NIRError`, one sentence naming the node, for anything an mMND network cannot be.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict, deque
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..errors import SkipSNNError

FORMAT = "skipsnn.mmnd"
# What NIR leaves open, stored in every graph's metadata (docs/nir.md explains each).
CONVENTIONS = {
    "time_unit": "the unit of tau and dt is the network config's own (ms in the paper)",
    "input_spikes": "an input or layer spike at step n is a unit-area Dirac delta at t = n dt",
    "readout_input": "readout_li holds its input (Affine of the step's spikes, plus bias) "
    "constant over each step",
    "logits": "the class scores are the mean over the T steps of the output (readout_li)",
    "threshold": "a neuron spikes when v >= v_threshold (NIR writes v > v_threshold)",
    "initial_state": "every LIF starts at v_reset and readout_li at 0",
    "flatten": "flatten has NIR's unbatched shapes: start_dim 0 flattens [C, H, W]",
}
SUPPORTED = ("Input", "Output", "Conv2d", "LIF", "AvgPool2d", "Flatten", "Affine", "LI")


class NIRError(SkipSNNError):
    """A NIR graph that skipsnn cannot write or read, or a network that NIR cannot hold."""


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy().copy()


def _per_neuron(values: torch.Tensor, shape: tuple[int, int, int]) -> np.ndarray:
    """Per-channel values ``[C]`` (or ``[C, 1, 1]``) spread to ``[C, H, W]``."""
    v = _np(values).reshape(-1, 1, 1)
    return np.ascontiguousarray(np.broadcast_to(v, shape), dtype=np.float32)


def _pool_kernel(src: tuple[int, int], dst: tuple[int, int], what: str) -> np.ndarray:
    """The `nir.AvgPool2d` kernel (= stride) that equals adaptive pooling ``src -> dst``."""
    if src[0] % dst[0] or src[1] % dst[1]:
        raise NIRError(
            f"{what} pools {src[0]}x{src[1]} to {dst[0]}x{dst[1]}, which is no fixed average "
            "pool, so NIR cannot hold it; choose sizes that divide"
        )
    return np.array([src[0] // dst[0], src[1] // dst[1]])


def to_nir(net, thetas: list[torch.Tensor] | None = None, method: str = "bptt"):
    """The NIR graph of ``net`` (an `MMNDNet`).

    ``thetas`` (STDP runs) are per-channel threshold offsets, one ``[C_i]`` tensor per
    spiking layer: each layer's ``v_threshold`` becomes ``v_th + theta``, and the graph ends
    at the last spiking layer (an STDP readout is a logistic regression on pooled counts,
    which NIR cannot express). Raises `NIRError` for a network NIR cannot hold.
    """
    import nir

    cfg = net.cfg
    nodes: dict[str, Any] = {"input": nir.Input(input_type=np.array(net.input_shape))}
    edges: list[tuple[str, str]] = []
    m = len(net.convs)
    if thetas is not None and len(thetas) != m:
        raise NIRError(f"{len(thetas)} threshold offsets given for {m} spiking layers")

    def layer_node(i: int) -> str:
        return "input" if i == 0 else f"lif{i}"

    for i, conv in enumerate(net.convs, start=1):
        c_in, h_in, w_in = net.shapes[i - 1]
        shape = net.shapes[i]
        nodes[f"conv{i}"] = nir.Conv2d(
            input_shape=(h_in, w_in),
            weight=_np(conv.weight),
            stride=tuple(conv.stride),
            padding=tuple(conv.padding),
            dilation=1,
            groups=1,
            bias=np.zeros(shape[0], dtype=np.float32),
        )
        p = net.layer_params(i)
        v_th = torch.full((shape[0],), float(cfg.v_th))
        if thetas is not None:
            v_th = v_th + thetas[i - 1].detach().reshape(-1).to(torch.float32)
        nodes[f"lif{i}"] = nir.LIF(
            tau=_per_neuron(p.tau_m, shape),
            r=_per_neuron(p.r_m, shape),
            v_leak=_per_neuron(p.a, shape),
            v_threshold=_per_neuron(v_th, shape),
            v_reset=np.full(shape, cfg.v_reset, dtype=np.float32),
        )
        edges += [(layer_node(i - 1), f"conv{i}"), (f"conv{i}", f"lif{i}")]

    for s, e in net.edges:
        src = layer_node(s)
        (_, hs, ws), (_, he, we) = net.shapes[s], net.shapes[e]
        if (hs, ws) != (he, we):
            k = _pool_kernel((hs, ws), (he, we), f"the skip {s}->{e}")
            nodes[f"skip{s}_{e}_pool"] = nir.AvgPool2d(
                kernel_size=k, stride=k.copy(), padding=np.array([0, 0])
            )
            edges.append((src, f"skip{s}_{e}_pool"))
            src = f"skip{s}_{e}_pool"
        nodes[f"skip{s}_{e}"] = nir.Conv2d(
            input_shape=(he, we),
            weight=_np(net.adapters[f"{s}->{e}"].weight),
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
            bias=np.zeros(net.shapes[e][0], dtype=np.float32),
        )
        edges += [(src, f"skip{s}_{e}"), (f"skip{s}_{e}", f"lif{e}")]

    last = f"lif{m}"
    c, h, w = net.shapes[m]
    if thetas is None:
        pool = cfg.readout.pool
        if pool:
            k = _pool_kernel((h, w), (pool, pool), "the readout")
            nodes["readout_pool"] = nir.AvgPool2d(
                kernel_size=k, stride=k.copy(), padding=np.array([0, 0])
            )
            edges.append((last, "readout_pool"))
            last, (h, w) = "readout_pool", (pool, pool)
        nodes["flatten"] = nir.Flatten(input_type=np.array([c, h, w]), start_dim=0, end_dim=-1)
        nodes["readout"] = nir.Affine(
            weight=_np(net.readout.weight), bias=_np(net.readout.bias)
        )
        k_out = net.n_classes
        nodes["readout_li"] = nir.LI(
            tau=np.full(k_out, cfg.readout.tau_m, dtype=np.float32),
            r=np.ones(k_out, dtype=np.float32),
            v_leak=np.zeros(k_out, dtype=np.float32),
        )
        nodes["output"] = nir.Output(output_type=np.array([k_out]))
        edges += [
            (last, "flatten"),
            ("flatten", "readout"),
            ("readout", "readout_li"),
            ("readout_li", "output"),
        ]
    else:
        nodes["output"] = nir.Output(output_type=np.array([c, h, w]))
        edges.append((last, "output"))

    metadata = {
        "format": FORMAT,
        "skipsnn_version": __version__,
        "method": method,
        "dt": float(cfg.dt),
        "network_config": json.dumps(_network_dict(cfg)),
        **CONVENTIONS,
    }
    if thetas is not None:
        metadata["not_in_graph"] = (
            "the STDP readout (logistic regression on spike counts pooled over space and "
            "time windows, fitted with scikit-learn) and the winner-take-all competition "
            "between channels"
        )
    try:
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)
    except ValueError as e:  # a shape nir's own type check refuses
        raise NIRError(f"nir refused the graph: {e}") from None


def _network_dict(cfg) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(cfg)


def write_nir(graph, path) -> None:
    """Write ``graph`` to ``path`` (HDF5 through `nir.write`), atomically."""
    import os
    import tempfile
    from pathlib import Path

    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # h5py reads back what it writes, so the temporary file is written by name.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        nir.write(tmp, graph)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_nir(path):
    """Read a NIR file (HDF5 through `nir.read`; nothing is unpickled)."""
    import nir

    try:
        return nir.read(path)
    except (OSError, KeyError, ValueError, AssertionError) as e:
        raise NIRError(f"cannot read {path} as a NIR graph ({e})") from None


# ---------------------------------------------------------------------------------------
# NIR -> MMNDNet
# ---------------------------------------------------------------------------------------


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

    layers, convs, adapters, skips = [], [], {}, []
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
                raise NIRError(f"{conv!r} into {lif!r} is neither its layer's convolution nor a skip")
        if main is None:
            raise NIRError(f"{lif!r} has no convolution from the layer below it")
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
        v_th, v_reset = _one(node.v_threshold, lif, "v_threshold"), _one(node.v_reset, lif, "v_reset")
        if i == 1:
            shared = (v_th, v_reset)
        elif (v_th, v_reset) != shared:
            raise NIRError(f"{lif!r} has another v_threshold or v_reset than {lifs[0]!r}")

    for (s, e), conv in adapters.items():
        node = nodes[conv]
        w = np.asarray(node.weight)
        if w.shape[-2:] != (1, 1) or _pair(node.stride) != (1, 1) or np.any(np.asarray(node.bias)):
            raise NIRError(f"skip {conv!r} is not a 1x1 convolution without bias and stride")
        src_nodes = pred[conv]
        if kind[src_nodes[0]] == "AvgPool2d":
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
    dt = _time_step(meta, dt)
    stored = _stored_network(meta)
    dyns = _dynamics(params, [layer["channels"] for layer in layers], stored)
    network = {
        **{k: stored[k] for k in ("surrogate", "surrogate_width", "learn_dynamics") if k in stored},
        "layers": layers,
        "n_dynamic": len(dyns),
        "dynamics": [{"a": a, "tau_m": t, "r_m": r} for a, t, r in dyns],
        "v_th": shared[0],
        "v_reset": shared[1],
        "dt": dt,
        "skip": {"n_skip": n_skip, "l_start": l_start, "l_end": l_end},
        "readout": {"tau_m": readout["tau"], "pool": readout["pool"]},
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
            col = {k: torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1, 1)
                   for k, v in (("a", a), ("tau", tau), ("r", r))}
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
    kinds = [kind[n] for n in chain]
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
        raise NIRError(f"{chain[2]!r} has r != 1 or v_leak != 0, which the mMND readout cannot hold")
    return {
        "pool": pool,
        "weight": np.asarray(affine.weight),
        "bias": np.asarray(affine.bias),
        "tau": _one(li.tau, chain[2], "tau"),
    }


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
