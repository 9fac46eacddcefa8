"""The Triton backend, checked without a GPU.

Triton's interpreter (``TRITON_INTERPRET=1``, read by ``triton.jit`` when the kernels are
defined) runs the kernels on CPU tensors with numpy. The variable must be set before the
Triton backend is first imported, so a normal run of this file starts one subprocess,
``pytest`` on this same file with the variable set, and requires every test there to pass;
the variable never reaches the other tests. In that subprocess the cases of
``test_lif_scan.py`` and ``test_kernels_c.py`` (same inputs, same tolerances as for the C
backend) run with ``backend="triton"``, and a spy checks that the Triton kernels did run.

What the interpreter cannot show is the GPU's own compilation; the test
``test_kernels_compile_for_a_gpu_without_fused_multiply_adds`` compiles both kernels for an
sm_90 GPU (Triton's bundled LLVM and ptxas need no GPU) and checks the PTX.
"""

import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from skipsnn import lif_scan as ls

if importlib.util.find_spec("triton") is None:
    pytest.skip(
        "Triton is not installed (the test extras bring it on Linux x86-64: "
        "pip install -e '.[test]')",
        allow_module_level=True,
    )

IN_INTERPRETER = os.environ.get("TRITON_INTERPRET", "").lower() in ("1", "true", "on", "yes")
KINDS = ["fast_sigmoid", "arctan"]

if not IN_INTERPRETER:
    # --- in the main test process: triton stays unimported until the compile test ---------

    def test_the_kernels_under_the_interpreter_in_a_subprocess():
        skip = ("SKIPSNN_LIF_", "PYTEST_ADDOPTS")  # the subprocess must run the whole file
        env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
        env["TRITON_INTERPRET"] = "1"
        cmd = [sys.executable, "-m", "pytest", __file__, "-o", "addopts=", "-q"]
        cmd += ["-p", "no:cacheprovider"]
        root = Path(__file__).resolve().parents[1]
        r = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=600)
        report = r.stdout[-6000:] + r.stderr[-2000:]
        assert r.returncode == 0, report
        # every test passed: none failed, errored, was skipped or deselected
        assert re.search(r"^\d+ passed in [\d.]+s", r.stdout.strip().splitlines()[-1]), report

    def test_importing_and_running_on_cpu_does_not_import_triton():
        code = (
            "import sys, torch, skipsnn, skipsnn.neuron as n, skipsnn.lif_scan as ls\n"
            "p = n.LIFParams(torch.tensor(0.), torch.tensor(2.), torch.tensor(1.), 1., 0.)\n"
            "x = torch.rand(3, 4)\n"
            "assert ls.resolve_backend(x, 'triton') == 'torch'\n"
            "ls.lif_scan(x, p, backend='triton'); ls.lif_scan(x, p)\n"
            "assert 'triton' not in sys.modules, 'triton was imported'\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]

    def test_auto_goes_by_the_device(monkeypatch):
        """CPU: the C kernel (torch without a compiler); CUDA: Triton; other devices: torch."""
        cpu = torch.zeros(2)
        assert ls.resolve_backend(cpu, "auto") == ("c" if ls.c_backend_error() is None else "torch")
        assert ls.resolve_backend(torch.zeros(2, device="meta"), "auto") == "torch"
        assert ls.resolve_backend(cpu.double(), "auto") == "torch"
        assert not ls.triton_interpreter_active()
        # A stand-in for a CUDA tensor (there is no GPU here): only device, dtype are read.
        cuda = types.SimpleNamespace(
            device=torch.device("cuda"), is_cuda=True, dtype=torch.float32
        )
        monkeypatch.setattr(ls, "_load_triton", lambda: types.ModuleType("triton_backend"))
        assert ls.resolve_backend(cuda, "auto") == "triton"
        assert ls.resolve_backend(cuda, "c") == "torch"
        cuda.dtype = torch.float16
        assert ls.resolve_backend(cuda, "auto") == "torch"
        cuda.dtype = torch.float32
        monkeypatch.setattr(ls, "_load_triton", lambda: None)  # Triton missing
        assert ls.resolve_backend(cuda, "auto") == "torch"

    def test_kernels_compile_for_a_gpu_without_fused_multiply_adds(tmp_path, monkeypatch):
        """The launch asks for enable_fp_fusion=False: an a + b * c fused into one rounding
        would break the forward's bitwise equality with torch's separate kernels."""
        monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))
        import triton
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource

        from skipsnn.kernels import triton_backend as tb

        def ptx(fn, names, pointers, scalars, constexprs, fusion):
            sig = {n: "*fp32" for n in pointers} | scalars | {n: "constexpr" for n in constexprs}
            sig = {n: sig[n] for n in names}
            src = ASTSource(fn=fn, signature=sig, constexprs=constexprs)
            target = GPUTarget("cuda", 90, 32)
            compiled = triton.compile(src, target=target, options={"enable_fp_fusion": fusion})
            assert compiled.asm["cubin"]  # ptxas assembled it
            return compiled.asm["ptx"]

        fwd_names = tb._forward_kernel.arg_names
        fwd = dict(
            names=fwd_names,
            pointers=fwd_names[:7],
            scalars={"T": "i32", "N": "i32", "pstride": "i32", "psize": "i32"}
            | {"vth": "fp32", "vreset": "fp32"},
            constexprs={"ZERO_A": False, "KEEP_H": True, "HALF": False, "BLOCK": 1024},
        )
        plain = ptx(tb._forward_kernel, **fwd, fusion=False)
        assert "mul.rn.f32" in plain and "add.rn.f32" in plain and "fma" not in plain
        assert "fma.rn.f32" in ptx(tb._forward_kernel, **fwd, fusion=True)  # the check bites
        bwd_names = tb._backward_kernel.arg_names
        bwd = ptx(
            tb._backward_kernel,
            names=bwd_names,
            pointers=bwd_names[:6],
            scalars={n: "i32" for n in ("T", "N", "last", "pstride", "psize")}
            | {"width": "fp32"},
            constexprs={"KIND": 1, "HAS_GS": True, "BLOCK": 1024},
            fusion=False,
        )
        assert "fma" not in bwd

