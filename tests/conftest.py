"""Suite-wide settings: headless plots, and reproducible property tests under CI."""

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# CI runs the same examples every time (a red CI is then reproducible locally with
# HYPOTHESIS_PROFILE=ci); developers get fresh random examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(
    "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "default")
)
