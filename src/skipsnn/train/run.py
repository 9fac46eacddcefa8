r"""One run, whatever the method: the scaffold every trainer stands on.

``run_training(cfg, out_dir)`` is the one entry point for the CLI, the search and the
experiments. In order:

1. validate the config and the method's own options; refuse a run folder that would be
   clobbered, and a checkpoint that is not this run's (`checkpoint.existing_checkpoint`
   and the method's ``check_resume``);
2. load the data and make the splits (`setup.load_data`, `setup.split_indices`);
3. seed everything and build the network (the same draws for every method);
4. write ``config.yaml`` and hand a `setup.RunSetup` to the method's ``fit``
   (`bptt.fit`, `stdp.fit`), which trains, checkpoints and returns a `setup.Trained`;
5. score the test set once through the method's ``scores`` (`score_test_set`): loss,
   accuracy, the clockwise/counter-clockwise pairs, the confusion matrix and a raster;
6. write the method's plots and ``metrics.json``.

Everything that can fail on bad input happens before anything is written.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..config import Config
from ..determinism import deterministic
from ..errors import ConfigError, DataError
from ..folders import check_writable, folder_lock, read_json_object
from ..network import build_network
from . import bptt, stdp
from . import checkpoint as ckpt
from .devices import host, resolve_device
from .distributed import World, init_from_env, local_device_name, spawn
from .metrics import accuracy, confusion_matrix, direction_pairs, pair_accuracy
from .setup import RunSetup, Trained, load_data, runtime_of, split_indices

METHODS = {"bptt": bptt, "stdp": stdp}


def run_training(
    cfg: Config,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    evaluate_test: bool = True,
    progress: bool = True,
    data: Any = None,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Train ``cfg``'s network with ``train.method`` and return its metrics.

    ``out_dir`` None writes nothing (for search trials); otherwise the folder gets
    ``config.yaml``, ``metrics.jsonl``, ``checkpoint.pt``, and at the end
    ``metrics.json`` and the plots. ``data`` is an optional preloaded ``(train, test)``.
    ``stop_after`` returns after that many epochs (BPTT) or layers (STDP) of this call,
    as if the process were killed there (used to test ``resume``).

    Returned keys include ``val_loss``, ``val_accuracy``, ``test_accuracy`` (None if not
    evaluated), ``params``, ``epochs``, ``train_seconds``, ``label_fraction``.
    """
    cfg = cfg.validate()
    method = METHODS[cfg.train.method]
    if hasattr(method, "check_options"):
        method.check_options(cfg)
    device = resolve_device(local_device_name(cfg.train.device))
    world = init_from_env(device)  # a data-parallel run under torchrun / --nproc
    if world.size > 1 and cfg.train.method != "bptt":
        raise ConfigError(
            f"{cfg.train.method} trains in one process only; run it without --nproc/torchrun"
        )
    rt = runtime_of(cfg, device, world)
    warn_if_not_deterministic(cfg, device)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        check_writable(out)
    args = (cfg, method, out, rt, resume, evaluate_test, progress, data, stop_after)
    # train.deterministic: training, validation and test scoring alike (`skipsnn.determinism`)
    with deterministic(cfg.train.deterministic):
        if out is None or not world.is_main:  # only rank 0 writes the run folder
            return _run(*args)
        with folder_lock(out, "run"):
            return _run(*args)


def warn_if_not_deterministic(cfg: Config, device: torch.device) -> None:
    """``train.deterministic`` concerns the CPU's threads: say so when it cannot hold."""
    if cfg.train.deterministic and device.type != "cpu":
        warnings.warn(
            f"train.deterministic makes CPU runs independent of the thread count; on "
            f"{device.type} it changes nothing and results are not guaranteed bit for bit",
            stacklevel=3,
        )


