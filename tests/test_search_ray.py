"""One Ray run: two local workers complete a tiny search with batches in flight."""

from __future__ import annotations

import json
import operator

import pytest

from skipsnn.search.optimizer import minimize
from skipsnn.search.space import Param, Space

ray = pytest.importorskip("ray", reason="ray is not installed")


@pytest.mark.slow
def test_two_local_ray_workers_complete_a_tiny_search(tmp_path):
    # A stdlib objective (f(p) = p["x"]) keeps the workers light: nothing heavy to import.
    objective = operator.itemgetter("x")
    space = Space((Param("x", -2.0, 3.0), Param("k", 0, 3, kind="int")))
    log = tmp_path / "journal.jsonl"
    r = minimize(
        objective,
        space,
        budget=5,
        workers=2,
        seed=0,
        n_initial=2,
        journal=log,
        raw_samples=32,
        num_restarts=2,
        maxiter=10,
    )
    assert not ray.is_initialized()  # the local instance it started is shut down again
    assert r.n_finished == 5 and r.n_failed == 0
    assert r.best_value == min(t.params["x"] for t in r.trials)
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    # two trials were in flight at once: the second proposal precedes the first result
    assert events[:2] == ["proposed", "proposed"]
    assert events.count("proposed") == events.count("finished") == 5
