"""Speed and memory of skipsnn against snnTorch (and SpikingJelly when installed).

One run builds the same networks in every framework, with the same weights and the same
input spikes, and reports, for each ``T``:

- training-step time (forward + loss + backward, no optimizer step),
- inference time (forward under ``torch.no_grad``),
- peak memory of one training step,

as ratios to skipsnn, plus the LIF scan alone against a plain elementwise pass over the
same tensors (the memory-bandwidth bound).

Networks: the default mMND config (``configs/gestures.yaml`` when it exists, else the
built-in defaults of ``skipsnn.config``) and a plain network of three convolutions with
one LIF dynamic per layer and no skips. Their snnTorch twins use ``snn.Leaky`` with
``beta = exp(-dt / tau_m)`` per channel, ``reset_mechanism="zero"``, the convolution
weights scaled by ``R_m / tau_m`` and a bias ``a (1 - beta)``, which is the same
discrete model; ``max|dlogit|`` in the output checks that they compute the same thing.

skipsnn variants: ``skipsnn`` (defaults), ``skipsnn-h16`` (the scan's saved state in
float16, ``SKIPSNN_LIF_SAVE=float16``), ``skipsnn-autograd`` (autograd's own conv2d,
linear and pooling in the contiguous layout instead of `skipsnn.spike_conv` and
channels-last: what the memory savings are measured against), ``skipsnn-reference``
(``neuron.lif_multistep_reference`` instead of the fused scan).

Every (network, T, framework) runs in two fresh subprocesses. One times a warm-up step
and then ``--repeats`` training steps and forward passes, keeping the minimum (the
machine is shared, and the minimum is the least disturbed run). The other runs a single
training step (after a one-step, one-sample warm-up that loads libraries and kernels)
and reports its peak RSS minus the RSS before it (``resource.getrusage``),
with glibc's ``MALLOC_MMAP_THRESHOLD_`` fixed at 64 KiB so that every tensor is mapped
and unmapped and the RSS follows the live memory (with the default, dynamic threshold
freed blocks stay in the heap and the same run measured 108 or 164 MiB).

Run it with the environment that has snnTorch::

    .venv-bench/bin/python benchmarks/bench_speed.py --out runs/bench
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

FRAMEWORKS = (
    "skipsnn",
    "skipsnn-h16",
    "skipsnn-autograd",
    "skipsnn-reference",
    "snntorch",
    "snntorch-layerwise",
    "spikingjelly",
)
NETS = ("mmnd", "plain3", "dvsgesture")  # the last only on request (--nets)


# ---------------------------------------------------------------------------------------
# The networks
# ---------------------------------------------------------------------------------------


def mmnd_config(repo: Path, dataset: str = "gestures"):
    """A dataset's default mMND config: ``configs/<dataset>.yaml`` if present, else built in."""
    from skipsnn.config import default_config, load_config

    path = repo / "configs" / f"{dataset}.yaml"
    if path.exists():
        return load_config(path), str(path.relative_to(repo))
    return default_config(dataset), f"skipsnn.config.default_config({dataset!r})"


def plain3_config():
    """Three stride-2 convolutions (32, 64, 128 channels), one dynamic, no skip."""
    from skipsnn.config import (
        Config,
        DynamicConfig,
        LayerConfig,
        NetworkConfig,
        ReadoutConfig,
        SkipConfig,
    )

    net = NetworkConfig(
        layers=[LayerConfig(32, 3, 2), LayerConfig(64, 3, 2), LayerConfig(128, 3, 2)],
        n_dynamic=1,
        dynamics=[DynamicConfig(0.0, 4.0, 4.0)],
        skip=SkipConfig(0, 0, 0),
        readout=ReadoutConfig(tau_m=8.0, pool=None),
        surrogate="arctan",
        surrogate_width=2.0,
    )
    return Config(network=net).validate(), "three conv layers 32/64/128, stride 2, one dynamic"