def _run(cfg, method, out, rt, resume, evaluate_test, progress, data, stop_after) -> dict:
    """`run_training` once the config is valid and the run folder (if any) is ours."""
    tr, main = cfg.train, rt.world.is_main
    torch.set_num_threads(tr.num_threads)
    state = ckpt.existing_checkpoint(out, resume) if out is not None else None
    if state is not None:
        with ckpt.restoring(out / ckpt.CHECKPOINT):
            method.check_resume(state, cfg, out)

    train_set, test_set = load_data(cfg, data, progress)
    if evaluate_test and test_set is None:
        raise DataError("evaluate_test needs a test set, but none was given")
    classes = list(train_set.classes)
    split = split_indices(train_set.y, cfg)
    ckpt.seed_everything(tr.seed)
    net = build_network(cfg, tuple(int(v) for v in train_set.x.shape[2:]), len(classes))
    if out is not None and main:
        cfg.save(out / "config.yaml")
        ckpt.write_jsonl([] if state is None else state["history"], out / "metrics.jsonl")

    setup = RunSetup(cfg, net, train_set, split, state, out if main else None, progress, rt)
    trained = method.fit(setup, stop_after)
    metrics: dict[str, Any] = {
        "method": tr.method,
        "dataset": cfg.dataset.name,
        "collapse_time": cfg.dataset.collapse_time,
        "seed": tr.seed,
        "label_fraction": tr.label_fraction,
        "n_train": int(len(split.train)),
        "n_val": int(len(split.val)),
        **trained.metrics,
        "finished": trained.finished,
        "test_accuracy": None,
        "device": str(rt.device),
        "precision": rt.precision,
        "world_size": rt.world.size,
        "host": host(),
    }
    if not trained.finished or not main:
        return metrics  # stopped early (or not rank 0): no test evaluation, no metrics.json
    if evaluate_test:
        metrics.update(score_test_set(trained, test_set, cfg, classes, out))
    if out is not None:
        if trained.plots is not None:
            trained.plots(out)
        ckpt.write_json(metrics, out / "metrics.json")
    return metrics


def run_spawned(
    cfg: Config, out_dir: str | Path, nproc: int, *, resume: bool = False, progress: bool = True
) -> dict[str, Any]:
    """`run_training` as a data-parallel run of ``nproc`` local processes (gloo on the CPU,
    NCCL on CUDA; `distributed.spawn`); returns rank 0's metrics from the run folder."""
    cfg = cfg.validate()
    if cfg.train.method != "bptt":
        raise ConfigError(f"{cfg.train.method} trains in one process only; drop --nproc")
    out = Path(out_dir)
    check_writable(out)
    spawn(_spawned_run, nproc, cfg.to_dict(), str(out), resume, progress)
    if not (out / "metrics.json").exists():
        raise ConfigError(f"the data-parallel run in {out} did not finish")
    return read_json_object(out / "metrics.json")


def _spawned_run(cfg: dict, out: str, resume: bool, progress: bool) -> None:
    run_training(Config.from_dict(cfg), out, resume=resume, progress=progress)


def score_test_set(
    trained: Trained, test_set, cfg: Config, classes: list[str], out: Path | None
) -> dict[str, Any]:
    """Test loss/accuracy, clockwise/counter-clockwise pair accuracy and the confusion
    matrix from the method's ``scores``; the confusion and raster plots into ``out``."""
    y = torch.as_tensor(test_set.y, dtype=torch.long)
    pairs = direction_pairs(classes)
    result: dict[str, Any] = {
        "n_test": len(y),
        "test_loss": None,
        "test_accuracy": None,
        "direction_pairs": [[classes[a], classes[b]] for a, b in pairs],
        "direction_pair_accuracy": None,
    }
    if len(y) == 0:
        return result
    scores = trained.scores(test_set.x)
    acc = accuracy(scores, y)
    result.update(
        test_loss=F.cross_entropy(scores, y).item(),
        test_accuracy=acc,
        direction_pair_accuracy=pair_accuracy(scores, y, pairs) if pairs else None,
    )
    matrix = confusion_matrix(scores.argmax(1).numpy(), y.numpy(), len(classes))
    result["confusion_matrix"] = matrix.tolist()
    if out is not None:
        from .plots import plot_confusion, plot_raster

        title = f"{cfg.train.method} on {cfg.dataset.name}, test accuracy {100 * acc:.1f}%"
        plot_confusion(matrix, classes, out / "confusion.png", title)
        spikes = trained.spikes(test_set.x[:1])
        label = classes[int(y[0])]
        plot_raster([s[:, 0] for s in spikes], out / "raster.png", f"test sample 0 ({label})")
    return result


