"""``skipsnn data``: inspect event files, list, prepare and preview datasets."""

from __future__ import annotations

from ..errors import DataError
from ..folders import check_output_file
from ..limits import LIMITS
from ._common import add_json_flag, emit, int_in, seed_int

# The smallest split of the built-in datasets holds more than this many samples: the
# frames of a split take at least this many times one sample's frame.
MIN_SPLIT_SAMPLES = 200


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "data", help="event-camera data: inspect files, prepare and preview datasets"
    )
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")

    q = sub.add_parser(
        "inspect", help="format, event count, extent, time span and polarities of an event file"
    )
    q.add_argument(
        "file", help="an N-MNIST/N-Caltech101 .bin, AEDAT 3.1 .aedat or tonic DVS128 Gesture .npy"
    )
    add_json_flag(q)
    q.set_defaults(handler=inspect_cmd)

    q = sub.add_parser("list", help="the datasets load_frames knows")
    add_json_flag(q)
    q.set_defaults(handler=list_cmd)

    for name, helptext, handler in (
        ("prepare", "generate (synthetic) or read and frame a dataset into the cache", prepare_cmd),
        ("preview", "draw a few samples per class as event frames over time", preview_cmd),
    ):
        q = sub.add_parser(name, help=helptext)
        q.add_argument(
            "name",
            help="gestures, digits, dvsgesture, ncaltech101, or tonic:NAME (a tonic dataset "
            "already under --root)",
        )
        if name == "prepare":
            q.add_argument(
                "--split",
                default="all",
                choices=("train", "test", "all"),
                help="split to frame (default: all, both splits, as training needs)",
            )
        else:
            q.add_argument("--split", default="train", choices=("train", "test"))
        q.add_argument("--root", help="folder of a downloaded real dataset")
        q.add_argument(
            "--n-bins",
            type=int_in(*map(int, LIMITS["dataset.n_bins"])),
            help="time bins (default: the dataset's)",
        )
        q.add_argument(
            "--size",
            type=int_in(*map(int, LIMITS["dataset.size"])),
            help="frame side after downsampling (default: the dataset's)",
        )
        q.add_argument("--seed", type=seed_int, default=0, help="generation seed (default 0)")
        q.add_argument(
            "--cache-dir", help="cache folder (default $SKIPSNN_CACHE or ~/.cache/skipsnn)"
        )
        q.add_argument(
            "--geometry",
            choices=("aspect", "pad", "stretch"),
            help="frames of a non-square sensor: keep its aspect (size = longer side), pad it "
            "to a square, or stretch it (default: aspect for ncaltech101)",
        )
        q.add_argument(
            "--workers",
            type=int_in(1, 1024),
            help="processes framing a real dataset (default: the cores)",
        )
        q.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        if name == "preview":
            q.add_argument("--out", required=True, help="PNG file to write")
            q.add_argument(
                "--per-class", type=int_in(1, 100), default=2, help="samples per class (default 2)"
            )
            q.add_argument(
                "--columns",
                type=int_in(1, 100),
                default=6,
                help="time steps drawn per sample (default 6)",
            )
        add_json_flag(q)
        q.set_defaults(handler=handler)
    p.set_defaults(handler=lambda args: p.print_help() or 0)


def inspect_cmd(args) -> int:
    from ..data import inspect_file

    r = inspect_file(args.file)
    text = f"{r['file']}: {r['format']}, {r['events']} events"
    if r["events"]:  # an empty recording has no ranges to show
        text += (
            f", x <= {r['x_max']}, y <= {r['y_max']}, t {r['t_min']}..{r['t_max']} us, "
            f"{r['on_events']} ON / {r['off_events']} OFF"
        )
    text += "".join(f"\nwarning: {w}" for w in r["warnings"])
    return emit(r, args.json, text)


def list_cmd(args) -> int:
    from ..data import DATASETS

    rows = [
        {
            "name": d.name,
            "synthetic": d.synthetic,
            "classes": len(d.classes) or None,
            "sensor_size": list(d.sensor_size),
            "n_bins": d.n_bins,
            "size": d.size,
            "window_us": d.window_us,
            "source": d.source,
        }
        for d in DATASETS.values()
    ]
    text = "\n".join(f"{r['name']:<12} {r['source']}" for r in rows)
    return emit({"datasets": rows}, args.json, text)


def _check_frames(args) -> None:
    """Refuse frames that cannot fit in memory, before any work is done."""
    from ..data import get_dataset_info
    from ..limits import machine_memory_bytes

    if args.name.startswith("tonic:"):
        return  # its defaults are known only once tonic is imported
    info = get_dataset_info(args.name)
    n_bins, size = args.n_bins or info.n_bins, args.size or info.size
    need = MIN_SPLIT_SAMPLES * n_bins * 2 * size * size
    have = machine_memory_bytes()
    if have and need > have:
        raise DataError(
            f"frames of {n_bins} bins x {size} x {size} pixels would take more than "
            f"{need / 2**30:.1f} GiB for a split of {MIN_SPLIT_SAMPLES} samples, more than this "
            f"machine's {have / 2**30:.1f} GiB of memory; use fewer --n-bins or a smaller --size"
        )


def _load(args, split=None):
    from ..data import load_frames

    _check_frames(args)
    return load_frames(
        args.name,
        split or args.split,
        root=args.root,
        n_bins=args.n_bins,
        size=args.size,
        cache_dir=args.cache_dir,
        seed=args.seed,
        progress=not args.no_progress,
        geometry=args.geometry,
        workers=args.workers,
    )


def _mean_counts(x, chunk: int = 64) -> float:
    """Mean counted events per sample, reading ``chunk`` samples at a time."""
    import torch

    total = 0
    for i in range(0, len(x), chunk):
        total += int(x[i : i + chunk].sum(dtype=torch.int64))
    return total / max(len(x), 1)


def prepare_cmd(args) -> int:
    import time

    rows = []
    for split in ("train", "test") if args.split == "all" else (args.split,):
        t = time.perf_counter()
        ds = _load(args, split)
        rows.append(
            {
                "name": args.name,
                "split": split,
                "samples": len(ds),
                "shape": list(ds.x.shape[1:]),
                "classes": len(ds.classes),
                "mean_events_per_sample": _mean_counts(ds.x),
                "seconds": round(time.perf_counter() - t, 3),
                "cache_file": ds.meta.get("cache_file"),
            }
        )
    text = "\n".join(
        f"{r['name']}/{r['split']}: {r['samples']} samples of {r['shape']}, {r['classes']} classes, "
        f"{r['mean_events_per_sample']:.0f} counted events per sample ({r['seconds']} s) -> {r['cache_file']}"
        for r in rows
    )
    result = rows[0] if len(rows) == 1 else {"name": args.name, "splits": rows}
    return emit(result, args.json, text)


def preview_cmd(args) -> int:
    from ..data.preview import check_png_name, preview_png

    check_png_name(args.out)  # before any work is done
    check_output_file(args.out)
    ds = _load(args)
    path = preview_png(ds, args.out, per_class=args.per_class, columns=args.columns, seed=args.seed)
    r = {"name": args.name, "split": args.split, "out": str(path), "per_class": args.per_class}
    return emit(r, args.json, f"wrote {path}")
