"""skipsnn -> NIR -> snnTorch and Norse: spikes per layer and logits on the same input.

The network (``configs/gestures.yaml``'s mMND with seeded weights, or the graph of a
trained run given with ``--nir``) is written to NIR with `skipsnn.export.to_nir`, read
back from the file, and imported by each peer's own NIR importer
(``snntorch.import_nir.import_from_nir``, ``norse.torch.from_nir``). Each peer runs the
same input spikes, one sample at a time (NIR shapes have no batch axis, and the
importers map ``nir.Flatten(start_dim=0)`` to ``torch.nn.Flatten(0)``), one step per
call, and its spikes per layer and logits are compared with skipsnn's.

Three rows per peer:

- ``as exported``: the graph as `to_nir` writes it. A peer that cannot import a node
  reports its error text here.
- ``faithful``: the same parameters, with only what the peer's importer cannot map
  replaced by an exact equivalent or moved out: the readout ``LI`` (neither importer maps
  it) is run here on the peer's Affine output (``u = beta u + (1 - beta) drive``, logits
  its time mean), and for Norse, whose importer maps no ``AvgPool2d``, each skip's
  average pool becomes a ``SumPool2d`` with ``1 / k^2`` folded into the 1x1 convolution.
  Differences here come from the peer's own reading of NIR's equations (its time step,
  forward Euler, ignored ``r``).
- ``adapted``: additionally the LIF parameters rewritten so that the peer's discrete
  step equals skipsnn's: ``tau'`` with ``1 - dt'/tau' = exp(-dt/tau)`` (``dt'`` the peer's
  time step), the input gain ``R/tau`` folded into the incoming convolutions per channel,
  and for snnTorch (which requires ``v_leak = 0``) ``a (1 - exp(-dt/tau))`` as a bias of
  the layer's convolution. This shows what it takes to run an mMND network there.

For Norse also ``faithful, AvgPool2d kept`` (what its importer does with an average pool:
the outcome changes from run to run, see docs/nir.md), ``norse/nir_to_torch`` (Norse's
node mapping under ``nirtorch.nir_to_torch`` instead of the deprecated ``nirtorch.load``
that ``norse.torch.from_nir`` uses) and ``adapted, v starts at v_reset``. Each run also
imports an STDP graph (per-channel thresholds, no readout) into each peer.

Environment (as for the speed benchmark; see docs/nir.md)::

    .venv-bench/bin/python benchmarks/nir_roundtrip.py --out runs/nir
    .venv-bench/bin/python benchmarks/nir_roundtrip.py --nir model.nir --out runs/nir-run
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata as md
import json
import math
import platform
import sys
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
SNNTORCH_DT = 1e-4  # fixed inside snntorch.import_nir (1.0.0)


def reference_net(nir_path: Path | None, seed: int, dynamics: str | None = None):
    """The skipsnn network: from a NIR file, else configs/gestures.yaml seeded (with
    ``dynamics`` "a,tau_m,r_m;..." instead of its own if given)."""
    from skipsnn.config import Config, default_config
    from skipsnn.export import from_nir, read_nir
    from skipsnn.network import build_network

    if nir_path is not None:
        return from_nir(read_nir(nir_path))
    path = ROOT / "configs" / "gestures.yaml"
    cfg = Config.load(path) if path.exists() else default_config("gestures")
    if dynamics:
        cfg = cfg.with_dynamics([[float(v) for v in d.split(",")] for d in dynamics.split(";")])
    torch.manual_seed(seed)
    net = build_network(cfg)
    with torch.no_grad():  # as in bench_speed: weights x4 so that the layers spike
        for conv in net.convs:
            conv.weight.mul_(4.0)
        for adapter in net.adapters.values():
            adapter.weight.mul_(4.0)
    return net


# -- graph rewrites -----------------------------------------------------------------------


def readout_outside(graph):
    """The graph with ``readout_li`` removed (Output after the Affine) and the LI's tau."""
    import nir

    g = copy.deepcopy(graph)
    tau = float(np.unique(g.nodes["readout_li"].tau)[0])
    k = g.nodes["readout"].weight.shape[0]
    del g.nodes["readout_li"]
    g.nodes["output"] = nir.Output(output_type=np.array([k]))
    g.edges = [e for e in g.edges if "readout_li" not in e] + [("readout", "output")]
    return nir.NIRGraph(nodes=g.nodes, edges=g.edges, metadata=g.metadata), tau


