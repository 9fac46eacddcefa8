import math

from skipsnn.experiments.paper import published
from skipsnn.experiments.tables import aggregate, mean_std, table3_markdown


def _runs():
    return [
        {"method": "bptt", "fraction": 1.0, "seed": 0, "test_accuracy": 0.90, "params": 1000},
        {"method": "bptt", "fraction": 1.0, "seed": 1, "test_accuracy": 0.80, "params": 1000},
        {"method": "stdp", "fraction": 0.1, "seed": 0, "test_accuracy": 0.5, "params": 900},
        {"method": "stdp", "fraction": 0.1, "seed": 1, "test_accuracy": None, "params": 900},
    ]


def test_mean_std_sample_std():
    m, s, n = mean_std([1.0, 3.0])
    assert (m, n) == (2.0, 2)
    assert math.isclose(s, math.sqrt(2.0))
    assert mean_std([5.0])[1] == 0.0


def test_aggregate_percent_and_failures():
    agg = aggregate(_runs())
    assert math.isclose(agg[("bptt", 1.0)]["mean"], 85.0)
    assert agg[("stdp", 0.1)]["n"] == 1 and agg[("stdp", 0.1)]["failed"] == 1


def test_table_shows_paper_numbers_only_for_paper_datasets():
    md = table3_markdown("dvsgesture", _runs(), [1.0, 0.1])
    # mean ± 95% CI half-width: 12.706 (t, 1 dof) x 7.07 (sample std) / sqrt(2)
    assert "85.0 ± 63.5 (98.0)" in md
    assert "| 50.0 (91.2) |" in md  # one finished seed: the mean alone, no interval
    assert "over 1/2 seeds; the paper's number in brackets." in md
    assert "(91.2)" in md  # STDP at 10% on DVS128 Gesture
    assert "mMND, STDP" in md.splitlines()[2]  # STDP row first, as in the paper
    synthetic = table3_markdown("gestures", _runs(), [1.0, 0.1])
    assert "(98.0)" not in synthetic and "brackets" not in synthetic
    assert published("gestures", "bptt", 1.0) is None
