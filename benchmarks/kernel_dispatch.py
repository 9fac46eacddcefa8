"""Which numbers of one BPTT step depend on the CPU kernels torch dispatches to.

A seeded run is reproduced bitwise only on the same CPU and build (docs/training.md).
This probe asks why, on one host: for the four networks of the pathway ablation (the
config's network with one or two dynamics, with and without the skip, at the budget
`reproduce compare pathways` gives them), one forward and backward pass on a fixed
random batch is computed in a child process under each dispatch setting, and every
output (logits, each layer's spikes, each parameter's gradient) is compared bitwise
with the default setting's. The settings are torch's own switches: ``ATEN_CPU_CAPABILITY``
(ATen's vectorized kernels: avx2 here, "default" = no SIMD) and ``ONEDNN_MAX_CPU_ISA``
(oneDNN's convolutions). Nothing is timed.

    .venv/bin/python benchmarks/kernel_dispatch.py --out benchmarks/results/kernel_dispatch.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SETTINGS = {
    "default": {},
    "ATEN_CPU_CAPABILITY=default": {"ATEN_CPU_CAPABILITY": "default"},
    "ONEDNN_MAX_CPU_ISA=SSE41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
}


def one_step(config: str, out: str) -> None:
    """Child: one forward/backward of every pathway variant, saved to ``out`` (npz)."""
    import torch

    from skipsnn.config import load_config
    from skipsnn.data.catalog import get_dataset_info
    from skipsnn.experiments.protocol import VARIANTS, match_budget, variant_config
    from skipsnn.network import build_network, count_params, input_shape_of

    torch.set_num_threads(1)
    base = load_config(config)
    shape, k = input_shape_of(base), get_dataset_info(base.dataset.name).n_classes
    cfgs = {v.name: variant_config(base, v) for v in VARIANTS}
    budget = max(count_params(c, shape, k) for c in cfgs.values())
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(16, base.dataset.n_bins, *shape, generator=g) < 0.1).float()
    y = torch.randint(0, k, (16,), generator=g)
    saved = {}
    for name, c in cfgs.items():
        torch.manual_seed(0)
        net = build_network(match_budget(c, budget, shape, k), shape, k)
        f = net(x, record=True)
        torch.nn.functional.cross_entropy(f.logits, y).backward()
        saved[f"{name}|logits"] = f.logits.detach().numpy()
        for i, s in enumerate(f.spikes, start=1):
            saved[f"{name}|spikes of layer {i}"] = s.detach().numpy()
        for n, p in net.named_parameters():
            saved[f"{name}|gradient of {n}"] = p.grad.numpy()
    np.savez(out, **saved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/rhythms.yaml")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        one_step(args.config, args.child)
        return
    import torch

    arrays = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in SETTINGS.items():
            path = f"{tmp}/{len(arrays)}.npz"
            cmd = [sys.executable, __file__, "--config", args.config, "--out", "-", "--child", path]
            subprocess.run(cmd, env={**os.environ, **env}, check=True)
            arrays[name] = dict(np.load(path))
    ref = arrays["default"]
    report = {
        "config": args.config,
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "settings": {},
    }
    for name, got in arrays.items():
        if name == "default":
            continue
        differ = {
            key: float(np.abs(got[key].astype(np.float64) - ref[key]).max())
            for key in ref
            if not np.array_equal(got[key], ref[key])
        }
        report["settings"][name] = {"equal": sorted(set(ref) - set(differ)), "differ": differ}
        print(f"{name}: {len(differ)} of {len(ref)} outputs differ from the default")
        for key, d in differ.items():
            print(f"  {key}: largest difference {d:.3g}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
