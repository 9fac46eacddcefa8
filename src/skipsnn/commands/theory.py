"""``skipsnn theory ...``: the theory lab on the command line (docs/theory.md)."""

from __future__ import annotations

import argparse
import math

from ..errors import ParameterError
from ..folders import check_output_file
from ..neuron import NeuronParams, jump, periodic_times, simulate_neuron, validate_params
from ..theory import (
    approximate_period,
    closed_form,
    conductance_interval,
    count_pathways,
    cutoff_period,
    response_rate,
)
from ..theory.chains import search_chains
from ..theory.coverage import coverage, coverage_figure
from ..theory.pathways import parse_dynamics, parse_skip, validate_architecture
from ._common import add_json_flag, emit, float_in, int_in, seed_int

DEFAULT = NeuronParams()
DEFAULT_G = 10.0
DEFAULT_PERIOD = 5.0
# Ranges of the numeric options: times and resistances positive and within 12 decades,
# so that exp(-T / tau_m) is neither 0 nor 1 in floating point and no closed form divides
# by zero; potentials and conductances within a few decades of the defaults.
POSITIVE = float_in(1e-6, 1e6)
MAX_INPUTS = 10**6  # input spikes one simulation may take (duration / period)
MAX_RATIO = 1e4  # t_out / t_in (and its inverse) a construction is asked for
MAX_PATHWAY_DIGITS = 4000  # a printed pathway count (Python refuses str() past 4300 digits)


def _neuron_options(parser: argparse.ArgumentParser) -> None:
    grp = parser.add_argument_group("neuron parameters")
    grp.add_argument("--a", type=float, default=DEFAULT.a, help="resting potential (default 0)")
    grp.add_argument(
        "--tau-m", type=float, default=DEFAULT.tau_m, help="membrane time constant (default 20)"
    )
    grp.add_argument(
        "--r-m", type=float, default=DEFAULT.r_m, help="membrane resistance (default 1)"
    )
    grp.add_argument("--v-th", type=float, default=DEFAULT.v_th, help="threshold (default 1)")
    grp.add_argument(
        "--v-reset", type=float, default=DEFAULT.v_reset, help="reset potential (default 0)"
    )


def _g_option(parser):
    parser.add_argument(
        "--g",
        type=float_in(-1e9, 1e9),
        default=DEFAULT_G,
        help=f"synaptic conductance G; each input adds R_m G / tau_m (default {DEFAULT_G:g})",
    )


def _period_option(parser, what="input spike period T"):
    parser.add_argument(
        "--period",
        type=POSITIVE,
        default=DEFAULT_PERIOD,
        help=f"{what} (default {DEFAULT_PERIOD:g})",
    )


def _params(args) -> NeuronParams:
    p = validate_params(NeuronParams(args.a, args.tau_m, args.r_m, args.v_th, args.v_reset))
    for name, lo, hi in (
        ("tau_m", 1e-6, 1e6),
        ("r_m", 1e-6, 1e6),
        ("a", -1e6, 1e6),
        ("v_th", -1e6, 1e6),
        ("v_reset", -1e6, 1e6),
    ):
        if not lo <= getattr(p, name) <= hi:
            raise ParameterError(
                f"neuron parameter {name} must be between {lo:g} and {hi:g} here, "
                f"got {getattr(p, name):g}"
            )
    return p


def _fmt(x) -> str:
    return "none" if x is None else ("infinite" if x == math.inf else f"{x:.6g}")


def _simulate(args) -> int:
    p = _params(args)
    if not (math.isfinite(args.duration) and args.duration > 0):
        raise ParameterError(f"--duration must be a positive number, got {args.duration}")
    if not math.isfinite(args.g):
        raise ParameterError(f"--g must be a finite number, got {args.g}")
    if args.duration / args.period > MAX_INPUTS:
        raise ParameterError(
            f"--duration / --period asks for {args.duration / args.period:.3g} input spikes; "
            f"at most {MAX_INPUTS:,} are simulated"
        )
    inputs = periodic_times(args.period, args.duration)
    out = simulate_neuron(inputs, jump(p, args.g), p, args.duration)
    result = {
        "params": p._asdict(),
        "g": args.g,
        "period": args.period,
        "duration": args.duration,
        "input_spikes": inputs,
        "output_spikes": out,
    }
    text = (
        f"{inputs.size} inputs every {args.period:g} up to {args.duration:g}; "
        f"{out.size} output spikes: " + (", ".join(f"{t:.6g}" for t in out) if out.size else "none")
    )
    return emit(result, args.json, text)


