"""Memory-pathway counting against Lemmas 4 and 5 and against brute-force enumeration."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skipsnn.errors import ParameterError
from skipsnn.theory import closed_form, count_pathways, lemma4, lemma5, pathways_by_skip_sets

SETTINGS = settings(max_examples=60, deadline=None)


def brute_force_pathways(dynamics, skips):
    """Distinct node sets of all input-to-output paths in the explicit dynamic-level graph."""
    m = len(dynamics)
    lam = [1, *dynamics]
    succ = {j: [j + 1] if j < m else [] for j in range(m + 1)}
    for a, b in skips:
        succ[a].append(b)
    found = set()

    def walk(layer, dyn, visited):
        visited = visited | {(layer, dyn)}
        if layer == m:
            found.add(frozenset(visited))
            return
        for nxt in succ[layer]:
            for d in range(lam[nxt]):
                walk(nxt, d, visited)

    walk(0, 0, frozenset())
    return len(found)


layer_sizes = st.lists(st.integers(1, 4), min_size=1, max_size=6)


@SETTINGS
@given(dynamics=layer_sizes)
def test_no_skip_count_is_lemma4(dynamics):
    assert count_pathways(dynamics) == lemma4(dynamics) == math.prod(dynamics)
    assert closed_form(dynamics) == lemma4(dynamics)


@SETTINGS
@given(dynamics=st.lists(st.integers(1, 5), min_size=2, max_size=7), data=st.data())
def test_one_skip_count_is_lemma5(dynamics, data):
    m = len(dynamics)
    a = data.draw(st.integers(0, m - 2))
    b = data.draw(st.integers(a + 2, m))
    expected = math.prod(dynamics) + math.prod([1, *dynamics][: a + 1]) * math.prod(
        [1, *dynamics][b:]
    )
    assert count_pathways(dynamics, [(a, b)]) == lemma5(dynamics, (a, b)) == expected
    assert closed_form(dynamics, [(a, b)]) == expected


@st.composite
def architectures(draw):
    dynamics = draw(st.lists(st.integers(1, 3), min_size=2, max_size=6))
    m = len(dynamics)
    possible = [(a, b) for a in range(m + 1) for b in range(a + 2, m + 1)]
    skips = draw(st.lists(st.sampled_from(possible), unique=True, max_size=4)) if possible else []
    return dynamics, skips


@SETTINGS
@given(arch=architectures())
def test_count_equals_brute_force_enumeration(arch):
    dynamics, skips = arch
    n = count_pathways(dynamics, skips)
    assert n == brute_force_pathways(dynamics, skips)
    assert n == pathways_by_skip_sets(dynamics, skips)
    if len(skips) > 1:
        assert closed_form(dynamics, skips) is None


def test_worked_example():
    # lambda = 2,3,2,4; skips 1->3 and 0->2. No skip: 48. Skip 1->3 adds 2 * (2*4) = 16.
    # Skip 0->2 adds 1 * (3*2*4) = 24. No path takes both: 0->2 jumps over layer 1.
    assert count_pathways([2, 3, 2, 4]) == 48
    assert count_pathways([2, 3, 2, 4], [(1, 3)]) == 64
    assert count_pathways([2, 3, 2, 4], [(1, 3), (0, 2)]) == 88
    assert brute_force_pathways([2, 3, 2, 4], [(1, 3), (0, 2)]) == 88


@pytest.mark.parametrize(
    "dynamics, skips",
    [
        ([], []),
        ([2, 0, 3], []),
        ([2, 3, 2], [(1, 2)]),
        ([2, 3, 2], [(0, 4)]),
        ([2, 3, 2], [(1, 3), (1, 3)]),
    ],
)
def test_bad_architecture_is_one_sentence(dynamics, skips):
    with pytest.raises(ParameterError) as e:
        count_pathways(dynamics, skips)
    assert "\n" not in str(e.value)


def test_every_possible_skip_is_accepted_and_counted():
    m = 60
    skips = [(a, b) for a in range(m) for b in range(a + 2, m + 1)]  # 1,770 skips
    # every jump from 0 to m is present: the paths are the compositions of m
    assert count_pathways([1] * m, skips) == 2 ** (m - 1)
    with pytest.raises(ParameterError, match="given twice"):
        count_pathways([1] * m, [*skips, skips[-1]])