# ---------------------------------------------------------------------------------------
# Re-evaluating a finished run
# ---------------------------------------------------------------------------------------


def load_run(run_dir: str | Path) -> tuple[Config, Any, dict]:
    """The config, the trained network and the checkpoint of a BPTT run folder."""
    run = Path(run_dir)
    if not (run / "config.yaml").exists():
        raise ConfigError(f"{run} is not a run folder (no config.yaml)")
    cfg = Config.load(run / "config.yaml")
    if not (run / ckpt.CHECKPOINT).exists():
        raise ConfigError(f"{run} has no {ckpt.CHECKPOINT} to evaluate")
    state = ckpt.load_checkpoint(run / ckpt.CHECKPOINT)
    if "model" not in state:
        raise ConfigError(f"{run / ckpt.CHECKPOINT} is not a BPTT checkpoint")
    with ckpt.restoring(run / ckpt.CHECKPOINT):
        net = build_network(cfg, tuple(state["input_shape"]), len(state["classes"]))
        net.load_state_dict(state["model"])
        state["epoch"] = int(state["epoch"])
    return cfg, net, state


def evaluate_run(
    run_dir: str | Path, *, data: Any = None, progress: bool = True, device: str | None = None
) -> dict[str, Any]:
    """Evaluate a run's checkpoint on the test set again; compare with its metrics.json.

    Returns the recomputed ``test_accuracy``/``test_loss`` and the stored metrics. A
    STDP run (whose checkpoint has no end-to-end model) returns its stored metrics.
    """
    run = Path(run_dir)
    stored_path = run / "metrics.json"
    stored = read_json_object(stored_path) if stored_path.exists() else None
    if not (run / "config.yaml").exists():
        raise ConfigError(f"{run} is not a run folder (no config.yaml)")
    if Config.load(run / "config.yaml").train.method != "bptt":
        if stored is None:
            raise ConfigError(f"{run} has no metrics.json yet")
        return {"run": str(run), "recomputed": False, "stored": stored, **stored}
    cfg, net, state = load_run(run)
    torch.set_num_threads(cfg.train.num_threads)
    _, test_set = load_data(cfg, data, progress)
    if test_set is None:
        raise DataError("evaluating a run needs the test set")
    collapse = cfg.dataset.collapse_time
    # On any device, whichever the run was trained on (the checkpoint loads on the CPU).
    rt = runtime_of(cfg, resolve_device(device or "auto"), World())
    warn_if_not_deterministic(cfg, rt.device)
    net.to(rt.device)
    trained = Trained(
        {},
        True,
        scores=lambda x: bptt.predict(net, x, cfg.train.eval_batch_size, collapse, rt),
        spikes=lambda x: bptt.record_spikes(net, x, collapse, rt),
    )
    with deterministic(cfg.train.deterministic):
        res = score_test_set(trained, test_set, cfg, list(state["classes"]), None)
    res.pop("confusion_matrix", None)  # re-evaluation reports the scores, not the matrix
    return {
        "run": str(run),
        "recomputed": True,
        "epochs": state["epoch"],
        "finished": state["epoch"] == cfg.train.epochs,
        "params": sum(p.numel() for p in net.parameters() if p.requires_grad),
        **res,
        "stored_test_accuracy": None if stored is None else stored.get("test_accuracy"),
    }
