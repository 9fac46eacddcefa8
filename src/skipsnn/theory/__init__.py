"""The theory lab: response rate, Lemma 1 conductances, the cutoff period (Lemma 3),
memory pathways (Lemmas 4, 5), period-mapping networks with skips (Theorem 1), the
search over chains without skips (Lemma 2), and the coverage of a period grid.

Depends on `skipsnn.neuron` only; every closed form here is tested against its exact
event-driven simulator. docs/theory.md has the derivations.
"""

from .approximate import Approximation, PeriodNetwork, approximate_period
from .chains import ChainSearch, search_chains
from .coverage import coverage, coverage_figure
from .pathways import closed_form, count_pathways, lemma4, lemma5, pathways_by_skip_sets
from .period import train_period
from .response import (
    ConductanceInterval,
    conductance_for,
    conductance_interval,
    cutoff_period,
    potential_after_inputs,
    printed_cutoff,
    response_rate,
)
from .tour import theory_tour

__all__ = [
    "Approximation",
    "ChainSearch",
    "ConductanceInterval",
    "PeriodNetwork",
    "approximate_period",
    "closed_form",
    "conductance_for",
    "conductance_interval",
    "count_pathways",
    "coverage",
    "coverage_figure",
    "cutoff_period",
    "lemma4",
    "lemma5",
    "pathways_by_skip_sets",
    "potential_after_inputs",
    "printed_cutoff",
    "response_rate",
    "search_chains",
    "theory_tour",
    "train_period",
]
