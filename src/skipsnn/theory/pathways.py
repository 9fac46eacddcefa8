r"""Memory pathways (Definition 2) and their counts (Lemmas 4 and 5).

Layers are numbered ``0..m``. Layer 0 is the input: one node. Layer ``i >= 1`` holds
``lambda_i`` neuron dynamics (the CLI's ``--dynamics 2,3,2,4`` lists ``lambda_1..lambda_m``).
Consecutive layers are fully connected at the level of dynamics; a skip ``a -> b``
(``b - a >= 2``) adds edges from every dynamic of layer ``a`` to every dynamic of layer
``b``. A memory pathway is a path from the input node to a dynamic of layer ``m``; in a
layered graph a path is determined by its set of nodes, so counting distinct pathways is
counting paths.

Path counting: every node of layer ``j`` is reached by the same number ``P_j`` of paths,
``P_0 = 1``, ``P_j = sum_{i -> j} lambda_i P_i`` over the layers ``i`` feeding layer ``j``
(``lambda_0 = 1``), and the total is ``lambda_m P_m``.

- Lemma 4 (no skips): ``prod_{i=1..m} lambda_i``.
- Lemma 5 (one skip ``a -> b``): ``prod_i lambda_i + prod_{i<=a} lambda_i prod_{i>=b} lambda_i``.
- Any set of skips: a path is a set of visited layers, so the count is the sum, over the
  sets ``K`` of skips that do not overlap (each starts at or after the previous one
  ends), of the product of ``lambda_i`` over the layers not jumped over by ``K``
  (`pathways_by_skip_sets`). Lemmas 4 and 5 are its terms for ``K`` of size 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import combinations

from ..errors import ParameterError

Skip = tuple[int, int]


def validate_architecture(dynamics: Sequence[int], skips: Iterable[Skip]) -> list[Skip]:
    """Check ``lambda_1..lambda_m`` and the skips; return the skips sorted. One sentence on error."""
    if len(dynamics) == 0:
        raise ParameterError("give at least one layer of neuron dynamics")
    for i, lam in enumerate(dynamics, start=1):
        if isinstance(lam, bool) or not isinstance(lam, int) or lam < 1:
            raise ParameterError(
                f"layer {i} must hold a positive whole number of dynamics, got {lam!r}"
            )
    m = len(dynamics)
    out: list[Skip] = []
    seen: set[Skip] = set()  # a set, so that many skips are checked in linear time
    for a, b in skips:
        if not (0 <= a < b <= m):
            raise ParameterError(f"skip {a}:{b} must satisfy 0 <= start < end <= {m}")
        if b - a < 2:
            raise ParameterError(f"skip {a}:{b} joins consecutive layers; a skip must jump a layer")
        if (a, b) in seen:
            raise ParameterError(f"skip {a}:{b} is given twice")
        seen.add((a, b))
        out.append((a, b))
    return sorted(out)


def count_pathways(dynamics: Sequence[int], skips: Iterable[Skip] = ()) -> int:
    """Exact number of distinct memory pathways, by path counting over the layer graph."""
    skips = validate_architecture(dynamics, skips)
    lam = [1, *dynamics]
    m = len(dynamics)
    preds: dict[int, list[int]] = {j: [j - 1] for j in range(1, m + 1)}
    for a, b in skips:
        preds[b].append(a)
    paths = [1] + [0] * m  # paths reaching each single node of layer j
    for j in range(1, m + 1):
        paths[j] = sum(lam[i] * paths[i] for i in preds[j])
    return lam[m] * paths[m]


def lemma4(dynamics: Sequence[int]) -> int:
    """Lemma 4: without skips the count is ``prod lambda_i``."""
    validate_architecture(dynamics, ())
    return math.prod(dynamics)


def lemma5(dynamics: Sequence[int], skip: Skip) -> int:
    """Lemma 5: one skip ``a -> b`` adds ``prod_{i<=a} lambda_i * prod_{i>=b} lambda_i``."""
    ((a, b),) = validate_architecture(dynamics, [skip])
    lam = [1, *dynamics]
    return math.prod(dynamics) + math.prod(lam[: a + 1]) * math.prod(lam[b:])


def closed_form(dynamics: Sequence[int], skips: Iterable[Skip] = ()) -> int | None:
    """Lemma 4 (no skip) or Lemma 5 (one skip); ``None`` when more skips are given."""
    skips = validate_architecture(dynamics, skips)
    if not skips:
        return lemma4(dynamics)
    if len(skips) == 1:
        return lemma5(dynamics, skips[0])
    return None


def pathways_by_skip_sets(dynamics: Sequence[int], skips: Iterable[Skip] = ()) -> int:
    """The count as a sum over non-overlapping skip sets (exponential in the number of skips)."""
    skips = validate_architecture(dynamics, skips)
    lam = [1, *dynamics]
    total = 0
    for k in range(len(skips) + 1):
        for chosen in combinations(skips, k):  # sorted, so consecutive skips are in order
            if any(s[1] > t[0] for s, t in zip(chosen, chosen[1:], strict=False)):
                continue
            jumped = {i for a, b in chosen for i in range(a + 1, b)}
            total += math.prod(lam[i] for i in range(len(lam)) if i not in jumped)
    return total


def parse_skip(text: str) -> Skip:
    """``"1:3"`` -> ``(1, 3)``; one sentence on malformed text."""
    parts = text.split(":")
    try:
        a, b = (int(x) for x in parts)
    except ValueError:
        raise ParameterError(f"skip {text!r} must look like START:END, e.g. 1:3") from None
    return a, b


def parse_dynamics(text: str) -> list[int]:
    """``"2,3,2,4"`` -> ``[2, 3, 2, 4]``; one sentence on malformed text."""
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise ParameterError(
            f"--dynamics {text!r} must be a comma-separated list of whole numbers, e.g. 2,3,2,4"
        ) from None
