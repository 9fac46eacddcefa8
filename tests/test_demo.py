"""`skipsnn demo` end to end on a shrunken gestures set: tour, dual search, final model, report."""

import json

from skipsnn.cli import main
from skipsnn.commands import demo
from skipsnn.data import catalog


def test_demo_pipeline_writes_everything_and_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKIPSNN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "train", 4)
    monkeypatch.setitem(catalog.GESTURES_PER_CLASS, "test", 1)
    tiny = ("--budget-v", "2", "--budget-w", "1", "--trial-epochs", "1", "--final-epochs", "1")
    monkeypatch.setattr(demo, "DEMO_SEARCH", tiny)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-progress", "--json"]) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.rindex("\n{\n") + 1 :])  # the JSON comes last
    assert (out / "theory" / "theory_tour.png").exists()
    journal = (out / "search" / "journal.jsonl").read_text().splitlines()
    finished = [r for r in map(json.loads, journal) if r.get("event") == "finished"]
    assert len(finished) == 3  # budget-v 2 + budget-w 1
    assert result["search"]["final"]["test_accuracy"] is not None
    report = (out / "report.md").read_text()
    assert "convergence" in report and "theory_tour" in report
    # A second demo resumes: no trial is run again.
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    again = (out / "search" / "journal.jsonl").read_text().splitlines()
    assert len([r for r in map(json.loads, again) if r.get("event") == "finished"]) == 3
