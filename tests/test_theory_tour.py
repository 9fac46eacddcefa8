"""The theory tour behind ``skipsnn demo``: files written, numbers consistent."""

import json

from skipsnn.cli import main
from skipsnn.theory.tour import theory_tour


def test_theory_tour_writes_figure_and_summary(tmp_path):
    s = theory_tour(tmp_path / "demo")
    png = tmp_path / "demo" / "theory_tour.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((tmp_path / "demo" / "theory_tour.json").read_text())
    assert on_disk["pathways"] == {
        "dynamics": [2, 3, 2, 4],
        "skips": [[1, 3]],
        "count": 64,
        "closed_form": 64,
    }
    gamma = s["response_rate"]["gamma"]
    assert s["response_rate"]["simulated_output_spikes"][0] == gamma * s["response_rate"]["period"]
    assert s["cutoff"]["fires_at_0.99"] and not s["cutoff"]["fires_at_1.01"]
    ap = s["approximate"]
    assert ap["x1.5 with skips"]["found"] and ap["x1.5 with skips"]["skips"]
    assert ap["x1.04 with skips"]["found"] and ap["x1.04 with skips"]["skips"]
    assert ap["x1.5 with skips"]["setting"].startswith("non-tonic, excitatory")
    assert not ap["x0.4 (non-tonic)"]["found"] and ap["x0.4 (non-tonic)"]["reason"]
    tonic = ap["x0.4 with --allow-tonic"]
    assert tonic["found"] and tonic["setting"].startswith("outside the paper's setting")
    cs = s["chain_search"]
    assert not cs["x1.5 without skips"]["found"] and cs["x1.5 without skips"]["error"] == 5.0
    assert cs["x6 without skips"]["found"]
    cov = s["coverage"]
    assert (tmp_path / "demo" / "theory_coverage.png").read_bytes()[:4] == b"\x89PNG"
    last = cov["budgets"][-1]
    assert last["with_skips_ratio_ge_1"] > last["without_skips_ratio_ge_1"]
    assert not list((tmp_path / "demo").glob("*.tmp*"))


def test_demo_command(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--theory-only"]) == 0
    out = capsys.readouterr().out
    assert "Lemma 3" in out and "theory_tour.png" in out
