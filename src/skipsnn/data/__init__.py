"""Event-camera data: event arrays, file readers, datasets, synthetic sets, framing, splits.

The one call most code needs is `load_frames`, which returns a dataset split as a
`FramedDataset` of ``uint8 [N, T, 2, H, W]`` event-count frames, cached on disk.

Data flows one way: events -> readers / synthetic -> datasets -> binning -> catalog (the
registry `DATASETS`, numpy only) -> framing (`load_frames`, torch), through the cache on
disk (store: plain arrays, framed in worker processes by parallel); `from_tonic` frames
any tonic dataset through the same cache.

The names below are loaded from their submodules on first use, so that reading an
event file (``skipsnn data inspect``) does not import torch.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "DATASETS": ".catalog",
    "DatasetInfo": ".catalog",
    "get_dataset_info": ".catalog",
    "synthetic_events": ".catalog",
    "DVSGesture": ".datasets",
    "NCaltech101": ".datasets",
    "EVENT_DTYPE": ".events",
    "make_events": ".events",
    "summarize": ".events",
    "frame_events": ".binning",
    "FramedDataset": ".framed",
    "FrameArray": ".store",
    "from_tonic": ".tonic",
    "make_loader": ".loaders",
    "load_frames": ".framing",
    "detect_format": ".readers",
    "inspect_file": ".readers",
    "read_aedat31": ".readers",
    "read_events": ".readers",
    "read_gesture_labels": ".readers",
    "read_nmnist": ".readers",
    "read_tonic_gesture_npy": ".readers",
    "stratified_fraction": ".splits",
    "train_val_split": ".splits",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