def _response_rate(args) -> int:
    p = _params(args)
    gamma = response_rate(args.period, args.g, p)
    finite = math.isfinite(gamma)
    result = {
        "params": p._asdict(),
        "g": args.g,
        "period": args.period,
        "gamma": gamma if finite else None,
        "output_period": gamma * args.period if finite else None,
    }
    text = (
        f"gamma = {gamma}: the neuron fires once every {gamma} inputs (output period "
        f"{gamma * args.period:.6g})"
        if finite
        else "gamma is infinite: the neuron never fires at this period and conductance"
    )
    return emit(result, args.json, text)


def _conductance(args) -> int:
    p = _params(args)
    iv = conductance_interval(args.gamma, args.period, p)
    result = {
        "params": p._asdict(),
        "gamma": args.gamma,
        "period": args.period,
        "g_min": iv.g_min,
        "g_max": iv.g_max if math.isfinite(iv.g_max) else None,
        "closed_end": "g_min",
    }
    # Both ends with as many digits as tell them apart (9 at least): at 6 digits a narrow
    # interval read "1.0000005 <= G < 1".
    d = next(d for d in range(9, 18) if f"{iv.g_min:.{d}g}" != f"{iv.g_max:.{d}g}")
    hi = _fmt(iv.g_max) if math.isinf(iv.g_max) else f"{iv.g_max:.{d}g}"
    text = f"gamma = {args.gamma} at period {args.period:g} for {iv.g_min:.{d}g} <= G < {hi}"
    return emit(result, args.json, text)


def _cutoff(args) -> int:
    p = _params(args)
    tc = cutoff_period(args.g, p)
    result = {"params": p._asdict(), "g": args.g, "cutoff_period": tc}
    if tc is None:
        text = "no cutoff: one input is enough to fire, so every period fires"
    elif tc == 0.0:
        text = "cutoff period 0: the input does not raise the potential, no period fires"
    else:
        text = f"cutoff period {tc:.9g}: fires for periods below it, never at or above it"
    return emit(result, args.json, text)


def _pathways(args) -> int:
    dynamics = parse_dynamics(args.dynamics)
    skips = validate_architecture(dynamics, [parse_skip(s) for s in args.skip])
    n = count_pathways(dynamics, skips)
    digits = int(n.bit_length() * math.log10(2)) + 1  # at most one more than the true count
    if digits > MAX_PATHWAY_DIGITS:
        raise ParameterError(
            f"the architecture has a count of memory pathways of about {digits:,} digits; "
            f"at most {MAX_PATHWAY_DIGITS:,} are printed"
        )
    cf = closed_form(dynamics, skips)
    result = {
        "dynamics": dynamics,
        "skips": [list(s) for s in skips],
        "pathways": n,
        "closed_form": cf,
        "closed_form_lemma": {0: "Lemma 4", 1: "Lemma 5"}.get(len(skips)),
    }
    lemma = result["closed_form_lemma"]
    text = f"{n} distinct memory pathways" + (
        f"; {lemma} closed form gives {cf}" if cf is not None else "; no closed form for >1 skip"
    )
    return emit(result, args.json, text)


def _check_target(t_in: float, t_out: float, eps: float) -> None:
    """Targets the solver can build and verify in bounded time (one sentence otherwise)."""
    ratio = t_out / t_in
    if not 1 / MAX_RATIO <= ratio <= MAX_RATIO:
        raise ParameterError(
            f"t_out / t_in = {ratio:.3g} is outside [{1 / MAX_RATIO:g}, {MAX_RATIO:g}], the "
            "ratios the solver builds and verifies"
        )
    if eps < 1e-6 * t_out:
        raise ParameterError(
            f"--eps {eps:g} is below 1e-6 of t_out ({t_out:g}): finer than the verification's "
            "floating-point resolution"
        )