def build_skipsnn(name: str, repo: Path, size: int, weight_scale: float = 1.0):
    """The skipsnn network, seeded; weights scaled so that spikes reach every layer."""
    import torch

    from skipsnn.data.catalog import get_dataset_info
    from skipsnn.network import MMNDNet

    if name == "plain3":
        cfg, source = plain3_config()
    else:  # "mmnd": the default (synthetic gestures) config; "dvsgesture": the paper-sized one
        cfg, source = mmnd_config(repo, "gestures" if name == "mmnd" else name)
    torch.manual_seed(0)
    net = MMNDNet(cfg.network, (2, size, size), get_dataset_info(cfg.dataset.name).n_classes)
    with torch.no_grad():
        for conv in [*net.convs, *net.adapters.values()]:
            conv.weight.mul_(weight_scale)
    return net, source


def _scaled_conv(conv, gain, bias):
    """A copy of ``conv`` computing ``gain * conv(x) + bias`` (per output channel)."""
    import torch
    from torch import nn

    out = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        bias=bias is not None,
    )
    with torch.no_grad():
        out.weight.copy_(conv.weight * gain.reshape(-1, 1, 1, 1))
        if bias is not None:
            out.bias.copy_(bias.reshape(-1))
    return out


class Twin:
    """Shared translation of an `MMNDNet` into per-layer (conv, adapters, decay, threshold)."""

    def __init__(self, ref):
        import torch
        from torch import nn

        cfg = ref.cfg
        if cfg.v_reset != 0.0:
            raise SystemExit("the snnTorch twin needs v_reset = 0 (reset to zero)")
        self.ref, self.cfg, self.edges = ref, cfg, ref.edges
        self.convs, self.adapters, self.decays = nn.ModuleList(), nn.ModuleDict(), []
        for i, conv in enumerate(ref.convs, start=1):
            p = ref.layer_params(i)
            decay, gain = p.decay(cfg.dt).detach(), p.gain().detach()
            rest = p.a.detach() * (1 - decay)
            bias = rest if bool(rest.any()) else None
            self.convs.append(_scaled_conv(conv, gain, bias))
            for s, e in ref.edges:
                if e == i:
                    self.adapters[f"{s}->{e}"] = _scaled_conv(ref.adapters[f"{s}->{e}"], gain, None)
            self.decays.append(decay.clone())
        self.readout = nn.Linear(ref.readout.in_features, ref.readout.out_features)
        with torch.no_grad():
            self.readout.weight.copy_(ref.readout.weight)
            self.readout.bias.copy_(ref.readout.bias)

    def adapt(self, s, src, dst):
        import torch.nn.functional as F

        _, h, w = self.ref.shapes[dst]
        if s.shape[-2:] != (h, w):
            s = F.adaptive_avg_pool2d(s, (h, w))
        return self.adapters[f"{src}->{dst}"](s)

    def readout_logits(self, drive):
        """Leaky-integrator readout over ``drive`` ``[T, B, K]``, as in skipsnn."""
        import torch

        beta = self.ref.readout_decay()
        u = torch.zeros_like(drive[0])
        total = torch.zeros_like(drive[0])
        for n in range(drive.shape[0]):
            u = beta * u + (1.0 - beta) * drive[n]
            total = total + u
        return total / drive.shape[0]


