"""`minimize`: Bayesian optimization (or random search) of any function over a `Space`.

The loop keeps up to ``workers`` trials in flight. It starts with ``n_initial`` random
feasible points, then proposes by gated EI (`acquisition.propose`), taking the running
trials into account with the kriging believer. Every proposal and every result goes to
the journal first, so the state can always be rebuilt from it (``resume=True``).

Reproducibility: the k-th proposal of a phase uses seed ``(seed, k)`` (numpy Generator,
torch seed), so with one worker a resumed search makes exactly the proposals the
uninterrupted search would have made.

Failed trials (an exception or a non-finite value) are recorded with their error and
count against the budget; the GP sees them at the worst finished value, so it steers
away without being distorted by an arbitrary penalty.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError, check_choice
from . import acquisition
from .executor import make_executor
from .journal import Journal, Trial, replay
from .settings import GP_KERNELS
from .space import Params, Space, key
from .trust_region import TrustRegionSettings

STRATEGIES = ("bo", "random")
TRUST_REGION = TrustRegionSettings()  # the defaults of ``trust_region=True``


@dataclass
class SearchResult:
    """Outcome of one phase: the best point, its value, and every trial in finishing order."""

    phase: str
    best_params: Params | None
    best_value: float | None
    best_info: dict
    trials: list[Trial] = field(default_factory=list)

    @property
    def n_finished(self) -> int:
        return sum(t.status == "finished" for t in self.trials)

    @property
    def n_failed(self) -> int:
        return sum(t.status == "failed" for t in self.trials)

    def best_so_far(self) -> list[float | None]:
        """Best value after each evaluation (finished or failed), in finishing order."""
        out, best = [], None
        for t in self.trials:
            if t.status == "finished" and (best is None or t.value < best):
                best = t.value
            out.append(best)
        return out


def _seed(seed: int, phase: str, k: int) -> int:
    """A proposal's seed from (seed, phase, proposal index), stable across processes."""
    phase_code = sum((i + 1) * ord(c) for i, c in enumerate(phase))
    return int(np.random.SeedSequence([seed, phase_code, k]).generate_state(1)[0] % (2**31))


def _random_point(space: Space, rng: np.random.Generator, taken: set) -> Params | None:
    if space.is_discrete:
        candidates = acquisition.feasible_unevaluated(space, taken)
        return candidates[int(rng.integers(len(candidates)))] if candidates else None
    points = space.sample_feasible(rng, 1)
    if not points:
        raise ConfigError("the feasibility constraints leave no point of the search space")
    return points[0]


def _misfit(space: Space, params: dict) -> str | None:
    """Why a journalled trial's ``params`` cannot be one of ``space``'s points, or None.

    Every point the search proposes lies in the box (integers whole), so one outside it
    comes from another search or a damaged journal, and would bend the GP's unit cube.
    """
    for p in space.params:
        if p.name not in params:
            return f"has no {p.name!r}"
        v = params[p.name]
        slack = 1e-9 * max(1.0, abs(p.low), abs(p.high))  # log-scale decoding rounds
        if not p.low - slack <= v <= p.high + slack:
            return f"has {p.name} = {v!r}, outside the search's range [{p.low:g}, {p.high:g}]"
        if p.is_int and v != int(v):
            return f"has {p.name} = {v!r}, not a whole number"
    return None


