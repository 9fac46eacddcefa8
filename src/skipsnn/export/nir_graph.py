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
    which NIR cannot express). Raises `NIRError` for a network NIR cannot hold, or one
    with a NaN or infinite parameter (naming the first).
    """
    import nir

    cfg = net.cfg
    nodes: dict[str, Any] = {"input": nir.Input(input_type=np.array(net.input_shape))}
    edges: list[tuple[str, str]] = []
    m = len(net.convs)
    if thetas is not None and len(thetas) != m:
        raise NIRError(f"{len(thetas)} threshold offsets given for {m} spiking layers")
    named = [*net.state_dict().items()]
    named += [(f"threshold offsets of layer {i}", t) for i, t in enumerate(thetas or [], 1)]
    for name, t in named:  # a diverged run: refuse rather than write NaN into the graph
        t = torch.as_tensor(t)
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise NIRError(f"the network's {name} holds NaN or infinite values; not exported")

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
        nodes["readout"] = nir.Affine(weight=_np(net.readout.weight), bias=_np(net.readout.bias))
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would keep the file from others
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
        raise NIRError(
            f"cannot read {path} as a NIR graph ({str(e) or type(e).__name__})"
        ) from None
    except RecursionError:  # nir.read walks the HDF5 groups recursively
        raise NIRError(
            f"cannot read {path} as a NIR graph: its groups nest too deeply or link back "
            "into themselves"
        ) from None
