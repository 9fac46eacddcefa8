"""``skipsnn theory ...``: the theory lab on the command line (docs/theory.md)."""

from __future__ import annotations

import argparse
import math

from ..errors import ParameterError
from ..neuron import NeuronParams, jump, periodic_times, simulate_neuron, validate_params
from ..theory import (
    approximate_period,
    closed_form,
    conductance_interval,
    count_pathways,
    cutoff_period,
    response_rate,
)
from ..theory.pathways import parse_dynamics, parse_skip, validate_architecture
from ._common import add_json_flag, emit

DEFAULT = NeuronParams()
DEFAULT_G = 10.0
DEFAULT_PERIOD = 5.0


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
        type=float,
        default=DEFAULT_G,
        help=f"synaptic conductance G; each input adds R_m G / tau_m (default {DEFAULT_G:g})",
    )


def _period_option(parser, what="input spike period T"):
    parser.add_argument(
        "--period", type=float, default=DEFAULT_PERIOD, help=f"{what} (default {DEFAULT_PERIOD:g})"
    )


def _params(args) -> NeuronParams:
    return validate_params(NeuronParams(args.a, args.tau_m, args.r_m, args.v_th, args.v_reset))


def _fmt(x) -> str:
    return "none" if x is None else ("infinite" if x == math.inf else f"{x:.6g}")


def _simulate(args) -> int:
    p = _params(args)
    if not (math.isfinite(args.duration) and args.duration > 0):
        raise ParameterError(f"--duration must be a positive number, got {args.duration}")
    if not math.isfinite(args.g):
        raise ParameterError(f"--g must be a finite number, got {args.g}")
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
    text = (
        f"gamma = {args.gamma} at period {args.period:g} for {iv.g_min:.9g} <= G < {_fmt(iv.g_max)}"
    )
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


def _approximate(args) -> int:
    p = _params(args)
    r = approximate_period(
        args.t_in, args.t_out, args.eps, p, max_layers=args.max_layers, skips=not args.no_skip
    )
    result = r.to_dict()
    result["skips_allowed"] = not args.no_skip
    result["max_layers"] = args.max_layers
    if r.found:
        text = (
            f"found: measured output period {r.measured_period:.9g} "
            f"(target {args.t_out:g}, error {r.error:.3g} <= eps {args.eps:g}); "
            f"construction {r.plan.kind}, ratio {r.plan.ratio}\n" + r.network.describe()
        )
    else:
        mode = "chains of non-tonic neurons without skips" if args.no_skip else "the constructions"
        text = (
            f"none found: no network within {args.max_layers} layers from {mode} has an "
            f"output period within {args.eps:g} of {args.t_out:g}"
        )
        if r.network is not None:
            text += f" (closest measured period {r.measured_period:.9g})"
    emit(result, args.json, text)
    return 0 if r.found else 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "theory",
        help="response rate, conductance, cutoff, memory pathways, period approximation",
        description="The theory of docs/theory.md, checked against the exact simulator.",
    )
    sub = parser.add_subparsers(dest="theory_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("simulate", help="output spike times of one neuron for a periodic input")
    _period_option(p)
    p.add_argument("--duration", type=float, default=100.0, help="simulated time (default 100)")
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
    p.add_argument("--gamma", type=int, required=True, help="requested response rate (>= 1)")
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
        description="Exit status 0 when a verified network is found, 1 when none is.",
    )
    p.add_argument("--t-in", type=float, required=True, help="input spike period")
    p.add_argument("--t-out", type=float, required=True, help="target output period")
    p.add_argument("--eps", type=float, required=True, help="allowed |measured - t_out|")
    p.add_argument("--max-layers", type=int, default=6, help="layer budget (default 6)")
    p.add_argument(
        "--no-skip",
        action="store_true",
        help="chains of non-tonic neurons only, no skips (the setting of Lemma 2)",
    )
    _neuron_options(p)
    add_json_flag(p)
    p.set_defaults(handler=_approximate)
