"""Published numbers of She, Dash & Mukhopadhyay (ICLR 2022), Table 3, for side-by-side tables.

Accuracies in percent, keyed by label fraction; parameter counts in millions.
Only the paper's own datasets have published numbers; the synthetic ones have none.
"""

from __future__ import annotations

TABLE3: dict[str, dict[str, dict]] = {
    "dvsgesture": {
        "stdp": {"acc": {1.0: 96.6, 0.5: 96.0, 0.3: 94.1, 0.1: 91.2}, "params_m": 0.81},
        "bptt": {"acc": {1.0: 98.0, 0.5: 95.3, 0.3: 91.1, 0.1: 82.4}, "params_m": 1.1},
    },
    "ncaltech101": {
        "stdp": {"acc": {1.0: 58.1, 0.7: 57.8, 0.5: 57.2, 0.3: 54.6}, "params_m": 1.4},
        "bptt": {"acc": {1.0: 71.2, 0.7: 65.4, 0.5: 56.0, 0.3: 52.5}, "params_m": 1.7},
    },
}

# The label fractions the paper reports for each dataset (the synthetic stand-ins of
# DVS128 Gesture and N-MNIST use the gesture fractions).
DEFAULT_FRACTIONS: dict[str, tuple[float, ...]] = {
    "dvsgesture": (1.0, 0.5, 0.3, 0.1),
    "gestures": (1.0, 0.5, 0.3, 0.1),
    "ncaltech101": (1.0, 0.7, 0.5, 0.3),
    "digits": (1.0, 0.5, 0.3, 0.1),
}


def published(dataset: str, method: str, fraction: float) -> float | None:
    """The paper's accuracy (percent) for this cell, or None where it published none."""
    return TABLE3.get(dataset, {}).get(method, {}).get("acc", {}).get(round(fraction, 3))


def published_params_m(dataset: str, method: str) -> float | None:
    return TABLE3.get(dataset, {}).get(method, {}).get("params_m")