else:
    # --- under the interpreter: the Triton backend on CPU tensors ---------------------------
    import test_kernels_c as kc
    import test_lif_scan as base
    from skipsnn.kernels import triton_backend as tb

    @pytest.fixture
    def ran(monkeypatch):
        """Counts the Triton backend's forward and backward calls."""
        calls = {"forward": 0, "backward": 0}
        for name in calls:

            def spy(*args, _real=getattr(tb, name), _name=name):
                calls[_name] += 1
                return _real(*args)

            monkeypatch.setattr(tb, name, spy)
        return calls

    def _check_ran(ran, backward=True):
        assert ran["forward"] > 0, "the Triton forward did not run"
        assert ran["backward"] > 0 or not backward, "the Triton backward did not run"

    def test_the_interpreter_runs_the_triton_backend_on_cpu():
        assert tb.INTERPRETED and ls.triton_interpreter_active()
        x = torch.zeros(3, 2)
        assert ls.resolve_backend(x, "triton") == "triton"
        assert ls.resolve_backend(x, "triton", "float16") == "triton"
        assert ls.resolve_backend(x.double(), "triton") == "torch"  # float32 only
        assert ls.resolve_backend(x, "auto") == ("c" if ls.c_backend_error() is None else "torch")
        assert "triton" in ls.available_backends()

    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("shape,channels,trailing", base.SHAPES)
    def test_forward_and_input_gradient(ran, kind, shape, channels, trailing):
        base.test_matches_reference_forward_and_input_gradient(
            "triton", kind, shape, channels, trailing
        )
        _check_ran(ran)

    @pytest.mark.parametrize("kind", KINDS)
    def test_learnable_dynamics_and_v0(ran, kind):
        base.test_gradients_of_learnable_dynamics_and_v0("triton", kind)
        _check_ran(ran)

    def test_inference_without_grad(ran):
        base.test_inference_without_grad_matches("triton")
        _check_ran(ran, backward=False)

    def test_only_spike_output_used(ran):
        base.test_only_spike_output_used("triton")
        _check_ran(ran)

    def test_channels_last_input_keeps_its_layout(ran):
        base.test_channels_last_input_keeps_its_layout("triton")
        _check_ran(ran)

    @pytest.mark.parametrize("kind", KINDS)
    def test_half_precision_saved_state(ran, kind):
        base.test_half_precision_saved_state_halves_memory_with_small_gradient_error("triton", kind)
        _check_ran(ran)

    def test_half_precision_tiny_negative_margin(ran):
        base.test_half_precision_keeps_a_tiny_negative_margin_non_spiking("triton")
        _check_ran(ran)

    @pytest.mark.parametrize("kind", ["scalar", "channel", "last_dim", "neuron"])
    @pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
    def test_parameter_shapes_and_layouts(ran, kind, layout):
        base.test_parameter_shapes_and_layouts("triton", kind, layout)
        _check_ran(ran)

    @pytest.mark.parametrize("save", ["full", "float16"])
    def test_per_neuron_dynamics(ran, save):
        kc.check_per_neuron_dynamics("triton", save)
        _check_ran(ran)

    def test_several_programs_and_a_partial_last_block(ran, monkeypatch):
        """144 neurons in blocks of 64: three programs, the last one masked at 16."""
        monkeypatch.setattr(tb, "BLOCK", 64)
        base.test_gradients_of_learnable_dynamics_and_v0("triton", "arctan")
        base.test_channels_last_input_keeps_its_layout("triton")
        _check_ran(ran)

    def test_input_not_time_major(ran):
        """A [B, T, N] buffer seen as [T, B, N] is copied to a dense time-major one first."""
        x = base._inputs((5, 13, 6), seed=17).transpose(0, 1)  # [T=13, B=5, N=6], B outermost
        p = base._params(6, 0)
        sr, vr, gr = base._run(base.lif_multistep_reference, x, p, None, "arctan", True)
        sf, vf, gf = base._run(ls.lif_scan, x, p, None, "arctan", True, backend="triton")
        assert torch.equal(sf, sr) and torch.equal(vf, vr)
        for a, b in zip(gf, gr, strict=True):
            torch.testing.assert_close(a, b, rtol=2e-4, atol=2e-5)
        _check_ran(ran)