def sum_pools(graph):
    """Each skip's AvgPool2d as a SumPool2d, 1/k^2 folded into the 1x1 convolution after it."""
    import nir

    nodes, edges = dict(graph.nodes), list(graph.edges)
    for name, node in list(nodes.items()):
        if isinstance(node, nir.AvgPool2d) and name.startswith("skip"):
            k = np.asarray(node.kernel_size)
            nodes[name] = nir.SumPool2d(
                kernel_size=k, stride=np.asarray(node.stride), padding=np.asarray(node.padding)
            )
            (conv,) = [b for a, b in edges if a == name]
            c = nodes[conv]
            c.weight = (c.weight / float(np.prod(k))).astype(np.float32)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata)


def adapt(graph, peer_dt: float, zero_leak: bool):
    """LIF parameters for a peer whose step is ``v += dt'/tau' ((v_leak - v) + r' I)``
    (Norse) or ``v = beta v + I`` with ``beta = 1 - dt'/tau'`` (snnTorch)."""
    import nir

    g = copy.deepcopy(graph)
    dt = float(g.metadata["dt"])
    for name, node in g.nodes.items():
        if not isinstance(node, nir.LIF):
            continue
        q = np.exp(-dt / node.tau)  # skipsnn's decay per step
        gain = node.r / node.tau  # skipsnn's jump per unit input
        tau_p = peer_dt / (1.0 - q)
        c = node.tau[:, 0, 0].size
        if zero_leak:  # snnTorch: v = beta v + I, input gain 1 (r' = tau'/dt')
            scale, r_p = gain, tau_p / peer_dt
            bias = (node.v_leak * (1.0 - q))[:, 0, 0]
        else:  # Norse: input gain dt'/tau' (r ignored)
            scale, r_p = gain / (peer_dt / tau_p), node.r
            bias = None
        for src, dst in g.edges:
            if dst == name:  # every convolution into this LIF
                conv = g.nodes[src]
                conv.weight = (conv.weight * scale[:, 0, 0].reshape(c, 1, 1, 1)).astype(np.float32)
                if bias is not None and not src.startswith("skip"):
                    conv.bias = bias.astype(np.float32)
        node.tau = tau_p.astype(np.float32)
        node.r = r_p.astype(np.float32)
        if zero_leak:
            node.v_leak = np.zeros_like(node.v_leak)
    return nir.NIRGraph(nodes=g.nodes, edges=g.edges, metadata=g.metadata)


# -- running the peers ----------------------------------------------------------------------


def import_peer(peer: str, graph, dt: float):
    """The peer's module for ``graph``: ``snntorch``, ``norse`` (``norse.torch.from_nir``)
    or ``norse/nir_to_torch`` (Norse's node mapping under ``nirtorch.nir_to_torch``)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # snnTorch prints whole arrays
        if peer == "snntorch":
            from snntorch.import_nir import import_from_nir

            return import_from_nir(graph)
        if peer == "norse":
            import norse.torch as norse

            return norse.from_nir(graph, dt=dt)
        import functools

        import nir
        import nirtorch
        from norse.torch.utils.import_nir import _import_norse_module

        f = functools.partial(_import_norse_module, dt=dt)
        kinds = (nir.LIF, nir.Conv2d, nir.Affine, nir.Flatten, nir.SumPool2d)
        return nirtorch.nir_to_torch(graph, {k: f for k in kinds})


def run_peer(peer: str, module, x: torch.Tensor, lif_names: list[str], v0=None):
    """Spikes per LIF ``[T, B, ...]`` and outputs ``[T, B, ...]`` of the imported module.

    ``v0`` (``norse/nir_to_torch`` only): ``{lif: v_reset array}``, the potential each
    LIF starts from instead of Norse's ``v_leak``."""
    recorded: dict[str, list] = {n: [] for n in lif_names}
    hooks = []
    named = dict(module.named_modules())
    for n in lif_names:
        sub = named.get(n)
        if sub is None:
            raise RuntimeError(f"the imported module has no submodule {n!r}")

        def hook(_m, _inp, out, n=n):
            recorded[n].append((out[0] if isinstance(out, tuple) else out).detach().clone())

        hooks.append(sub.register_forward_hook(hook))
    outs = []
    try:
        for b in range(x.shape[0]):
            state = None
            if v0 is not None:
                from norse.torch.functional.lif_box import LIFBoxFeedForwardState

                state = {n: LIFBoxFeedForwardState(v=torch.as_tensor(v)) for n, v in v0.items()}
            for m in module.modules():  # snnTorch keeps the potential inside the module
                if hasattr(m, "reset_mem"):
                    m.reset_mem()
            seq = []
            for t in range(x.shape[1]):
                if peer == "snntorch":
                    y = module(x[b, t])
                    y = y[0] if isinstance(y, tuple) else y
                else:
                    y, state = module(x[b, t], state)
                seq.append(y.detach().clone())
            outs.append(torch.stack(seq))
    finally:
        for h in hooks:
            h.remove()
    t = x.shape[1]
    spikes = {
        n: torch.stack([torch.stack(v[b * t : (b + 1) * t]) for b in range(x.shape[0])], 1)
        for n, v in recorded.items()
    }
    return spikes, torch.stack(outs, 1)


