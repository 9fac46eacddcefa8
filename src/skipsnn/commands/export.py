"""``skipsnn export RUN_DIR --format nir --out model.nir``: a trained network for other tools."""

from __future__ import annotations

from pathlib import Path

from ..folders import check_output_file
from ._common import add_json_flag, emit


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a trained run's network to NIR (neuromorphic hardware, other simulators)",
        description="Write the network of a trained run folder as a NIR graph (HDF5), which "
        "snnTorch, Norse, Sinabs, Rockpool, Lava and others read. BPTT runs export the whole "
        "network; STDP runs export the spiking layers with their adaptive thresholds (the "
        "competition and the scikit-learn readout are not expressible). See docs/nir.md.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained run folder")
    p.add_argument("--format", default="nir", choices=("nir",), help="export format (nir)")
    p.add_argument("--out", type=Path, default=Path("model.nir"), help="output file (model.nir)")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..export import export_run

    check_output_file(args.out)  # before the run loads
    res = export_run(args.run_dir, args.out, args.format)
    what = "network with readout" if res["readout"] else "spiking layers (no readout)"
    text = (
        f"wrote {res['out']}: {res['method']} run, {res['spiking_layers']} spiking layers, "
        f"skips {', '.join(res['skips']) or 'none'}, {what}; {res['nodes']} nodes, "
        f"{res['edges']} edges, dt = {res['dt']}"
    )
    return emit(res, args.json, text)