def build_snntorch(ref, layerwise: bool):
    import snntorch as snn
    import snntorch.surrogate as sur
    import torch
    from torch import nn

    cfg = ref.cfg
    if cfg.surrogate == "arctan":
        spike_grad = sur.atan(alpha=cfg.surrogate_width)
    else:
        spike_grad = sur.fast_sigmoid(slope=cfg.surrogate_width)

    class SnnTorchNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.twin = Twin(ref)
            self.convs, self.adapters = self.twin.convs, self.twin.adapters
            self.readout = self.twin.readout
            self.lifs = nn.ModuleList(
                snn.Leaky(beta=d, threshold=cfg.v_th, spike_grad=spike_grad, reset_mechanism="zero")
                for d in self.twin.decays
            )

        def forward_steps(self, x):
            """snnTorch's usual loop: every layer advances one time step at a time."""
            b, t = x.shape[:2]
            mems = [lif.init_leaky() for lif in self.lifs]
            drives = []
            for n in range(t):
                outs = [x[:, n]]
                for i, (conv, lif) in enumerate(zip(self.convs, self.lifs, strict=True), 1):
                    cur = conv(outs[i - 1])
                    for s, e in self.twin.edges:
                        if e == i:
                            cur = cur + self.twin.adapt(outs[s], s, e)
                    spk, mems[i - 1] = lif(cur, mems[i - 1])
                    outs.append(spk)
                drives.append(self.readout(ref.readout_features(outs[-1])))
            return self.twin.readout_logits(torch.stack(drives))

        def forward_layers(self, x):
            """Convolutions over all steps at once, then snn.Leaky looped over time."""
            b, t = x.shape[:2]
            outs = [x.transpose(0, 1).reshape(t * b, *x.shape[2:])]
            for i, (conv, lif) in enumerate(zip(self.convs, self.lifs, strict=True), 1):
                cur = conv(outs[i - 1])
                for s, e in self.twin.edges:
                    if e == i:
                        cur = cur + self.twin.adapt(outs[s], s, e)
                cur = cur.reshape(t, b, *cur.shape[1:])
                mem = lif.init_leaky()
                spikes = []
                for n in range(t):
                    spk, mem = lif(cur[n], mem)
                    spikes.append(spk)
                outs.append(torch.stack(spikes).reshape(t * b, *cur.shape[2:]))
            drive = self.readout(ref.readout_features(outs[-1])).reshape(t, b, -1)
            return self.twin.readout_logits(drive)

        def forward(self, x):
            return self.forward_layers(x) if layerwise else self.forward_steps(x)

    return SnnTorchNet()


def build_spikingjelly(ref):
    from spikingjelly.activation_based import neuron, surrogate
    from torch import nn

    cfg = ref.cfg
    if cfg.surrogate != "arctan":
        raise SystemExit("SpikingJelly has no fast-sigmoid surrogate of the same scale")
    if ref.edges or cfg.n_dynamic != 1:
        raise SystemExit("SpikingJelly's LIFNode has one tau per layer (no per-channel dynamics)")

    class SJNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.twin = Twin(ref)
            self.convs, self.readout = self.twin.convs, self.twin.readout
            # decay_input=False, v_reset=0: H = V (1 - 1/tau) + X, so 1 - 1/tau = decay
            self.lifs = nn.ModuleList(
                neuron.LIFNode(
                    tau=1.0 / (1.0 - float(d.reshape(-1)[0])),
                    decay_input=False,
                    v_threshold=cfg.v_th,
                    v_reset=0.0,
                    surrogate_function=surrogate.ATan(alpha=cfg.surrogate_width),
                    detach_reset=True,
                    step_mode="m",
                )
                for d in self.twin.decays
            )

        def forward(self, x):
            from spikingjelly.activation_based import functional

            functional.reset_net(self)
            b, t = x.shape[:2]
            out = x.transpose(0, 1).reshape(t * b, *x.shape[2:])
            for conv, lif in zip(self.convs, self.lifs, strict=True):
                cur = conv(out)
                spk = lif(cur.reshape(t, b, *cur.shape[1:]))
                out = spk.reshape(t * b, *spk.shape[2:])
            drive = self.readout(ref.readout_features(out)).reshape(t, b, -1)
            return self.twin.readout_logits(drive)

    return SJNet()


# ---------------------------------------------------------------------------------------
# One measurement (runs in a fresh subprocess)
# ---------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def use_plain_autograd_ops() -> None:
    """`MMNDNet` with autograd's own conv2d / linear / pooling and the contiguous layout.

    That is the network before `skipsnn.spike_conv` (which saves binary inputs as bytes
    and pooled inputs not at all) and before channels-last became the default.
    """
    import types

    import torch.nn.functional as F

    from skipsnn import network

    network.spike_conv = types.SimpleNamespace(
        conv2d=lambda x, w, stride=(1, 1), padding=(0, 0), source=None: F.conv2d(
            x, w, None, stride, padding
        ),
        linear=F.linear,
        avg_pool=F.adaptive_avg_pool2d,
        flatten=lambda s: s.flatten(1),
    )
    network.time_major_channels_last = lambda x: x.transpose(0, 1).reshape(
        x.shape[0] * x.shape[1], *x.shape[2:]
    )


