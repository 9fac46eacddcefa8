"""The NIR graph of a trained run folder, BPTT or STDP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..folders import CHECKPOINT
from .nir_graph import NIRError, to_nir, write_nir


def load_stdp_run(run: Path, cfg) -> tuple[Any, list]:
    """The network and per-channel threshold offsets of a finished STDP run folder.

    The checkpoint holds plain dicts, lists, strings, numbers and tensors, so it loads
    with ``weights_only=True`` (nothing is unpickled).
    """
    from ..network import build_network
    from ..train import checkpoint as ckpt

    path = run / CHECKPOINT
    if not path.exists():
        raise ConfigError(f"{run} has no {CHECKPOINT} to export")
    state = ckpt.load_checkpoint(path)  # safe loading; damaged files are one sentence
    if state.get("method") != "stdp":
        raise ConfigError(f"{path} is not an STDP checkpoint")
    m = len(cfg.network.layers)
    if state.get("layers_done") != m:
        raise ConfigError(
            f"{run} is an unfinished STDP run ({state.get('layers_done')} of {m} layers trained)"
        )
    if state.get("input_shape") is not None:
        input_shape = tuple(int(v) for v in state["input_shape"])
    elif cfg.dataset.size is not None:  # older checkpoints: the framed size of the config
        conv0 = state["net"]["convs.0.weight"]
        input_shape = (int(conv0.shape[1]), cfg.dataset.size, cfg.dataset.size)
    else:
        raise ConfigError(
            f"{path} does not record the input shape and {run}'s config has no dataset.size"
        )
    with ckpt.restoring(path):
        net = build_network(cfg, input_shape, len(state["classes"]))
        net.load_state_dict(state["net"])
        return net, list(state["thetas"])


def export_run(run_dir: str | Path, out: str | Path, fmt: str = "nir") -> dict[str, Any]:
    """Write the graph of the trained run in ``run_dir`` to ``out``; return a summary.

    BPTT runs export the whole network (layers, skips, readout). STDP runs export the
    spiking layers with their per-channel thresholds ``v_th + theta``; the winner-take-all
    competition and the scikit-learn readout are not expressible in NIR and are left out
    (the graph's metadata says so).
    """
    from ..config import Config

    if fmt != "nir":
        raise ConfigError(f"unknown export format {fmt!r}; the only one is nir")
    run = Path(run_dir)
    if not run.is_dir():
        raise ConfigError(f"{run} does not exist or is not a folder")
    if not (run / "config.yaml").exists():
        raise ConfigError(f"{run} is not a run folder (no config.yaml)")
    cfg = Config.load(run / "config.yaml")
    if cfg.train.method == "stdp":
        net, thetas = load_stdp_run(run, cfg)
        graph = to_nir(net, thetas=thetas, method="stdp")
    else:
        from ..train import load_run

        if not (run / CHECKPOINT).exists():
            raise ConfigError(f"{run} has no {CHECKPOINT} to export")
        _, net, _ = load_run(run)
        graph = to_nir(net, method="bptt")
    out = Path(out)
    if out.exists() and out.is_dir():
        raise NIRError(f"{out} is a folder; give a file name such as model.nir")
    try:
        write_nir(graph, out)
    except OSError as e:
        raise NIRError(f"cannot write {out} ({e.strerror or e})") from None
    return {
        "run": str(run),
        "out": str(out),
        "format": fmt,
        "method": cfg.train.method,
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "spiking_layers": len(net.convs),
        "skips": [f"{s}->{e}" for s, e in net.edges],
        "readout": cfg.train.method != "stdp",
        "dt": cfg.network.dt,
    }