def _approximate(args) -> int:
    p = _params(args)
    _check_target(args.t_in, args.t_out, args.eps)
    if args.no_skip:
        return _no_skip(args, p)
    r = approximate_period(
        args.t_in,
        args.t_out,
        args.eps,
        p,
        max_layers=args.max_layers,
        allow_tonic=args.allow_tonic,
        allow_inhibition=args.allow_inhibition,
    )
    result = r.to_dict()
    result.update(
        search="constructions with skip-layer connections",
        skips_allowed=True,
        max_layers=args.max_layers,
        allow_tonic=args.allow_tonic,
        allow_inhibition=args.allow_inhibition,
    )
    if r.found:
        text = (
            f"found: measured output period {r.measured_period:.9g} "
            f"(target {args.t_out:g}, error {r.error:.3g} <= eps {args.eps:g}); "
            f"construction {r.plan.kind}, ratio {r.plan.ratio}, {len(r.network.layers)} layers; "
            f"{r.setting()}\n" + r.network.describe()
        )
    else:
        text = (
            f"none found: no construction within {args.max_layers} layers has an output "
            f"period within {args.eps:g} of {args.t_out:g}"
        )
        if r.network is not None:
            text += f" (closest measured period {r.measured_period:.9g})"
        if r.reason:
            text += f"; {r.reason}"
    emit(result, args.json, text)
    return 0 if r.found else 1


def _no_skip(args, p: NeuronParams) -> int:
    if args.allow_tonic or args.allow_inhibition:
        raise ParameterError("--no-skip searches non-tonic excitatory chains only")
    s = search_chains(args.t_in, args.t_out, args.eps, args.max_layers, args.samples, args.seed, p)
    result = s.to_dict()
    result.update(
        search="chains without skips, every neuron's parameters free (non-tonic)",
        skips_allowed=False,
        max_layers=args.max_layers,
        samples=args.samples,
    )
    err = "none" if s.error is None else f"{s.error:.6g}"
    if s.found:
        text = (
            f"found a chain without skips: measured output period {s.measured_period:.9g} "
            f"(error {err} <= eps {args.eps:g}), {len(s.network.layers)} layers\n"
            + s.network.describe()
        )
    else:
        text = (
            f"none found: {s.candidates} chains of 1..{args.max_layers} non-tonic neurons "
            f"without skips, each simulated; best error {err} > eps {args.eps:g} "
            "(Lemma 2: a chain only reaches integer multiples of t_in)"
        )
    emit(result, args.json, text)
    return 0 if s.found else 1


