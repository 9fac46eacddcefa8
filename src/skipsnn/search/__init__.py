"""Bayesian optimization of mMND networks over the architecture space V and the dynamics space W.

Generic part (any function): `Param`, `Space`, `minimize`, `SearchResult`, the journal.
mMND part: `MMNDProblem` (spaces and the feasibility indicator Delta), `SearchSettings`,
`TrainingObjective`, `run_strategy` (dual, joint, random). See docs/search.md.

Names are imported lazily: Ray workers unpickle trials through this package, and should
not pay for importing botorch when they only run an objective.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "Param": ".space",
    "Space": ".space",
    "minimize": ".optimizer",
    "SearchResult": ".optimizer",
    "MMNDProblem": ".mmnd",
    "SearchSettings": ".settings",
    "TrainingObjective": ".objective",
    "run_strategy": ".strategies",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
