"""Bayesian optimization of mMND networks over the architecture space V and the dynamics space W.

Generic part (any function): `Param`, `Space`, `minimize`, `SearchResult`, the journal.
mMND part: `MMNDProblem` (spaces and the feasibility indicator Delta), `SearchSettings`,
`TrainingObjective`, `run_strategy` (dual, joint, random). See docs/search.md.

Names are imported lazily: Ray workers unpickle trials through this package, and should
not pay for importing botorch when they only run an objective.
"""

from importlib import import_module

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


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