def _coverage(args) -> int:
    p = _params(args)
    if args.t_min >= args.t_max:
        raise ParameterError(f"--t-min ({args.t_min:g}) must be below --t-max ({args.t_max:g})")
    _check_target(args.t_min, args.t_max, args.eps)
    _check_target(args.t_max, args.t_min, args.eps * args.t_min / args.t_max)
    if args.figure:
        check_output_file(args.figure, "--figure")
    r = coverage(
        args.t_min, args.t_max, args.grid, args.eps, args.max_layers, p, args.samples, args.seed,
        progress=not args.no_progress,
    )  # fmt: skip
    if args.figure:
        coverage_figure(r, args.figure)
        r["figure"] = args.figure
    lines = [
        f"{args.grid}x{args.grid} grid of (t_in, t_out) in [{args.t_min:g}, {args.t_max:g}], "
        f"eps {args.eps:g}: share reached (all points | points with t_out >= t_in)"
    ]
    for b in r["budgets"]:
        lines.append(
            f"  <= {b['max_layers']:2d} layers: with skips {b['with_skips']:.3f} | "
            f"{b['with_skips_ratio_ge_1']:.3f};  without {b['without_skips']:.3f} | "
            f"{b['without_skips_ratio_ge_1']:.3f}"
        )
    if args.figure:
        lines.append(f"figure: {args.figure}")
    return emit(r, args.json, "\n".join(lines))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "theory",
        help="response rate, conductance, cutoff, memory pathways, period approximation",
        description="The theory of docs/theory.md, checked against the exact simulator.",
    )
    sub = parser.add_subparsers(dest="theory_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("simulate", help="output spike times of one neuron for a periodic input")
    _period_option(p)
    p.add_argument("--duration", type=POSITIVE, default=100.0, help="simulated time (default 100)")
    _g_option(p)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_simulate)

    p = sub.add_parser("response-rate", help="inputs per output spike, gamma(T, G)")
    _period_option(p)
    _g_option(p)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_response_rate)

    p = sub.add_parser("conductance", help="the interval of G giving a response rate (Lemma 1)")
    p.add_argument(
        "--gamma", type=int_in(1, 10**6), required=True, help="requested response rate (>= 1)"
    )
    _period_option(p)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_conductance)

    p = sub.add_parser("cutoff", help="the cutoff period for a conductance (Lemma 3)")
    _g_option(p)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_cutoff)

    p = sub.add_parser("pathways", help="count memory pathways (Lemmas 4, 5)")
    p.add_argument(
        "--dynamics",
        required=True,
        help="dynamics per layer 1..m, comma separated (layer 0 is the input, one node)",
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="START:END",
        help="a skip-layer connection from layer START to layer END (repeatable)",
    )
    add_json_flag(p)
    p.set_defaults(handler=_pathways)

    p = sub.add_parser(
        "approximate",
        help="build a one-neuron-per-layer network mapping t_in to t_out (Theorem 1)",
        description="Exit status 0 when a verified network is found, 1 when none is. "
        "Default: non-tonic neurons, excitatory synapses (the paper's setting).",
    )
    _target_options(p)
    p.add_argument("--max-layers", type=int_in(1, 64), default=16, help="layer budget (default 16)")
    p.add_argument(
        "--no-skip",
        action="store_true",
        help="search chains without skips instead, every neuron's parameters free (Lemma 2)",
    )
    p.add_argument(
        "--allow-tonic",
        action="store_true",
        help="also use tonic neurons (outside the paper's setting; the only way below ratio 1)",
    )
    p.add_argument(
        "--allow-inhibition",
        action="store_true",
        help="also use inhibitory synapses (outside the paper's setting)",
    )
    _search_options(p)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_approximate)

    p = sub.add_parser(
        "coverage",
        help="share of a (t_in, t_out) grid reached with and without skips, per layer budget",
    )
    p.add_argument("--t-min", type=POSITIVE, required=True, help="smallest period of the grid")
    p.add_argument("--t-max", type=POSITIVE, required=True, help="largest period of the grid")
    p.add_argument("--grid", type=int_in(1, 200), default=10, help="points per axis (default 10)")
    p.add_argument("--eps", type=POSITIVE, required=True, help="allowed |measured - t_out|")
    p.add_argument(
        "--max-layers", type=int_in(1, 64), default=8, help="largest layer budget (default 8)"
    )
    p.add_argument("--figure", default=None, help="write the coverage figure (PNG) here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _search_options(p, samples=600)
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_coverage)


def _target_options(p) -> None:
    p.add_argument("--t-in", type=POSITIVE, required=True, help="input spike period")
    p.add_argument("--t-out", type=POSITIVE, required=True, help="target output period")
    p.add_argument("--eps", type=POSITIVE, required=True, help="allowed |measured - t_out|")


def _search_options(p, samples: int = 2000) -> None:
    p.add_argument(
        "--samples",
        type=int_in(1, 10**6),
        default=samples,
        help=f"random chains per no-skip search, spread over the lengths (default {samples})",
    )
    p.add_argument(
        "--seed", type=seed_int, default=0, help="seed of the no-skip search (default 0)"
    )
