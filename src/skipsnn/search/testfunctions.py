"""Standard optimization test functions (botorch's) as `minimize` objectives with spaces.

Used by the tests and ``benchmarks/bench_bo.py``. ``value_range`` is ``max - min`` of the
function over its box (min known; max from a dense Sobol scan), the scale of the
"within 1% of the range" target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch.quasirandom import SobolEngine

from .space import Param, Space


@dataclass
class TestFunction:
    """A picklable objective ``f(params) -> float`` over ``x0, x1, ...``."""

    __test__ = False  # not a pytest test class

    name: str

    def _fn(self):
        from botorch.test_functions import Branin, Hartmann  # lazily: light Ray workers

        return {"branin": lambda: Branin(), "hartmann6": lambda: Hartmann(dim=6)}[self.name]()

    @property
    def space(self) -> Space:
        fn = self._fn()
        lo, hi = fn.bounds.tolist()
        return Space(tuple(Param(f"x{i}", lo[i], hi[i]) for i in range(fn.dim)))

    @property
    def optimum(self) -> float:
        return float(self._fn().optimal_value)

    def value_range(self, n: int = 2**16) -> float:
        fn = self._fn()
        lo, hi = fn.bounds
        x = lo + (hi - lo) * SobolEngine(fn.dim, scramble=True, seed=0).draw(n).double()
        with torch.no_grad():
            return float(fn(x).max()) - self.optimum

    def __call__(self, params: Mapping[str, float]) -> float:
        fn = self._fn()
        x = torch.tensor([[float(params[f"x{i}"]) for i in range(fn.dim)]], dtype=torch.double)
        with torch.no_grad():
            return float(fn(x))
