r"""Unsupervised STDP for mMND networks, then a readout fitted on the labelled fraction.

The method only: the run scaffold (`skipsnn.train.run`) loads the data, makes the splits,
builds and seeds the network, and scores the test set once. The rule is in
`skipsnn.train.stdp_rule`, the competition and adaptive thresholds in
`skipsnn.train.competition`, the ``stdp:`` options in `skipsnn.train.stdp_options`.

**Layer-wise training.** Layer 1 learns on the input events, then is frozen; layer 2
learns on layer-1 spikes, and so on. A layer that receives skip connections gets their
current through fixed (untrained) adapters (`MMNDNet.layer_current`, the same function
BPTT networks use); only the main-path kernels learn.

**Protocol.** STDP sees every training sample outside the validation split, without
labels; the seeded stratified ``train.label_fraction`` of them that keeps its labels is
the only data the readout (`skipsnn.train.readout`: pooled spike counts, logistic
regression) is fitted on. A checkpoint is written after each layer; a resumed run does
not train the finished layers again, and since each layer shuffles with its own seed it
equals an uninterrupted run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from . import checkpoint as ckpt
from .competition import run_competitive
from .readout import fit_readout, pooled_counts
from .setup import RunSetup, Trained, log_line, prepare, progress_bar
from .stdp_options import STDPOptions, stdp_options
from .stdp_rule import STDPParams, apply_stdp, sequence_pairings


def layer_current(net, outs: list[torch.Tensor], i: int) -> torch.Tensor:
    """Input current ``[T, B, C, H, W]`` of spiking layer ``i`` from the outputs of layers
    ``0..i-1`` (each ``[T, B, C, H, W]``), by `MMNDNet.layer_current`."""
    t, b = outs[0].shape[:2]
    flat = [o.reshape(t * b, *o.shape[2:]) for o in outs]
    skips = {s: net.skip_input(flat[s], s, i) for s, e in net.edges if e == i}
    current = net.layer_current([flat[i - 1]], skips, i)
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


def extract_features(
    net,
    x,
    thetas: list[torch.Tensor],
    opts: STDPOptions,
    batch_size: int,
    collapse_time: bool = False,
    index: np.ndarray | None = None,
) -> np.ndarray:
    """Readout features ``[N, D]`` of the raw frames ``x[index]`` (``[N, T, C, H, W]``
    event counts; all of ``x`` when ``index`` is None), read and prepared batch by batch:
    pooled spike counts of the feature layers (`readout.pooled_counts`), concatenated."""
    layers = opts.feature_layers or tuple(range(1, len(net.convs) + 1))
    index = np.arange(len(x)) if index is None else np.asarray(index)
    device = net.readout.weight.device
    chunks = []
    with torch.no_grad():
        for start in range(0, len(index), batch_size):
            rows = torch.as_tensor(index[start : start + batch_size])
            batch = prepare(x[rows], collapse_time).to(device)
            outs = run_layers(net, batch, thetas, opts.rule, max(layers), opts.binarize_input)
            feats = [pooled_counts(outs[i], opts.grid, opts.windows) for i in layers]
            chunks.append(torch.cat(feats, dim=1).cpu().numpy())
    return np.concatenate(chunks)


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


def check_resume(state: dict, cfg, out: Path) -> None:
    """Refuse to continue a checkpoint that is not this run's (no option may change)."""
    if state.get("method") != "stdp":
        raise ConfigError(f"{out / ckpt.CHECKPOINT} is not an STDP checkpoint")
    done, layers = state.get("layers_done"), len(cfg.network.layers)
    if isinstance(done, bool) or not isinstance(done, int) or not 0 <= done <= layers:
        # int() of a bad value would crash, and a negative one would train layers twice
        raise ConfigError(
            f"{out / ckpt.CHECKPOINT} stores layers_done {done!r}, not a number of layers "
            f"trained of this network's {layers}"
        )
    if state["config"] != cfg.to_dict():
        raise ConfigError(
            f"the config differs from the one the run in {out} was started with; "
            "resume with the same options"
        )


def check_options(cfg) -> None:
    """Parse the ``stdp`` section before anything is loaded or written."""
    stdp_options(cfg.stdp, len(cfg.network.layers))


