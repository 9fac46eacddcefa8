"""benchmarks/kernel_dispatch.py compares every output of one step, and only real changes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("kd", ROOT / "benchmarks" / "kernel_dispatch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_step_saves_every_output_of_the_four_networks(tmp_path):
    kd = _script()
    kd.one_step(str(ROOT / "configs" / "rhythms.yaml"), str(tmp_path / "a.npz"))
    kd.one_step(str(ROOT / "configs" / "rhythms.yaml"), str(tmp_path / "b.npz"))
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    nets = {k.split("|")[0] for k in a.files}
    assert len(nets) == 4
    for n in nets:
        assert {f"{n}|logits", f"{n}|spikes of layer 1", f"{n}|spikes of layer 2"} <= set(a.files)
        grads = [k for k in a.files if k.startswith(f"{n}|gradient of ")]
        assert len(grads) == (5 if ", skip" in n else 4)  # 2 convs, readout w and b, adapter
    # The same setting twice gives the same numbers: a difference the probe reports is real.
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert any(np.abs(a[k]).sum() > 0 for k in a.files if "gradient" in k)


def test_report_names_what_differs(tmp_path, monkeypatch):
    kd = _script()
    # Two child processes with the same kernels: all 30 outputs (4 logits, 8 spike
    # trains, 18 gradients) are compared and none differs. (Whether other kernels change
    # them depends on the CPU, so that is measured in the benchmark, not asserted here.)
    monkeypatch.setattr(kd, "SETTINGS", {"default": {}, "again": {}})
    out = tmp_path / "r.json"
    monkeypatch.setattr(sys, "argv", ["kd", "--out", str(out)])
    monkeypatch.chdir(ROOT)
    kd.main()
    report = json.loads(out.read_text())["settings"]
    assert report["again"]["differ"] == {} and len(report["again"]["equal"]) == 30
