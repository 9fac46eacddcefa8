"""Event-camera data: event arrays, file readers, datasets, synthetic sets, framing, splits.

The one call most code needs is `load_frames`, which returns a dataset split as a
`FramedDataset` of ``uint8 [N, T, 2, H, W]`` event-count frames, cached on disk.
"""

from .catalog import DATASETS, DatasetInfo, get_dataset_info, synthetic_events
from .datasets import DVSGesture, NCaltech101
from .events import EVENT_DTYPE, make_events, summarize
from .framing import FramedDataset, frame_events, load_frames
from .readers import (
    detect_format,
    inspect_file,
    read_aedat31,
    read_events,
    read_gesture_labels,
    read_nmnist,
    read_tonic_gesture_npy,
)
from .splits import stratified_fraction, train_val_split

__all__ = [
    "DATASETS",
    "EVENT_DTYPE",
    "DVSGesture",
    "DatasetInfo",
    "FramedDataset",
    "NCaltech101",
    "detect_format",
    "frame_events",
    "get_dataset_info",
    "inspect_file",
    "load_frames",
    "make_events",
    "read_aedat31",
    "read_events",
    "read_gesture_labels",
    "read_nmnist",
    "read_tonic_gesture_npy",
    "stratified_fraction",
    "summarize",
    "synthetic_events",
    "train_val_split",
]