def li_logits(drive: torch.Tensor, tau: float, dt: float) -> torch.Tensor:
    """skipsnn's readout on a drive ``[T, B, K]``: ``u = beta u + (1 - beta) drive``, mean."""
    beta = math.exp(-dt / tau)
    u, us = torch.zeros_like(drive[0]), []
    for d in drive:
        u = beta * u + (1 - beta) * d
        us.append(u)
    return torch.stack(us).mean(0)


def compare(ref, spikes: dict, logits: torch.Tensor) -> dict:
    layers = []
    for i, s_ref in enumerate(ref.spikes, start=1):
        s = spikes[f"lif{i}"].to(s_ref.dtype).reshape(s_ref.shape)
        layers.append(
            {
                "layer": i,
                "rate_skipsnn": s_ref.mean().item(),
                "rate_peer": s.mean().item(),
                "mismatch": (s != s_ref).float().mean().item(),
                # per step: how the differences start and grow
                "mismatch_per_step": (s != s_ref).flatten(1).float().mean(1).tolist(),
            }
        )
    out = {"layers": layers, "max_abs_logit": ref.logits.abs().max().item()}
    if logits is None:
        return out
    logits = logits.to(ref.logits.dtype)
    return {
        **out,
        "max_abs_dlogit": (logits - ref.logits).abs().max().item(),
        "argmax_agree": (logits.argmax(1) == ref.logits.argmax(1)).float().mean().item(),
    }


