r"""Unsupervised STDP for mMND networks, then a readout fitted on the labelled fraction.

**Traces.** Every synapse side keeps an exponentially decaying trace of its spikes::

    x_pre[n]  = x_pre[n-1]  exp(-dt / tau_pre)  + s_pre[n]
    x_post[n] = x_post[n-1] exp(-dt / tau_post) + s_post[n]

**Pair rule** (all-to-all, trace based) on a convolution with shared kernels. With
``U(.)`` the unfold (im2col) of a presynaptic map into kernel-sized patches, and sums
over the batch ``b``, output positions ``l`` and steps ``n``::

    P[o, i] = sum_{n,b,l} s_post[n, b, o, l] * U(x_pre[n])[b, i, l]        (pre before post)
    D[o, i] = sum_{n,b,l} x_post^-[n, b, o, l] * U(s_pre[n])[b, i, l]      (post before pre)
    dW = A+ (w_max - w)^mu * P / N_o  -  (A- D / N_o + A+ x_tar [N_o > 0]) (w - w_min)^mu

``N_o = max(1, number of spikes of output channel o in the batch)``: each channel moves
by the *average* pairing of its own spikes, so the step does not grow with the batch
size or the map size, and a silent channel does not move. A pre and a post spike in the
same step count as causal (the network has no synaptic delay, so that input spike helped
cause the output spike); depression uses the post trace from the step before, so no pair
is counted twice: ``x_post^-[n] = x_post[n-1] exp(-dt / tau_post)`` is the post trace
at step ``n`` just before that step's post spikes. So a pre spike ``k`` steps before a
post spike potentiates by ``A+ (w_max - w)^mu exp(-k dt / tau_pre)``, and a post spike
``k`` steps before a pre spike depresses by ``A- (w - w_min)^mu exp(-k dt / tau_post)``.
``x_tar`` (default 0.5; 0 gives the pure pair rule) is the presynaptic target of Diehl & Cook
(2015): every post spike also depresses each synapse by ``A+ x_tar``, so inputs whose
trace at the post spike is below ``x_tar`` weaken. Without it, all-to-all pairs under
sustained input nearly cancel and inputs silent at the post spike never change, so
kernels do not become selective. ``mu`` sets the weight dependence (0: additive, 1:
multiplicative soft bounds); weights are also clipped to ``[w_min, w_max]`` after every update, so they stay
in bounds whatever the step size.

**Competition.** At each position only the channel whose potential exceeds its threshold
by the most may spike (winner-take-all across channels); the other channels at that
position are reset too (lateral inhibition), so one input patch is claimed by one kernel.

**Adaptive thresholds.** Channel ``c`` fires at ``v >= v_th + theta_c``; during training
``theta_c[n] = theta_c[n-1] exp(-dt / tau_theta) + theta_plus * r_c[n]``, where ``r_c[n]``
is the fraction of positions (over the batch) at which channel ``c`` spiked at step ``n``.
Channels that win often become harder to fire, so the others get to learn. ``theta``
is frozen when features are extracted.

**Neurons.** The membrane is the exact discrete LIF step of `skipsnn.neuron.lif_step`
(heterogeneous dynamics per channel group from `channel_params`, as in BPTT networks);
only the spike decision (threshold + competition) is done here.

**Layer-wise training.** Layer 1 learns on the input events, then is frozen; layer 2
learns on layer-1 spikes, and so on. A layer that receives skip connections gets their
current through fixed (untrained) adapters; only the main-path kernels learn.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import ConfigError, DataError
from ..network import build_network
from ..neuron import LIFParams, lif_step
from . import checkpoint as ckpt
from .checkpoint import atomic_write
from .metrics import confusion_matrix, direction_pairs, pair_accuracy
from .readout import fit_readout, pooled_counts

COMPETITIONS = ("wta", "none")


class STDPParams(NamedTuple):
    """Hyperparameters of the STDP rule, competition and adaptive thresholds."""

    a_plus: float = 0.05  # potentiation rate
    a_minus: float = 0.04  # depression rate
    tau_pre: float = 4.0  # presynaptic trace time constant (time units of dt)
    tau_post: float = 4.0  # postsynaptic trace time constant
    w_min: float = 0.0
    w_max: float = 1.0
    mu: float = 1.0  # weight dependence of the bounds (0 additive, 1 multiplicative)
    # Presynaptic trace target: depression per post spike (0: the pure pair rule). 0.5 was
    # the best of {0, 0.3, 0.5} by validation accuracy on synthetic gestures (seed 0).
    x_tar: float = 0.5
    theta_plus: float = 0.5  # threshold increment per unit firing fraction
    tau_theta: float = 200.0  # threshold decay time constant (time units of dt)
    competition: str = "wta"  # "wta": one channel per position may spike; "none"


def validate_stdp(p: STDPParams) -> STDPParams:
    """Return ``p`` if valid, else raise `ConfigError` with one sentence."""
    for name in ("a_plus", "a_minus", "theta_plus", "mu", "x_tar"):
        v = getattr(p, name)
        if not (math.isfinite(v) and v >= 0):
            raise ConfigError(f"STDP parameter {name} must be a non-negative number, got {v}")
    for name in ("tau_pre", "tau_post", "tau_theta"):
        v = getattr(p, name)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"STDP time constant {name} must be positive, got {v}")
    if not (math.isfinite(p.w_min) and math.isfinite(p.w_max) and p.w_max > p.w_min):
        raise ConfigError(f"STDP bounds need w_max > w_min, got [{p.w_min}, {p.w_max}]")
    if p.competition not in COMPETITIONS:
        raise ConfigError(
            f"unknown STDP competition {p.competition!r}; choose one of {', '.join(COMPETITIONS)}"
        )
    return p


# ---------------------------------------------------------------------------------------
# Traces and the pair rule
# ---------------------------------------------------------------------------------------


def trace_step(trace: torch.Tensor, spikes: torch.Tensor, decay: float) -> torch.Tensor:
    """``x[n] = x[n-1] * decay + s[n]``."""
    return trace * decay + spikes


def traces(spikes: torch.Tensor, tau: float, dt: float = 1.0) -> torch.Tensor:
    """Traces ``x[n]`` of a spike train ``[T, ...]`` (starting from zero), same shape."""
    decay = math.exp(-dt / tau)
    out = torch.empty_like(spikes, dtype=torch.float32)
    x = torch.zeros_like(spikes[0], dtype=torch.float32)
    for n in range(spikes.shape[0]):
        x = trace_step(x, spikes[n], decay)
        out[n] = x
    return out


def conv_pairings(
    pre: torch.Tensor, post: torch.Tensor, kernel: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """``sum_{b,l} post[b, o, l] * unfold(pre)[b, i, l]`` as ``[C_out, C_in * k * k]``.

    ``pre`` is ``[B, C_in, H, W]`` and ``post`` ``[B, C_out, H_out, W_out]``, the output
    grid of a convolution with this kernel, stride and padding. Rows of the result are
    laid out like ``conv.weight[o].flatten()``.
    """
    patches = F.unfold(pre, kernel, padding=padding, stride=stride)  # [B, Cin*k*k, L]
    post = post.flatten(2)  # [B, Cout, L]
    if post.shape[-1] != patches.shape[-1]:
        raise ConfigError(
            f"post map has {post.shape[-1]} positions but the kernel gives {patches.shape[-1]}"
        )
    return torch.einsum("bol,bil->oi", post, patches)


class Pairings(NamedTuple):
    """Summed pre-before-post (``potentiation``) and post-before-pre (``depression``)
    pairings, ``[C_out, C_in*k*k]`` each, and the post spike count per channel."""

    potentiation: torch.Tensor
    depression: torch.Tensor
    post_count: torch.Tensor


def sequence_pairings(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    kernel: int,
    stride: int,
    padding: int,
    p: STDPParams,
    dt: float = 1.0,
) -> Pairings:
    """Pairings of a presynaptic ``[T, B, C_in, H, W]`` and a postsynaptic
    ``[T, B, C_out, H', W']`` spike train, traces starting from zero."""
    t, b = pre_spikes.shape[:2]
    pre_tr = traces(pre_spikes, p.tau_pre, dt)
    post_tr = traces(post_spikes, p.tau_post, dt)
    # Depression pairs a pre spike at n with the post trace *before* step n.
    post_prev = torch.cat([torch.zeros_like(post_tr[:1]), post_tr[:-1]]) * math.exp(
        -dt / p.tau_post
    )
    flat = lambda z: z.reshape(t * b, *z.shape[2:])  # noqa: E731 - time and batch together
    pot = conv_pairings(flat(pre_tr), flat(post_spikes), kernel, stride, padding)
    dep = conv_pairings(flat(pre_spikes), flat(post_prev), kernel, stride, padding)
    count = post_spikes.sum(dim=(0, 1, 3, 4))
    return Pairings(pot, dep, count)


def stdp_delta(w: torch.Tensor, pairings: Pairings, p: STDPParams) -> torch.Tensor:
    """Weight change ``A+ (w_max - w)^mu P / N - (A- D / N + A+ x_tar [N > 0]) (w - w_min)^mu``
    (shape of ``w``)."""
    shape = w.shape
    w2 = w.reshape(shape[0], -1)
    count = pairings.post_count.reshape(-1, 1)
    n = count.clamp(min=1.0)
    up = p.a_plus * (p.w_max - w2).clamp(min=0) ** p.mu * pairings.potentiation / n
    rate_down = p.a_minus * pairings.depression / n + p.a_plus * p.x_tar * (count > 0)
    down = (w2 - p.w_min).clamp(min=0) ** p.mu * rate_down
    return (up - down).reshape(shape)


def apply_stdp(w: torch.Tensor, pairings: Pairings, p: STDPParams) -> torch.Tensor:
    """New weights: ``clip(w + dW, w_min, w_max)``."""
    return (w + stdp_delta(w, pairings, p)).clamp(p.w_min, p.w_max)


# ---------------------------------------------------------------------------------------
# Spiking with competition and adaptive thresholds
# ---------------------------------------------------------------------------------------


def winner_take_all(margin: torch.Tensor) -> torch.Tensor:
    """Spikes ``[B, C, H, W]`` where ``margin = v - threshold >= 0``, at most one channel per
    position: the one with the largest margin (the first of equals)."""
    above = margin >= 0
    masked = margin.masked_fill(~above, float("-inf"))
    winner = masked.argmax(dim=1, keepdim=True)
    spikes = torch.zeros_like(margin).scatter_(1, winner, 1.0)
    return spikes * above.any(dim=1, keepdim=True)


def competitive_step(
    x: torch.Tensor,
    v: torch.Tensor,
    p: LIFParams,
    theta: torch.Tensor,
    dt: float,
    competition: str = "wta",
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of a layer with adaptive thresholds and competition.

    The membrane integrates with `lif_step` (threshold at infinity, so it only
    integrates); then channel ``c`` may fire at ``v >= v_th + theta_c``. With ``"wta"``
    at most one channel per position fires, and every neuron at a position where some
    channel fired is reset (lateral inhibition). Returns ``(spikes, v)``.
    """
    _, v = lif_step(x, v, p._replace(v_th=math.inf), dt)
    margin = v - (p.v_th + theta.reshape(1, -1, 1, 1))
    if competition == "wta":
        s = winner_take_all(margin)
        reset = s.amax(dim=1, keepdim=True).expand_as(s)
    else:
        s = (margin >= 0).to(v.dtype)
        reset = s
    v = torch.where(reset > 0, torch.full_like(v, p.v_reset), v)
    return s, v


