"""One Ray run: two local workers complete a tiny search with batches in flight."""

from __future__ import annotations

import json

import pytest

from skipsnn.search.optimizer import minimize
from skipsnn.search.testfunctions import TestFunction

ray = pytest.importorskip("ray", reason="ray is not installed")


def test_two_local_ray_workers_complete_a_tiny_search(tmp_path):
    f = TestFunction("branin")
    log = tmp_path / "journal.jsonl"
    r = minimize(
        f,
        f.space,
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
    assert r.best_value == min(f(t.params) for t in r.trials)
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    # two trials were in flight at once: the second proposal precedes the first result
    assert events[:2] == ["proposed", "proposed"]
    assert events.count("proposed") == events.count("finished") == 5
