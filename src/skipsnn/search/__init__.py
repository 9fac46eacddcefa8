"""Bayesian optimization of mMND networks over the architecture space V and the dynamics space W.

Generic part (any function): `Param`, `Space`, `minimize`, `SearchResult`, the journal.
mMND part: `MMNDProblem` (spaces and the feasibility indicator Delta), `SearchSettings`,
`TrainingObjective`, `run_strategy` (dual, joint, random). See docs/search.md.
"""

from .optimizer import SearchResult, minimize
from .space import Param, Space

__all__ = ["Param", "SearchResult", "Space", "minimize"]