def run_competitive(
    current: torch.Tensor,
    p: LIFParams,
    theta: torch.Tensor,
    dt: float,
    sp: STDPParams,
    adapt: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a layer over input currents ``[T, B, C, H, W]``; returns the spikes and theta.

    With ``adapt`` the thresholds follow ``theta <- theta * exp(-dt/tau_theta) +
    theta_plus * (fraction of positions where the channel spiked)`` at every step;
    otherwise ``theta`` stays as given.
    """
    decay = math.exp(-dt / sp.tau_theta)
    v = torch.full_like(current[0], p.v_reset)
    out = torch.empty_like(current)
    for n in range(current.shape[0]):
        s, v = competitive_step(current[n], v, p, theta, dt, sp.competition)
        out[n] = s
        if adapt:
            theta = theta * decay + sp.theta_plus * s.mean(dim=(0, 2, 3))
    return out, theta


# ---------------------------------------------------------------------------------------
# Options of the `stdp` config section
# ---------------------------------------------------------------------------------------


class STDPOptions(NamedTuple):
    """Everything the ``stdp:`` config section may set (all optional).

    ``rule`` keys are the `STDPParams` fields; the others are listed here. ``epochs``
    is per layer (None: ``train.epochs``); ``feature_layers`` lists the spiking layers
    (1..m) whose pooled counts feed the readout (None: all of them).
    """

    rule: STDPParams = STDPParams()
    epochs: int | None = None
    batch_size: int | None = None  # None: train.batch_size
    w_init: tuple[float, float] = (0.2, 0.8)  # initial weights ~ U(lo, hi) * (w_max - w_min)
    binarize_input: bool = True  # an input bin with any event is one spike
    feature_layers: tuple[int, ...] | None = None
    grid: int = 2  # spatial pooling grid of the readout features
    windows: int = 4  # time windows of the readout features
    readout_c: float = 1.0  # inverse L2 strength of the logistic regression


def stdp_options(section: dict, n_layers: int) -> STDPOptions:
    """Parse the free-form ``stdp`` config section; raise `ConfigError` on bad keys/values."""
    rule_keys = set(STDPParams._fields)
    other_keys = set(STDPOptions._fields) - {"rule"}
    unknown = sorted(set(section) - rule_keys - other_keys)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in the stdp section; known keys: "
            f"{', '.join(sorted(rule_keys | other_keys))}"
        )
    try:
        rule = STDPParams(
            **{
                k: (str(v) if k == "competition" else float(v))
                for k, v in section.items()
                if k in rule_keys
            }
        )
    except (TypeError, ValueError):
        raise ConfigError("stdp rule parameters must be numbers (competition a name)") from None
    validate_stdp(rule)
    opts = STDPOptions(rule=rule, **{k: v for k, v in section.items() if k in other_keys})
    for name in ("epochs", "batch_size", "grid", "windows"):
        v = getattr(opts, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"stdp.{name} must be a positive integer, got {v!r}")
    if not isinstance(opts.binarize_input, bool):
        raise ConfigError(f"stdp.binarize_input must be true or false, got {opts.binarize_input!r}")
    try:
        lo, hi = (float(v) for v in opts.w_init)
    except (TypeError, ValueError):
        raise ConfigError(
            f"stdp.w_init must be two numbers [lo, hi], got {opts.w_init!r}"
        ) from None
    if not 0 <= lo <= hi <= 1:
        raise ConfigError(
            f"stdp.w_init must be [lo, hi] with 0 <= lo <= hi <= 1, got {opts.w_init}"
        )
    layers = opts.feature_layers
    if layers is not None:
        ok = isinstance(layers, list | tuple) and all(
            isinstance(i, int) and 1 <= i <= n_layers for i in layers
        )
        if not (ok and layers):
            raise ConfigError(
                f"stdp.feature_layers must list spiking layers among 1..{n_layers}, got {layers!r}"
            )
        layers = tuple(layers)
    if isinstance(opts.readout_c, bool) or not (
        isinstance(opts.readout_c, int | float) and opts.readout_c > 0
    ):
        raise ConfigError(f"stdp.readout_c must be a positive number, got {opts.readout_c!r}")
    return opts._replace(w_init=(lo, hi), feature_layers=layers)


# ---------------------------------------------------------------------------------------
# The network under STDP: frozen lower layers, competition, one layer learning at a time
# ---------------------------------------------------------------------------------------


def layer_current(net, outs: list[torch.Tensor], i: int) -> torch.Tensor:
    """Input current ``[T, B, C, H, W]`` of spiking layer ``i`` from the outputs of layers
    ``0..i-1`` (each ``[T, B, C, H, W]``): its convolution plus skip adapters into it."""
    t, b = outs[0].shape[:2]
    flat = [o.reshape(t * b, *o.shape[2:]) for o in outs]
    current = net.convs[i - 1](flat[i - 1])
    for s, e in net.edges:
        if e == i:
            current = current + net.adapt(flat[s], s, e)
    return current.reshape(t, b, *current.shape[1:])


def run_layers(
    net, x: torch.Tensor, thetas: list[torch.Tensor], rule: STDPParams, upto: int, binarize: bool
) -> list[torch.Tensor]:
    """Spikes ``[T, B, C, H, W]`` of layers ``0..upto`` for frames ``x [B, T, C, H, W]``,
    with competition and the thresholds ``thetas`` (frozen)."""
    x = x.to(torch.float32).transpose(0, 1)
    outs = [(x > 0).to(torch.float32) if binarize else x]
    for i in range(1, upto + 1):
        current = layer_current(net, outs, i)
        s, _ = run_competitive(current, net.layer_params(i), thetas[i - 1], net.cfg.dt, rule, False)
        outs.append(s)
    return outs


def init_stdp_weights(net, opts: STDPOptions, generator: torch.Generator) -> None:
    """Main-path kernels ~ ``U(lo, hi)`` scaled into ``[w_min, w_max]``; adapters keep the
    network's own seeded initialization and are never trained."""
    lo, hi = opts.w_init
    r = opts.rule
    with torch.no_grad():
        for conv in net.convs:
            u = torch.rand(conv.weight.shape, generator=generator)
            conv.weight.copy_(r.w_min + (r.w_max - r.w_min) * (lo + (hi - lo) * u))


def train_layer_batch(
    net, x: torch.Tensor, thetas: list[torch.Tensor], i: int, opts: STDPOptions
) -> dict[str, float]:
    """One STDP update of layer ``i`` on a batch; updates its weights and ``thetas[i-1]``."""
    rule = opts.rule
    outs = run_layers(net, x, thetas, rule, i - 1, opts.binarize_input)
    current = layer_current(net, outs, i)
    post, thetas[i - 1] = run_competitive(
        current, net.layer_params(i), thetas[i - 1], net.cfg.dt, rule, adapt=True
    )
    conv = net.convs[i - 1]
    pairings = sequence_pairings(
        outs[i - 1], post, conv.kernel_size[0], conv.stride[0], conv.padding[0], rule, net.cfg.dt
    )
    new = apply_stdp(conv.weight, pairings, rule)
    change = (new - conv.weight).abs().mean().item()
    conv.weight.copy_(new)
    return {"rate": post.mean().item(), "w_change": change}


# ---------------------------------------------------------------------------------------
# Features, readout and the whole run
# ---------------------------------------------------------------------------------------


def extract_features(
    net,
    x: torch.Tensor,
    thetas: list[torch.Tensor],
    opts: STDPOptions,
    batch_size: int,
) -> np.ndarray:
    """Readout features ``[N, D]`` of frames ``x [N, T, C, H, W]``: pooled spike counts of
    the feature layers (`readout.pooled_counts`), concatenated."""
    layers = opts.feature_layers or tuple(range(1, len(net.convs) + 1))
    chunks = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            outs = run_layers(
                net,
                x[start : start + batch_size],
                thetas,
                opts.rule,
                max(layers),
                opts.binarize_input,
            )
            feats = [pooled_counts(outs[i], opts.grid, opts.windows) for i in layers]
            chunks.append(torch.cat(feats, dim=1).numpy())
    return np.concatenate(chunks)


def plot_kernels(weight: torch.Tensor, path: Path, w_range: tuple[float, float]) -> None:
    """PNG of first-layer kernels ``[C_out, C_in, k, k]``: one column per channel, one row
    per input channel (ON, OFF polarity), colours spanning the learned weights' range
    (printed in the title along with the bounds ``w_range``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = weight.detach().cpu().numpy()
    c_out, c_in = w.shape[:2]
    lo, hi = float(w.min()), float(w.max())
    fig, axes = plt.subplots(
        c_in, c_out, figsize=(0.9 * c_out + 1.2, 0.9 * c_in + 0.8), squeeze=False
    )
    for i in range(c_in):
        for o in range(c_out):
            ax = axes[i, o]
            im = ax.imshow(w[o, i], cmap="viridis", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(str(o), fontsize=7)
        axes[i, 0].set_ylabel("ON" if i == 0 else "OFF" if i == 1 else f"in {i}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(
        f"STDP layer-1 kernels (weights {lo:.2f}..{hi:.2f}, bounds {w_range[0]:g}..{w_range[1]:g})",
        fontsize=9,
    )
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)


CHECKPOINT = ckpt.CHECKPOINT


def _resume_state(out: Path, cfg, resume: bool) -> dict | None:
    """The checkpoint to continue from (None: start afresh); refuse to clobber a run."""
    state = ckpt.existing_checkpoint(out, resume)
    if state is None:
        return None
    if state.get("method") != "stdp":
        raise ConfigError(f"{out / CHECKPOINT} is not an STDP checkpoint")
    if state["config"] != cfg.to_dict():
        raise ConfigError(
            f"the config differs from the one the run in {out} was started with; "
            "resume with the same options"
        )
    return state


# The unsupervised phase never sees a label, so runs that differ only in
# train.label_fraction (the rows of Table 3) learn the very same kernels. They share it
# within a process: keyed by the config without the label fraction and a digest of the
# training frames, so other data or settings never hit.
_PHASE_CACHE: OrderedDict[str, dict] = OrderedDict()
_PHASE_CACHE_SIZE = 8


def _phase_key(cfg, x: torch.Tensor) -> str:
    d = cfg.to_dict()
    del d["train"]["label_fraction"]
    digest = hashlib.sha1(x.contiguous().numpy().tobytes()).hexdigest()
    return json.dumps(d, sort_keys=True, default=str) + digest


def clear_phase_cache() -> None:
    """Forget the STDP phases kept for reuse across label fractions."""
    _PHASE_CACHE.clear()


def train_stdp(
    cfg,
    out_dir=None,
    *,
    resume: bool = False,
    progress: bool = True,
    data=None,
    stop_after_layers: int | None = None,
) -> dict:
    """Train ``cfg``'s network layer by layer with STDP (no labels), then fit the readout on
    the labelled fraction; returns the metrics (also written to ``out_dir/metrics.json``).

    Protocol (the same splits as BPTT, `bptt.split_indices`): a seeded stratified
    validation split is held out of the training set; STDP sees every other training
    sample, without labels; the seeded stratified ``train.label_fraction`` of them that
    keeps its labels is the only data the readout is fitted on. The test set is used
    once, at the end. ``out_dir`` None writes nothing. A checkpoint is written after each
    layer; with ``resume`` the finished layers are not trained again, and since each
    layer shuffles with its own seed a resumed run equals an uninterrupted one.
    ``stop_after_layers`` returns after that many layers of this call, as if killed.
    """
    from .bptt import load_data, prepare, split_indices

    t0 = time.perf_counter()
    cfg = cfg.validate()
    tr = cfg.train
    opts = stdp_options(cfg.stdp, len(cfg.network.layers))
    epochs = opts.epochs or tr.epochs
    batch_size = opts.batch_size or tr.batch_size
    torch.set_num_threads(tr.num_threads)
    out = Path(out_dir) if out_dir is not None else None
    state = _resume_state(out, cfg, resume) if out is not None else None

    # Everything that can fail on bad input happens before anything is written.
    train_set, test_set = load_data(cfg, data, progress)
    if test_set is None:
        raise DataError("STDP training needs a test set, but none was given")
    y_all = np.asarray(train_set.y)
    split = split_indices(y_all, cfg)
    classes = list(train_set.classes)
    x_all = prepare(train_set.x, cfg.dataset.collapse_time)

    ckpt.seed_everything(tr.seed)  # the skip adapters' fixed random projections
    net = build_network(cfg, tuple(int(v) for v in train_set.x.shape[2:]), len(classes))
    net.requires_grad_(False)
    init_stdp_weights(net, opts, torch.Generator().manual_seed(tr.seed))
    thetas = [torch.zeros(conv.out_channels) for conv in net.convs]
    layers_done, history, seconds = 0, [], 0.0
    if state is not None:
        net.load_state_dict(state["net"])
        thetas, layers_done = state["thetas"], state["layers_done"]
        history, seconds = state["history"], state["stdp_seconds"]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        cfg.save(out / "config.yaml")
        ckpt.write_jsonl(history, out / "metrics.jsonl")

    m = len(net.convs)
    key = _phase_key(cfg, train_set.x)
    reused = state is None and stop_after_layers is None and key in _PHASE_CACHE
    if reused:
        cached = _PHASE_CACHE[key]
        net.load_state_dict(cached["net"])
        thetas = [t.clone() for t in cached["thetas"]]
        layers_done, history, seconds = m, list(cached["history"]), cached["stdp_seconds"]
    last = m if stop_after_layers is None else min(m, layers_done + stop_after_layers)

    def save_checkpoint(layers: int) -> None:
        # The checkpoint first: if killed before the jsonl is rewritten, resume rewrites it.
        ckpt.save_torch(
            {
                "method": "stdp",
                "config": cfg.to_dict(),
                "classes": classes,
                "net": net.state_dict(),
                "thetas": thetas,
                "layers_done": layers,
                "history": history,
                "stdp_seconds": seconds,
            },
            out / CHECKPOINT,
        )
        ckpt.write_jsonl(history, out / "metrics.jsonl")

    n_batches = math.ceil(len(split.pool) / batch_size)
    bar = tqdm(
        total=(last - layers_done) * epochs * n_batches,
        desc=f"stdp {cfg.dataset.name}",
        unit="batch",
        disable=not progress or not sys.stderr.isatty(),
    )
    with torch.no_grad():
        for i in range(layers_done + 1, last + 1):
            t_layer = time.perf_counter()
            # Each layer shuffles with its own seed, so resuming after layer i-1 is exact.
            gen = torch.Generator().manual_seed(tr.seed * 1009 + i)
            for epoch in range(1, epochs + 1):
                order = split.pool[torch.randperm(len(split.pool), generator=gen).numpy()]
                rates, changes = [], []
                for start in range(0, len(order), batch_size):
                    idx = np.sort(order[start : start + batch_size])
                    stats = train_layer_batch(net, x_all[idx], thetas, i, opts)
                    rates.append(stats["rate"])
                    changes.append(stats["w_change"])
                    bar.update()
                history.append(
                    {
                        "layer": i,
                        "epoch": epoch,
                        "firing_rate": float(np.mean(rates)),
                        "w_change": float(np.mean(changes)),
                        "w_mean": net.convs[i - 1].weight.mean().item(),
                        "theta_mean": thetas[i - 1].mean().item(),
                    }
                )
                bar.set_postfix(layer=i, rate=f"{history[-1]['firing_rate']:.3f}")
            seconds += time.perf_counter() - t_layer
            if out is not None:
                save_checkpoint(i)
    bar.close()
    if last < m:
        return {"method": "stdp", "finished": False, "layers_done": last, "history": history}
    if not reused:
        _PHASE_CACHE[key] = {
            "net": copy.deepcopy(net.state_dict()),
            "thetas": [t.clone() for t in thetas],
            "history": list(history),
            "stdp_seconds": seconds,
        }
        while len(_PHASE_CACHE) > _PHASE_CACHE_SIZE:
            _PHASE_CACHE.popitem(last=False)
    elif out is not None:
        save_checkpoint(m)

    t_readout = time.perf_counter()
    eval_bs = tr.eval_batch_size
    # Only the labelled samples' features and labels are handed to the readout.
    f_lab = extract_features(net, x_all[split.train], thetas, opts, eval_bs)
    readout = fit_readout(f_lab, y_all[split.train], c=opts.readout_c, seed=tr.seed)
    seconds += time.perf_counter() - t_readout
    val_accuracy = val_loss = None
    if len(split.val):
        f_val = extract_features(net, x_all[split.val], thetas, opts, eval_bs)
        val_accuracy = readout.accuracy(f_val, y_all[split.val])
        val_loss = readout.log_loss(f_val, y_all[split.val])
    x_test = prepare(test_set.x, cfg.dataset.collapse_time)
    f_test = extract_features(net, x_test, thetas, opts, eval_bs)
    y_test = np.asarray(test_set.y)
    scores = readout.scores(f_test)

    n_readout = readout.classifier.coef_.size + readout.classifier.intercept_.size
    n_net = sum(c.weight.numel() for c in net.convs)
    n_adapters = sum(a.weight.numel() for a in net.adapters.values())
    pairs = direction_pairs(classes)
    metrics = {
        "method": "stdp",
        "dataset": cfg.dataset.name,
        "collapse_time": cfg.dataset.collapse_time,
        "seed": tr.seed,
        "label_fraction": tr.label_fraction,
        "n_train": int(len(split.train)),
        "n_unlabelled_stdp": int(len(split.pool)),
        "n_val": int(len(split.val)),
        "epochs": epochs,
        "finished": True,
        "train_accuracy": readout.accuracy(f_lab, y_all[split.train]),
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "test_accuracy": readout.accuracy(f_test, y_test),
        "direction_pair_accuracy": pair_accuracy(
            torch.as_tensor(scores), torch.as_tensor(y_test), pairs
        )
        if pairs
        else None,
        # Trained parameters: STDP kernels and the readout; the fixed adapters apart.
        "params": int(n_net + n_readout),
        "params_stdp": int(n_net),
        "params_readout": int(n_readout),
        "params_fixed_adapters": int(n_adapters),
        "feature_dim": int(f_lab.shape[1]),
        "firing_rate": [h["firing_rate"] for h in history if h["epoch"] == epochs],
        "train_seconds": seconds,  # with a reused phase: the phase's own time + readout
        "stdp_phase_reused": reused,
    }
    if out is not None:
        from .plots import plot_confusion, plot_raster

        plot_kernels(net.convs[0].weight, out / "kernels.png", (opts.rule.w_min, opts.rule.w_max))
        # The same plots as a BPTT run: the test confusion matrix and one test raster.
        pred = np.asarray(scores).argmax(1)
        matrix = confusion_matrix(pred, y_test, len(classes))
        title = f"STDP + readout, test accuracy {100 * metrics['test_accuracy']:.1f}%"
        plot_confusion(matrix, classes, out / "confusion.png", title)
        spikes = run_layers(net, x_test[:1], thetas, opts.rule, m, opts.binarize_input)
        label = classes[int(y_test[0])]
        plot_raster([s[:, 0] for s in spikes[1:]], out / "raster.png", f"test sample 0 ({label})")
        ckpt.write_json(metrics, out / "metrics.json")
    metrics["wall_seconds"] = time.perf_counter() - t0
    return metrics