def worker(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    repo = Path(args.repo)
    ref, source = build_skipsnn(args.net, repo, args.size, args.weight_scale)
    if args.framework == "skipsnn-reference":
        import skipsnn.neuron as neuron

        neuron.lif_multistep = neuron.lif_multistep_reference
    if args.framework == "skipsnn-autograd":
        use_plain_autograd_ops()
    if args.framework.startswith("skipsnn"):
        model = ref
        if args.framework.endswith("-h16"):  # the membrane margin saved in float16
            os.environ["SKIPSNN_LIF_SAVE"] = "float16"
    elif args.framework.startswith("snntorch"):
        model = build_snntorch(ref, layerwise=args.framework == "snntorch-layerwise")
    else:
        model = build_spikingjelly(ref)
    g = torch.Generator().manual_seed(1)
    b, t, k = args.batch, args.T, ref.n_classes
    x = (torch.rand((b, t, 2, args.size, args.size), generator=g) < args.rate).float()
    y = torch.randint(0, k, (b,), generator=g)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step(x=x, y=y):
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    if args.measure == "memory":
        # The first training step of this fresh process, run with a fixed small malloc
        # mmap threshold (set by the driver) so that freed tensors leave the RSS at once.
        train_step(x[:1, :2], y[:1])  # one-time initialisation (libraries, JIT kernels)
        gc.collect()
        rss0, max0 = _rss_bytes(), _maxrss_bytes()
        train_step()
        max1 = _maxrss_bytes()
        # None: the step stayed under an earlier peak, so its own peak is unknown
        return {"peak_train_bytes": max1 - rss0 if max1 > max0 else None}
    train_step()  # warm-up

    def best(fn):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    train_s = best(train_step)
    with torch.no_grad():
        logits = model(x)
        infer_s = best(lambda: model(x))
    rates = []
    if args.framework == "skipsnn":
        with torch.no_grad():
            rates = [float(s.mean()) for s in ref(x, record=True).spikes]
    return {
        "net": args.net,
        "net_source": source,
        "framework": args.framework,
        "T": t,
        "batch": b,
        "train_step_s": train_s,
        "inference_s": infer_s,
        "logits": logits.tolist(),
        "spike_rates": rates,
        "params": sum(p.numel() for p in ref.parameters() if p.requires_grad),
    }


def lif_worker(args) -> dict:
    """The LIF scan alone against an elementwise pass over the same [T, B, C, H, W] tensors.

    The elementwise pass ``y = 0.5 * x`` reads one tensor and writes one, as the inference
    scan must (read x, write s), so it is the memory-bandwidth bound of the scan. Training
    moves three tensors forward (x, s, h) and three backward (grad s, h, grad x): its bound
    is about three elementwise passes.
    """
    import torch

    from skipsnn import lif_scan
    from skipsnn.neuron import Dynamic, channel_params, lif_multistep_reference

    torch.set_num_threads(args.threads)
    shape = (args.T, args.batch, 32, 16, 16)
    g = torch.Generator().manual_seed(0)
    x = 0.3 + 0.5 * torch.randn(shape, generator=g)
    p = channel_params([Dynamic(0.0, 2.0, 2.0), Dynamic(0.0, 8.0, 8.0)], 32)
    grad = torch.randn(shape, generator=g)
    fast = 10 * args.repeats  # ms-scale calls: many repeats, keep the least disturbed

    def interleaved(fns: dict, repeats: int) -> dict:
        """Minimum time of each function, timed in turns so that all see the same load."""
        for fn in fns.values():
            fn()
        best = dict.fromkeys(fns, math.inf)
        for _ in range(repeats):
            for name, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t0)
        return best

    def fwd_bwd(fn):
        xr = x.clone().requires_grad_()
        s, _ = fn(xr)
        s.backward(grad)

    backends = lif_scan.available_backends()
    res = {"shape": list(shape), "bytes_per_tensor": x.numel() * 4}
    with torch.no_grad():
        fns = {"elementwise_s": lambda: x * 0.5}
        fns.update(
            {f"scan_{n}_s": (lambda n=n: lif_scan.lif_scan(x, p, backend=n)) for n in backends}
        )
        res.update(interleaved({k: f for k, f in fns.items() if "torch" not in k}, fast))
        slow = {"scan_reference_s": lambda: lif_multistep_reference(x, p)}
        slow.update({k: f for k, f in fns.items() if "torch" in k})
        res.update(interleaved(slow, args.repeats))
    fns = {"clone_s": lambda: x.clone()}  # part of every train measurement below
    fns.update(
        {
            f"train_{n}_s": (lambda n=n: fwd_bwd(lambda xr: lif_scan.lif_scan(xr, p, backend=n)))
            for n in backends
        }
    )
    res.update(interleaved({k: f for k, f in fns.items() if "torch" not in k}, fast // 2))
    slow = {"train_reference_s": lambda: fwd_bwd(lambda xr: lif_multistep_reference(xr, p))}
    slow.update({k: f for k, f in fns.items() if "torch" in k})
    res.update(interleaved(slow, args.repeats))
    return res


# ---------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------


def _environment(threads: int) -> dict:
    from skipsnn.train.devices import host

    here = host()
    return {
        "cpu": here["cpu"],
        "cores": os.cpu_count(),
        "torch": here["torch"],
        "threads": threads,
        "python": platform.python_version(),
    }


def available_frameworks() -> list[str]:
    import importlib.util

    out = ["skipsnn", "skipsnn-h16", "skipsnn-autograd", "skipsnn-reference"]
    if importlib.util.find_spec("snntorch"):
        out += ["snntorch", "snntorch-layerwise"]
    if importlib.util.find_spec("spikingjelly"):
        out.append("spikingjelly")
    return out


def run_job(args, net: str, t: int, fw: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--net", net, "--framework", fw, "--T", str(t)]
    cmd += ["--batch", str(args.batch), "--size", str(args.size), "--threads", str(args.threads)]
    cmd += ["--repeats", str(args.repeats), "--rate", str(args.rate), "--repo", str(args.repo)]
    cmd += ["--weight-scale", str(args.weight_scale)]
    out = {}
    for measure in ("time", "memory"):
        env = dict(os.environ)
        if measure == "memory":  # glibc: every block above 64 KiB is mapped and unmapped
            env.update(MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="65536")
        r = subprocess.run([*cmd, "--measure", measure], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
            return {"net": net, "framework": fw, "T": t, "error": last}
        out.update(json.loads(r.stdout.strip().splitlines()[-1]))
    return out


def _ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--nets", nargs="+", default=["mmnd", "plain3"], choices=NETS)
    ap.add_argument("--frameworks", nargs="+", default=None, choices=FRAMEWORKS)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=32, help="input frames are 2 x size x size")
    ap.add_argument("--rate", type=float, default=0.15, help="input spike probability per bin")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--weight-scale", type=float, default=4.0, help="conv weights x this (spiking activity)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--out", default=None, help="folder for results.json")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lif-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--net", help=argparse.SUPPRESS)
    ap.add_argument("--framework", help=argparse.SUPPRESS)
    ap.add_argument("--measure", choices=("time", "memory"), default="time", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker or args.lif_worker:
        args.T = args.T[0]
        print(json.dumps(worker(args) if args.worker else lif_worker(args)))
        return 0

    from tqdm import tqdm

    frameworks = args.frameworks or available_frameworks()
    jobs = [(n, t, f) for n in args.nets for t in args.T for f in frameworks]
    results = []
    bar = tqdm(jobs, disable=args.no_progress or not sys.stderr.isatty(), desc="bench")
    for net, t, fw in bar:
        bar.set_postfix_str(f"{net} T={t} {fw}")
        results.append(run_job(args, net, t, fw))
    lif = []
    for t in args.T:
        cmd = [sys.executable, __file__, "--lif-worker", "--T", str(t), "--batch", str(args.batch)]
        cmd += ["--threads", str(args.threads), "--repeats", str(args.repeats)]
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        lif.append({"T": t, **json.loads(r.stdout.strip().splitlines()[-1])})

    # Ratios to skipsnn, and how far each twin's logits are from skipsnn's.
    base = {
        (r["net"], r["T"]): r for r in results if r["framework"] == "skipsnn" and "error" not in r
    }
    for r in results:
        b = base.get((r["net"], r["T"]))
        if b is None or "error" in r:
            continue
        r["train_ratio"] = _ratio(r["train_step_s"], b["train_step_s"])
        r["inference_ratio"] = _ratio(r["inference_s"], b["inference_s"])
        r["memory_ratio"] = _ratio(r["peak_train_bytes"], b["peak_train_bytes"])
        d = [
            abs(p - q)
            for rp, rq in zip(r["logits"], b["logits"], strict=True)
            for p, q in zip(rp, rq, strict=True)
        ]
        r["max_logit_diff"] = max(d)
    for r in results:
        r.pop("logits", None)
    report = {
        "environment": _environment(args.threads),
        "args": vars(args),
        "runs": results,
        "lif": lif,
    }
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "results.json.tmp"
        tmp.write_text(json.dumps(report, indent=2))
        os.replace(tmp, out / "results.json")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def format_report(rep: dict) -> str:
    e = rep["environment"]
    lines = [
        f"CPU: {e['cpu']} ({e['cores']} cores), torch {e['torch']}, threads {e['threads']}",
        f"batch {rep['args']['batch']}, input 2x{rep['args']['size']}x{rep['args']['size']}, "
        f"input spike rate {rep['args']['rate']}, conv weights x{rep['args']['weight_scale']}",
    ]
    for r in rep["runs"]:
        if r["framework"] == "skipsnn" and "error" not in r and r["T"] == rep["args"]["T"][0]:
            rates = ", ".join(f"{v:.3f}" for v in r["spike_rates"])
            lines.append(
                f"{r['net']}: {r['net_source']}; {r['params']} trainable parameters; "
                f"spike rate per layer at T={r['T']}: {rates}"
            )
    lines += [
        "",
        "net        T   framework           train ms  infer ms  peak MiB  train x  infer x  mem x  max|dlogit|",
    ]
    for r in rep["runs"]:
        if "error" in r:
            lines.append(f"{r['net']:10} {r['T']:<3} {r['framework']:19} not run: {r['error']}")
            continue
        mib = None if r["peak_train_bytes"] is None else r["peak_train_bytes"] / 2**20
        lines.append(
            f"{r['net']:10} {r['T']:<3} {r['framework']:19} {r['train_step_s'] * 1e3:8.1f}  "
            f"{r['inference_s'] * 1e3:8.1f}  {_fmt(mib, '8.1f')}  {_fmt(r.get('train_ratio'), '7.2f')}  "
            f"{_fmt(r.get('inference_ratio'), '7.2f')}  {_fmt(r.get('memory_ratio'), '5.2f')}  "
            f"{_fmt(r.get('max_logit_diff'), '.2e')}"
        )
    lines += ["", "LIF scan alone, ms (throughput as a share of one elementwise pass y = 0.5 x):"]
    for r in rep["lif"]:
        e = r["elementwise_s"]
        parts = [f"elementwise {e * 1e3:.2f}"]
        for key in sorted(k for k in r if k.startswith("scan_")):
            parts.append(f"{key[5:-2]} {r[key] * 1e3:.2f} ({e / r[key]:.0%})")
        lines.append(f"T={r['T']} {r['shape']}: " + ", ".join(parts))
        tparts = []
        for key in sorted(k for k in r if k.startswith("train_")):
            tparts.append(f"{key[6:-2]} {r[key] * 1e3:.2f} (x{r[key] / e:.1f})")
        lines.append(
            "   forward+backward incl. a clone of x, in ms (x elementwise passes; bound ~x3): "
            + ", ".join(tparts)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
