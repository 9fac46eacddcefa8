"""The LIF scan on a CUDA device (Triton and torch backends) against the CPU reference.

These run where a GPU is: benchmarks/gpu_check.sh calls this file on the GPU machine.
Without CUDA the whole module is skipped, with that reason; the same kernels are checked
on the CPU under Triton's interpreter by tests/test_kernels_triton.py.
"""

import pytest
import torch

from skipsnn import lif_scan as ls
from skipsnn.network import build_network
from test_bptt import tiny_cfg
from test_lif_scan import SHAPES, _inputs, _params, _run

if not torch.cuda.is_available():
    pytest.skip("no CUDA device (run on a GPU machine: benchmarks/gpu_check.sh)", allow_module_level=True)

CUDA = torch.device("cuda")


def _to(p, device):
    return p._replace(**{f: getattr(p, f).to(device) for f in ("a", "tau_m", "r_m")})


@pytest.mark.parametrize("backend", ["triton", "torch"])
@pytest.mark.parametrize("kind", ["fast_sigmoid", "arctan"])
@pytest.mark.parametrize("shape,channels,trailing", SHAPES)
def test_cuda_scan_matches_the_cpu_reference(backend, kind, shape, channels, trailing):
    from skipsnn.neuron import lif_multistep_reference

    x = _inputs(shape, seed=len(shape) + shape[0])
    p = _params(channels, trailing)
    sr, vr, (gr,) = _run(lif_multistep_reference, x, p, None, kind, False)
    assert ls.resolve_backend(x.to(CUDA), backend) == backend
    sf, vf, (gf,) = _run(ls.lif_scan, x.to(CUDA), _to(p, CUDA), None, kind, False, backend=backend)
    # The GPU's exp may differ from the CPU's in the last bit: spikes must agree where
    # the potential is not within rounding of the threshold.
    near = (vr - 1.0).abs() < 1e-5
    assert torch.equal(sf.cpu()[~near], sr[~near])
    torch.testing.assert_close(vf.cpu(), vr, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gf.cpu(), gr, rtol=1e-4, atol=1e-5)


def test_auto_takes_triton_on_cuda():
    assert ls.resolve_backend(torch.zeros(2, 3, device=CUDA)) == "triton"


@pytest.mark.parametrize("precision", ["32", "bf16"])
def test_a_network_step_on_cuda(precision):
    from skipsnn.train.devices import autocast

    net = build_network(tiny_cfg(), (2, 8, 8), 3).to(CUDA)
    x = (torch.rand(4, 5, 2, 8, 8) < 0.2).float().to(CUDA)
    with autocast(CUDA, precision):
        fw = net(x, record=True)
    fw.logits.float().sum().backward()
    assert all(set(s.unique().tolist()) <= {0.0, 1.0} for s in fw.spikes)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
