"""``skipsnn theory ...`` end to end: JSON keys agree with the library; bad input exits 2."""

import json
import math
import subprocess
import sys

import pytest

from skipsnn.cli import main
from skipsnn.neuron import NeuronParams
from skipsnn.theory import conductance_interval, cutoff_period, response_rate


def run_json(capsys, *argv):
    status = main(["theory", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_simulate(capsys):
    status, d = run_json(capsys, "simulate", "--period", "5", "--duration", "60", "--g", "10")
    assert status == 0
    gamma = response_rate(5.0, 10.0, NeuronParams())
    assert d["output_spikes"] == pytest.approx([gamma * 5.0 * k for k in range(1, 5)])


def test_response_rate_and_infinite_gamma(capsys):
    _, d = run_json(capsys, "response-rate", "--period", "5", "--g", "10", "--v-reset", "-0.3")
    assert d["gamma"] == response_rate(5.0, 10.0, NeuronParams(v_reset=-0.3))
    _, d = run_json(capsys, "response-rate", "--period", "5", "--g", "0.1")
    assert d["gamma"] is None


def test_conductance(capsys):
    _, d = run_json(capsys, "conductance", "--gamma", "3", "--period", "4", "--a", "0.2")
    iv = conductance_interval(3, 4.0, NeuronParams(a=0.2))
    assert (d["g_min"], d["g_max"]) == pytest.approx((iv.g_min, iv.g_max))
    _, d = run_json(capsys, "conductance", "--gamma", "1", "--period", "4")
    assert d["g_max"] is None and d["g_min"] > 0


def test_conductance_text_tells_a_narrow_interval_apart(capsys):
    # g_max at 6 digits once read "1.0000005 <= G < 1", an empty interval.
    argv = ["conductance", "--gamma", "1000000", "--period", "1e-6", "--tau-m", "1e6"]
    assert main(["theory", *argv]) == 0
    lo, hi = capsys.readouterr().out.split(" for ")[1].split(" <= G < ")
    iv = conductance_interval(10**6, 1e-6, NeuronParams(tau_m=1e6))
    assert float(lo) < float(hi) and (float(lo), float(hi)) == pytest.approx((iv.g_min, iv.g_max))


def test_cutoff(capsys):
    _, d = run_json(capsys, "cutoff", "--g", "10", "--tau-m", "12")
    assert d["cutoff_period"] == pytest.approx(cutoff_period(10.0, NeuronParams(tau_m=12.0)))
    assert d["cutoff_period"] == pytest.approx(12.0 * math.log(1 / (1 - 10 / 12)))
    _, d = run_json(capsys, "cutoff", "--g", "40")
    assert d["cutoff_period"] is None


def test_pathways(capsys):
    _, d = run_json(capsys, "pathways", "--dynamics", "2,3,2,4", "--skip", "1:3")
    assert d["pathways"] == 64 and d["closed_form"] == 64
    _, d = run_json(capsys, "pathways", "--dynamics", "2,3,2,4", "--skip", "1:3", "--skip", "0:2")
    assert d["pathways"] == 88 and d["closed_form"] is None
    _, d = run_json(capsys, "pathways", "--dynamics", "2,3,2,4")
    assert d["pathways"] == d["closed_form"] == 48


def test_approximate_with_and_without_skips(capsys):
    status, d = run_json(capsys, "approximate", "--t-in", "10", "--t-out", "15", "--eps", "0.01")
    assert status == 0 and d["found"] and d["network"]["skips"]
    assert abs(d["measured_period"] - 15) <= 0.01 and d["error"] <= 0.01
    assert d["setting"].startswith("non-tonic, excitatory") and d["allow_tonic"] is False
    argv = ["approximate", "--t-in", "10", "--t-out", "15", "--eps", "0.01", "--no-skip"]
    status, d = run_json(capsys, *argv, "--samples", "300", "--max-layers", "4")
    assert status == 1 and d["found"] is False and d["skips_allowed"] is False
    assert d["error"] == pytest.approx(5.0) and d["candidates"] > 300
    assert not d["network"]["skips"]
    status, d = run_json(capsys, *argv[:-2], "30", "--no-skip", "--samples", "300")
    assert status == 0 and d["found"] and not d["network"]["skips"]
    assert main(["theory", "approximate", "--t-in", "10", "--t-out", "15", "--eps", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "layer 2" in out and "skips: 0->2" in out and "paper's setting" in out
    main(["theory", *argv, "--samples", "200", "--max-layers", "3"])
    assert "none found" in capsys.readouterr().out


def test_approximate_below_one(capsys):
    status, d = run_json(capsys, "approximate", "--t-in", "10", "--t-out", "4", "--eps", "0.04")
    assert status == 1 and not d["found"] and "faster than its input" in d["reason"]
    argv = ["approximate", "--t-in", "10", "--t-out", "4", "--eps", "0.04", "--allow-tonic"]
    status, d = run_json(capsys, *argv)
    assert status == 0 and d["found"] and d["setting"].startswith("outside the paper's setting")


def test_coverage(capsys, tmp_path):
    fig = tmp_path / "cov.png"
    argv = ["coverage", "--t-min", "5", "--t-max", "15", "--grid", "3", "--eps", "0.1"]
    status, d = run_json(
        capsys, *argv, "--max-layers", "4", "--samples", "100", "--figure", str(fig)
    )
    assert status == 0 and fig.read_bytes()[:4] == b"\x89PNG"
    assert [b["max_layers"] for b in d["budgets"]] == [1, 2, 3, 4]
    last = d["budgets"][-1]
    # t = 5, 10, 15: the three diagonal points and 5 -> 10, 5 -> 15 are integer multiples;
    # 10 -> 15 (ratio 1.5) needs a skip; the three points below the diagonal are out of reach.
    assert last["without_skips"] == pytest.approx(5 / 9)
    assert last["with_skips"] == pytest.approx(6 / 9)
    assert last["with_skips_ratio_ge_1"] == pytest.approx(1.0)
    assert d["skip_layers"][1][2] is not None and d["chain_error"][1][2] == pytest.approx(5.0)


@pytest.mark.parametrize("flag", [[], ["--no-progress"]])
def test_coverage_shows_its_progress_on_a_terminal(capsys, monkeypatch, flag):
    # A large grid runs for hours; on a terminal the bar counts the grid's points.
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["coverage", "--t-min", "5", "--t-max", "15", "--grid", "2", "--eps", "0.1"]
    assert main(["theory", *argv, "--max-layers", "2", "--samples", "10", *flag]) == 0
    err = capsys.readouterr().err
    assert ("4/4" in err and "coverage" in err) == (not flag)


@pytest.mark.parametrize(
    "argv",
    [
        ["response-rate", "--tau-m", "-1"],
        ["response-rate", "--a", "2"],
        ["response-rate", "--period", "0"],
        ["conductance", "--gamma", "0"],
        ["cutoff", "--v-th", "-1"],
        ["simulate", "--duration", "-5"],
        ["pathways", "--dynamics", "2,x"],
        ["pathways", "--dynamics", "2,3", "--skip", "1:2"],
        ["pathways", "--dynamics", "2,3", "--skip", "oops"],
        ["pathways", "--dynamics", ",".join(["9"] * 5000)],  # 4771 digits: str() refuses
        ["approximate", "--t-in", "1", "--t-out", "2", "--eps", "-1"],
        ["approximate", "--t-in", "1", "--t-out", "2", "--eps", "0.1", "--max-layers", "0"],
        [
            "approximate",
            "--t-in",
            "1",
            "--t-out",
            "2",
            "--eps",
            "0.1",
            "--no-skip",
            "--allow-tonic",
        ],
        ["coverage", "--t-min", "5", "--t-max", "4", "--eps", "0.1"],
        ["coverage", "--t-min", "1", "--t-max", "4", "--eps", "0.1", "--grid", "1"],
        ["conductance", "--gamma", "three"],
    ],
)
def test_bad_input_exits_2_with_one_sentence(capsys, argv):
    with pytest.raises(SystemExit) as e:  # argparse errors exit directly
        raise SystemExit(main(["theory", *argv]))
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("skipsnn") and "Traceback" not in "\n".join(err)


def test_pathways_prints_a_long_count(capsys):
    _, d = run_json(capsys, "pathways", "--dynamics", ",".join(["9"] * 4000))
    assert d["pathways"] == 9**4000  # 3817 digits: printed in full


def test_subprocess_has_no_traceback():
    r = subprocess.run(
        [sys.executable, "-m", "skipsnn.cli", "theory", "cutoff", "--tau-m", "0"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "tau_m" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["response-rate", "--g", "-1e10"],
            "--g: must be a number between -1e+09 and 1e+09, got '-1e10'",
        ),
        (["response-rate", "--a", "-1e9"], "neuron parameter a must be between -1e+06 and 1e+06"),
        (["cutoff", "--v-reset", "-1E+7"], "neuron parameter v_reset must be between"),
        (["simulate", "--period", "-inf"], "--period: must be a number between 1e-06 and 1e+06"),
        (["response-rate", "--g", "-nan"], "--g: must be a number between"),
        (["response-rate", "--g", "-1e"], "--g: must be a number, got '-1e'"),
        (["pathways", "--dynamics", "-1,2"], "layer 1 must hold a positive whole number"),
        (["pathways", "--dynamics", "2,2,2", "--skip", "-1:3"], "skip -1:3 must satisfy"),
    ],
)
def test_negative_numbers_in_any_notation_reach_the_range_check(capsys, argv, message):
    """argparse by itself takes "-1e9" or "-inf" for an unknown option ("expected one
    argument"), so the range check never said what was wrong with the value."""
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["theory", *argv]))
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and "expected one argument" not in err


def test_a_negative_number_in_scientific_notation_is_a_value(capsys):
    status, d = run_json(capsys, "response-rate", "--g", "-1e9", "--v-reset", "-.5e-1")
    assert status == 0 and d["g"] == -1e9 and d["params"]["v_reset"] == -0.05


def test_a_command_line_of_too_many_options_is_refused_before_parsing(capsys, monkeypatch):
    """argparse's time grows with the square of the options (20,000 --skip took 16 s)."""
    import skipsnn.cli as cli

    def no_parsing():
        raise AssertionError("parsed")

    monkeypatch.setattr(cli, "build_parser", no_parsing)
    argv = ["theory", "pathways", "--dynamics", "2,3,2", *["--skip", "1:3"] * 40_000]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "skipsnn: error: the command line gives 40,001 options; at most 10,000 are read.\n"
    )