def one_row(peer, mode, graph, ref, x, dt_peer, dt, lif_names, li_tau, v0=None):
    row = {"peer": peer, "mode": mode}
    try:
        module = import_peer(peer, graph, dt_peer)
        spikes, out = run_peer(peer, module, x, lif_names, v0)
        k = ref.logits.shape[1]
        if tuple(out.shape[2:]) != (k,):
            row["output_error"] = (
                f"the module returns a {list(out.shape[2:])} tensor, not the Output's [{k}]"
            )
            logits = None
        else:
            logits = out.mean(0) if li_tau is None else li_logits(out, li_tau, dt)
        row.update(compare(ref, spikes, logits))
    except Exception as e:  # noqa: BLE001 (the peer's own error is the result)
        lines = traceback.format_exception_only(type(e), e)
        row["error"] = " ".join(line.strip() for line in lines)[:400]
    return row


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("torch", "nir", "nirtorch", "snntorch", "norse"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--nir",
        type=Path,
        help="a graph written by `skipsnn export` (default: "
        "configs/gestures.yaml with seeded weights)",
    )
    ap.add_argument("--out", type=Path, default=Path("runs/nir"), help="output folder")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rate", type=float, default=0.15, help="input spike probability")
    ap.add_argument(
        "--data",
        help="take the input from the first --batch test samples of this dataset (framed "
        "with its default config) instead of random spikes",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peers", default="snntorch,norse")
    ap.add_argument(
        "--dynamics", help='replace the config\'s dynamics, e.g. "0.2,2,2;-0.3,8,8" (a,tau_m,r_m)'
    )
    args = ap.parse_args(argv)

    import logging

    from skipsnn.export import read_nir, to_nir, write_nir

    logging.disable(logging.WARNING)  # Norse logs one warning per LIF about r
    torch.set_num_threads(1)
    net = reference_net(args.nir, args.seed, args.dynamics)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "model.nir"
    write_nir(to_nir(net), path)
    graph = read_nir(path)  # what the peers see: the file
    dt = float(graph.metadata["dt"])
    if args.data:
        from skipsnn.config import default_config
        from skipsnn.data import load_frames

        ds = default_config(args.data).dataset
        test = load_frames(
            ds.name, "test", n_bins=ds.n_bins, size=ds.size, seed=ds.seed, progress=False
        )
        x = torch.as_tensor(np.asarray(test.x[: args.batch])).float()
    else:
        g = torch.Generator().manual_seed(args.seed + 1)
        shape = (args.batch, args.steps, *net.input_shape)
        x = (torch.rand(shape, generator=g) < args.rate).float()
    with torch.no_grad():
        ref = net(x, record=True)
    lif_names = [f"lif{i}" for i in range(1, len(net.convs) + 1)]
    faithful, li_tau = readout_outside(graph)

    rows = []
    for peer in args.peers.split(","):
        peer_dt = SNNTORCH_DT if peer == "snntorch" else dt
        base = faithful if peer == "snntorch" else sum_pools(faithful)
        adapted = adapt(base, peer_dt, zero_leak=peer == "snntorch")
        runs = [
            ("as exported", graph, None),
            ("faithful", base, li_tau),
            ("adapted", adapted, li_tau),
        ]
        names = [peer] if peer == "snntorch" else ["norse", "norse/nir_to_torch"]
        with torch.no_grad():
            for name in names:
                for mode, gr, tau in runs:
                    rows.append(one_row(name, mode, gr, ref, x, dt, dt, lif_names, tau))
            if peer == "norse":  # Norse maps no AvgPool2d: what happens to the skip then
                mode = "faithful, AvgPool2d kept"
                rows.append(one_row("norse", mode, faithful, ref, x, dt, dt, lif_names, li_tau))
            if peer == "norse":  # the one difference left: where each neuron starts
                v0 = {n: adapted.nodes[n].v_reset for n in lif_names}
                mode = "adapted, v starts at v_reset"
                args_ = (adapted, ref, x, dt, dt, lif_names, li_tau, v0)
                rows.append(one_row("norse/nir_to_torch", mode, *args_))
        print(f"{peer}: done", file=sys.stderr)
    # An STDP export: per-channel thresholds v_th + theta and no readout. Import only.
    thetas = [torch.linspace(0.0, 0.5, c.out_channels) for c in net.convs]
    stdp_path = args.out / "stdp.nir"
    write_nir(to_nir(net, thetas=thetas, method="stdp"), stdp_path)
    stdp_graph = read_nir(stdp_path)
    stdp_rows = []
    for peer in ("snntorch", "norse", "norse/nir_to_torch"):
        if peer.split("/")[0] not in args.peers.split(","):
            continue
        row = {"peer": peer}
        try:
            g_in = stdp_graph if peer == "snntorch" else sum_pools(stdp_graph)
            module = import_peer(peer, g_in, dt)
            lif = dict(module.named_modules())[lif_names[0]]
            p = getattr(lif, "p", None)
            th = getattr(p, "v_th", getattr(lif, "threshold", None))
            row["imports"] = True
            row["thresholds_kept"] = int(torch.as_tensor(th).unique().numel())
        except Exception as e:  # noqa: BLE001
            row["error"] = " ".join(traceback.format_exception_only(type(e), e)).strip()[:300]
        stdp_rows.append(row)
    result = {
        "versions": versions(),
        "network": str(args.nir)
        if args.nir
        else "configs/gestures.yaml, seeded weights x4"
        + (f", dynamics {args.dynamics}" if args.dynamics else ""),
        "input": {"data": args.data, "shape": list(x.shape), "max": x.max().item()}
        if args.data
        else {"batch": args.batch, "steps": args.steps, "rate": args.rate, "seed": args.seed},
        "dt": dt,
        "rows": rows,
        "stdp_import": stdp_rows,
    }
    (args.out / "nir_roundtrip.json").write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    for r in stdp_rows:
        print(
            f"STDP graph in {r['peer']}: "
            + (r.get("error") or f"imports, {r['thresholds_kept']} distinct thresholds in layer 1")
        )
    return 0


def table(result: dict) -> str:
    lines = [
        "| peer | graph | spike mismatch per layer | rate skipsnn / peer | max abs dlogit "
        "(max abs logit) | argmax agree |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['peer']} | {r['mode']} | error: `{r['error']}` | | | |")
            continue
        mism = ", ".join(f"{lay['mismatch']:.4f}" for lay in r["layers"])
        rates = ", ".join(
            f"{lay['rate_skipsnn']:.3f}/{lay['rate_peer']:.3f}" for lay in r["layers"]
        )
        if "max_abs_dlogit" in r:
            dl = f"{r['max_abs_dlogit']:.2e} ({r['max_abs_logit']:.2e})"
            agree = f"{r['argmax_agree']:.2f}"
        else:
            dl, agree = f"none: {r['output_error']}", ""
        lines.append(f"| {r['peer']} | {r['mode']} | {mism} | {rates} | {dl} | {agree} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