def fit(setup: RunSetup, stop_after: int | None = None) -> Trained:
    """Train ``setup.net`` layer by layer with STDP (no labels), then fit the readout on
    the labelled subset. ``stop_after`` returns after that many layers of this call, as
    if the process were killed there (to test resuming)."""
    cfg, net, state, out, split = setup.cfg, setup.net, setup.state, setup.out, setup.split
    device = setup.runtime.device
    tr = cfg.train
    opts = stdp_options(cfg.stdp, len(cfg.network.layers))
    epochs = opts.epochs or tr.epochs
    batch_size = opts.batch_size or tr.batch_size
    x_raw, y_all = setup.train_set.x, np.asarray(setup.train_set.y)
    collapse = cfg.dataset.collapse_time

    net.requires_grad_(False)
    init_stdp_weights(net, opts, torch.Generator().manual_seed(tr.seed))
    net.to(device)
    thetas = [torch.zeros(conv.out_channels, device=device) for conv in net.convs]
    layers_done, history, seconds = 0, [], 0.0
    if state is not None:
        with ckpt.restoring(out / ckpt.CHECKPOINT):
            net.load_state_dict(state["net"])
            thetas = [
                torch.as_tensor(t, dtype=torch.float32, device=device) for t in state["thetas"]
            ]
            if [t.shape for t in thetas] != [(c.out_channels,) for c in net.convs]:
                raise ValueError("the adaptive thresholds do not fit the layers")
            layers_done, seconds = int(state["layers_done"]), float(state["stdp_seconds"])
            history = list(state["history"])

    m = len(net.convs)
    key = _phase_key(cfg, x_raw)
    reused = state is None and stop_after is None and key in _PHASE_CACHE
    if reused:
        cached = _PHASE_CACHE[key]
        net.load_state_dict(cached["net"])
        thetas = [t.to(device, copy=True) for t in cached["thetas"]]
        layers_done, history, seconds = m, list(cached["history"]), cached["stdp_seconds"]
    last = m if stop_after is None else min(m, layers_done + stop_after)

    def save_checkpoint(layers: int) -> None:
        state = {
            "method": "stdp",
            "config": cfg.to_dict(),
            "classes": list(setup.train_set.classes),
            "input_shape": net.input_shape,
            "net": net.state_dict(),
            "thetas": thetas,
            "layers_done": layers,
            "history": history,
            "stdp_seconds": seconds,
        }
        ckpt.save_run_state(state, history, out)

    n_batches = math.ceil(len(split.pool) / batch_size)
    total = (last - layers_done) * epochs * n_batches
    bar = progress_bar(total, f"stdp {cfg.dataset.name}", setup.progress)
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
                    xb = prepare(x_raw[idx], collapse).to(device)
                    stats = train_layer_batch(net, xb, thetas, i, opts)
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
                rate = history[-1]["firing_rate"]
                bar.set_postfix(layer=i, rate=f"{rate:.3f}")
                log_line(
                    setup.progress,
                    f"stdp {cfg.dataset.name} layer {i}/{m} epoch {epoch}/{epochs}: "
                    f"firing rate {rate:.4f}, mean weight change {history[-1]['w_change']:.2e}",
                )
            seconds += time.perf_counter() - t_layer
            if out is not None:
                save_checkpoint(i)
    bar.close()
    if last < m:
        return Trained({"layers_done": last, "history": history}, finished=False)
    if not reused:
        _PHASE_CACHE[key] = {
            "net": copy.deepcopy(net.state_dict()),
            "thetas": [t.detach().cpu().clone() for t in thetas],
            "history": list(history),
            "stdp_seconds": seconds,
        }
        while len(_PHASE_CACHE) > _PHASE_CACHE_SIZE:
            _PHASE_CACHE.popitem(last=False)
    elif out is not None:
        save_checkpoint(m)

    t_readout = time.perf_counter()
    eval_bs = tr.eval_batch_size

    def features(frames, index: np.ndarray | None = None) -> np.ndarray:
        return extract_features(net, frames, thetas, opts, eval_bs, collapse, index)

    # Only the labelled samples' features and labels are handed to the readout.
    f_lab = features(x_raw, split.train)
    readout = fit_readout(f_lab, y_all[split.train], c=opts.readout_c, seed=tr.seed)
    seconds += time.perf_counter() - t_readout
    val_accuracy = val_loss = None
    if len(split.val):
        f_val = features(x_raw, split.val)
        val_accuracy = readout.accuracy(f_val, y_all[split.val])
        val_loss = readout.log_loss(f_val, y_all[split.val])

    n_readout = readout.classifier.coef_.size + readout.classifier.intercept_.size
    n_net = sum(c.weight.numel() for c in net.convs)
    n_adapters = sum(a.weight.numel() for a in net.adapters.values())
    metrics = {
        "n_unlabelled_stdp": int(len(split.pool)),
        "epochs": epochs,
        "finished": True,
        "train_accuracy": readout.accuracy(f_lab, y_all[split.train]),
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
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

    def scores(frames: torch.Tensor) -> torch.Tensor:
        # Log-probabilities in label order (a class the readout never saw: p = 1e-12, as
        # in `Readout.log_loss`), so the scaffold's cross-entropy is the readout's log loss.
        f = features(frames)
        return torch.as_tensor(
            np.log(np.clip(readout.probabilities(f, len(setup.train_set.classes)), 1e-12, 1.0))
        )

    def spikes(frames: torch.Tensor) -> list[torch.Tensor]:
        x = prepare(frames, collapse).to(device)
        with torch.no_grad():
            outs = run_layers(net, x, thetas, opts.rule, m, opts.binarize_input)[1:]
        return [o.cpu() for o in outs]

    def plots(folder: Path) -> None:
        from .plots import plot_kernels

        rule = opts.rule
        plot_kernels(net.convs[0].weight, folder / "kernels.png", (rule.w_min, rule.w_max))

    return Trained(metrics, True, scores=scores, spikes=spikes, plots=plots)
