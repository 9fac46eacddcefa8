r"""Search spaces: named integer and continuous parameters with bounds, optional log scale.

The optimizer works in the unit cube. A parameter with bounds ``[low, high]`` maps to
``u = (x - low) / (high - low)``, or on a log scale ``u = (ln x - ln low) / (ln high - ln low)``.
An integer parameter is decoded by rounding, so its unit coordinate is snapped to the
grid ``(k - low) / (high - low)``; a space whose parameters are all integers is finite and
can be enumerated. A feasibility callable (``params -> bool``) is the indicator
:math:`\Delta`; it is evaluated explicitly, never learnt.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import ConfigError

Params = dict[str, float | int]


@dataclass(frozen=True)
class Param:
    """One search variable: ``kind`` is ``"int"`` or ``"float"``; ``log`` maps it on ln scale."""

    name: str
    low: float
    high: float
    kind: str = "float"
    log: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("int", "float"):
            raise ConfigError(
                f"search parameter {self.name} has kind {self.kind!r}, not int or float"
            )
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high < self.low:
            raise ConfigError(
                f"search parameter {self.name} needs finite bounds low <= high, got [{self.low}, {self.high}]"
            )
        if self.log and self.low <= 0:
            raise ConfigError(
                f"search parameter {self.name} is on a log scale but its low bound {self.low} is not positive"
            )
        if self.kind == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ConfigError(f"integer search parameter {self.name} needs integer bounds")

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    def to_unit(self, x: float) -> float:
        if self.high == self.low:
            return 0.0
        if self.log:
            return (math.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float | int:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if self.is_int:
            return int(min(max(round(x), self.low), self.high))
        return min(max(x, self.low), self.high)

    def values(self) -> range:
        """All values of an integer parameter."""
        return range(int(self.low), int(self.high) + 1)


@dataclass(frozen=True)
class Space:
    """An ordered set of parameters plus an optional feasibility indicator ``feasible(params)``."""

    params: tuple[Param, ...]
    feasible: Callable[[Mapping[str, float]], bool] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if not names:
            raise ConfigError("a search space needs at least one parameter")
        if len(set(names)) != len(names):
            raise ConfigError(f"search parameter names must be unique, got {names}")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def is_discrete(self) -> bool:
        return all(p.is_int for p in self.params)

    @property
    def int_dims(self) -> list[int]:
        return [i for i, p in enumerate(self.params) if p.is_int]

    def is_feasible(self, params: Mapping[str, float]) -> bool:
        """The indicator Delta: inside the bounds and, if given, ``feasible(params)``."""
        for p in self.params:
            x = params[p.name]
            if not (p.low <= x <= p.high) or (p.is_int and x != int(x)):
                return False
        return True if self.feasible is None else bool(self.feasible(params))

    def encode(self, points: Sequence[Mapping[str, float]]) -> torch.Tensor:
        """Points as a ``[n, dim]`` double tensor in the unit cube."""
        rows = [[p.to_unit(pt[p.name]) for p in self.params] for pt in points]
        return torch.tensor(rows, dtype=torch.double).reshape(len(rows), self.dim)

    def decode(self, u: torch.Tensor) -> list[Params]:
        """Unit-cube rows back to parameter dicts (integers rounded)."""
        u = u.detach().reshape(-1, self.dim).cpu().double().numpy()
        return [{p.name: p.from_unit(row[i]) for i, p in enumerate(self.params)} for row in u]

    def snap(self, u: torch.Tensor) -> torch.Tensor:
        """Round the integer coordinates of unit-cube points onto their grids."""
        return self.encode(self.decode(u)).reshape(u.shape).to(u)

    def enumerate(self) -> Iterator[Params]:
        """Every point of an all-integer space, in lexicographic order (feasible or not)."""
        if not self.is_discrete:
            raise ConfigError("only a space of integer parameters can be enumerated")
        for combo in itertools.product(*(p.values() for p in self.params)):
            yield dict(zip(self.names, combo, strict=True))

    def sample(self, rng: np.random.Generator, n: int) -> list[Params]:
        """``n`` uniform points of the unit cube (log scale respected), not checked for Delta."""
        return self.decode(torch.from_numpy(rng.random((n, self.dim))))

    def sample_feasible(
        self, rng: np.random.Generator, n: int, max_tries: int = 200
    ) -> list[Params]:
        """Up to ``n`` feasible points by rejection sampling (fewer if Delta is very sparse)."""
        out: list[Params] = []
        for _ in range(max_tries):
            out.extend(pt for pt in self.sample(rng, max(4 * n, 64)) if self.is_feasible(pt))
            if len(out) >= n:
                break
        return out[:n]


def key(params: Mapping[str, float], names: Sequence[str]) -> tuple:
    """A hashable identity of a point (floats rounded so JSON round trips compare equal)."""
    return tuple(round(float(params[n]), 12) for n in names)