def minimize(
    objective: Callable[[Mapping[str, Any]], Any],
    space: Space,
    *,
    budget: int,
    strategy: str = "bo",
    n_initial: int | None = None,
    workers: int = 1,
    address: str | None = None,
    seed: int = 0,
    journal: str | Path | Journal | None = None,
    resume: bool = False,
    phase: str = "main",
    fixed: Mapping[str, Any] | None = None,
    raw_samples: int = 512,
    num_restarts: int = 8,
    maxiter: int = 200,
    noise: float | None = None,
    prior: Sequence[tuple[Mapping[str, Any], float]] = (),
    trust_region: bool | TrustRegionSettings = False,
    kernel: str = "rbf",
    progress: bool = False,
    executor=None,
) -> SearchResult:
    """Minimize ``objective`` over ``space`` with ``budget`` evaluations.

    ``objective(params)`` gets the space's parameters merged with ``fixed`` and returns a
    number or ``(number, info_dict)``. ``noise`` fixes the GP's observation noise
    (standardized units; e.g. 1e-4 for a deterministic function), None infers it.
    ``prior`` holds ``(params, value)`` pairs already known (e.g. from an earlier phase):
    the GP sees them, they are not proposed again, and they are not part of the result. ``strategy`` is ``"bo"`` or ``"random"``. With a
    ``journal`` path every event is logged; ``resume=True`` continues from it (the
    records of other phases in the same journal are left alone). ``kernel`` picks the GP's
    covariance (`settings.GP_KERNELS`; docs/search.md compares them on Hartmann-6).
    """
    check_choice("search strategy", strategy, STRATEGIES)
    check_choice("GP kernel", kernel, GP_KERNELS)
    if budget < 1:
        raise ConfigError(f"the search budget must be at least 1 evaluation, got {budget}")
    if n_initial is None:  # d + 1 random points, but leave the GP at least 2/3 of a small budget
        n_initial = min(max(4, space.dim + 1), max(2, budget // 3))
    n_initial = max(1, n_initial)
    fixed = dict(fixed or {})
    if trust_region is True:
        trust_region = TRUST_REGION
    tr_settings = trust_region or None

    log = journal if isinstance(journal, Journal) or journal is None else Journal(journal)
    trials: dict[int, Trial] = {}
    if log is not None:
        all_trials = replay(log.read())
        mine = {i: t for i, t in all_trials.items() if t.phase == phase}
        if mine and not resume:
            raise ConfigError(
                f"the journal {log.path} already holds this search; pass resume to continue it"
            )
        for t in mine.values():
            problem = _misfit(space, t.params)
            if problem:
                raise ConfigError(
                    f"the journal {log.path} does not fit this search: trial {t.id} of phase "
                    f"{phase} {problem}"
                )
        log.repair()
        trials = mine
        next_id = max(all_trials, default=-1) + 1
    else:
        next_id = 0

    done_order = [t for t in trials.values() if t.status != "pending"]
    known = [
        Trial(-1 - i, "prior", {n: p[n] for n in space.names}, "finished", float(v))
        for i, (p, v) in enumerate(prior)
        if space.is_feasible({n: p[n] for n in space.names}) and np.isfinite(v)
    ]
    rerun = [t for t in trials.values() if t.status == "pending"]
    n_proposed = len(trials)

    def record(event: dict) -> None:
        if log is not None:
            log.append({"time": time.time(), **event})

    ex = executor or make_executor(workers, address)
    bar = tqdm(
        total=budget,
        initial=min(len(done_order), budget),
        desc=f"search {phase}",
        disable=not progress or not sys.stderr.isatty(),
        leave=False,
    )
    try:
        in_flight: dict[int, Trial] = {}

        def launch(t: Trial) -> None:
            in_flight[t.id] = t
            ex.submit(t.id, objective, {**fixed, **t.params})

        for t in rerun:  # proposed before a kill, never finished: run them again as they were
            if len(done_order) + len(in_flight) < budget:
                launch(t)

        exhausted = False
        while True:
            room = min(ex.workers - len(in_flight), budget - len(done_order) - len(in_flight))
            if room > 0 and not exhausted:
                new = _propose(
                    space,
                    strategy,
                    known + done_order,
                    list(in_flight.values()),
                    room,
                    n_initial,
                    seed,
                    phase,
                    n_proposed,
                    raw_samples,
                    num_restarts,
                    maxiter,
                    noise,
                    tr_settings,
                    kernel,
                )
                exhausted = len(new) < room
                for params in new:
                    t = Trial(next_id, phase, params)
                    next_id += 1
                    n_proposed += 1
                    record({"event": "proposed", "trial": t.id, "phase": phase, "params": params})
                    trials[t.id] = t
                    launch(t)
            if not in_flight:
                break
            trial_id, outcome = ex.wait_one()
            t = in_flight.pop(trial_id)
            t.info = outcome.info
            if outcome.error is None:
                t.status, t.value = "finished", outcome.value
                record(
                    {
                        "event": "finished",
                        "trial": t.id,
                        "phase": phase,
                        "value": t.value,
                        "info": t.info,
                    }
                )
            else:
                t.status, t.error = "failed", outcome.error
                record(
                    {
                        "event": "failed",
                        "trial": t.id,
                        "phase": phase,
                        "error": t.error,
                        "info": t.info,
                    }
                )
            done_order.append(t)
            bar.update(1)
            if progress and bar.disable:  # no terminal for a bar: one line per trial
                shown = f"value {t.value:.4f}" if t.status == "finished" else f"failed: {t.error}"
                best = min((d.value for d in done_order if d.status == "finished"), default=None)
                print(
                    f"search {phase} trial {len(done_order)}/{budget} (id {t.id}): {shown}"
                    + ("" if best is None else f"; best so far {best:.4f}"),
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        bar.close()
        if executor is None:
            ex.close()

    finished = [t for t in done_order if t.status == "finished"]
    best = min(finished, key=lambda t: t.value) if finished else None
    return SearchResult(
        phase=phase,
        best_params=dict(best.params) if best else None,
        best_value=best.value if best else None,
        best_info=dict(best.info) if best else {},
        trials=done_order,
    )


def _propose(
    space: Space,
    strategy: str,
    done: list[Trial],
    pending: list[Trial],
    n: int,
    n_initial: int,
    seed: int,
    phase: str,
    n_proposed: int,
    raw_samples: int,
    num_restarts: int,
    maxiter: int,
    noise: float | None,
    tr_settings: TrustRegionSettings | None = None,
    kernel: str = "rbf",
) -> list[Params]:
    """The next ``n`` points: random while fewer than ``n_initial`` are proposed, else BO.

    ``done`` holds this phase's finished and failed trials plus any prior observations.
    """
    taken = {key(t.params, space.names) for t in (*done, *pending)}
    phase_done = [t for t in done if t.phase != "prior"]
    finished = [t for t in done if t.status == "finished"]
    out: list[Params] = []
    k = n_proposed
    while len(out) < n and (strategy == "random" or k < n_initial or not finished):
        point = _random_point(space, np.random.default_rng(_seed(seed, phase, k)), taken)
        if point is None:
            return out
        out.append(point)
        taken.add(key(point, space.names))
        k += 1
    if len(out) == n:
        return out
    worst = max(t.value for t in finished)
    evaluated = list(done)  # failed trials enter the GP at the worst finished value
    values = [t.value if t.status == "finished" else worst for t in evaluated]
    pending_params = [t.params for t in pending] + out
    return out + acquisition.propose(
        space,
        [t.params for t in evaluated],
        values,
        pending_params,
        n - len(out),
        seed=_seed(seed, phase, k),
        raw_samples=raw_samples,
        num_restarts=num_restarts,
        maxiter=maxiter,
        noise=noise,
        trust_region=tr_settings,
        n_start=len(done) - len(phase_done) + min(n_initial, len(phase_done)),
        kernel=kernel,
    )
