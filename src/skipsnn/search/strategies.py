"""The three search strategies over an `MMNDProblem`, with one shared budget and journal.

* ``dual``: phase ``V`` searches the architecture space with the dynamics fixed at the
  template's defaults (``budget_v`` trials), then phase ``W`` searches the dynamics of the
  best architecture (``budget_w`` trials). The overall best is the better of the two
  phases' bests (phase V's best is a complete configuration with the default dynamics).
* ``joint``: one BO over V and W together (W sized for the largest ``n_dynamic``; only
  the first ``n_dynamic`` dynamics are used), ``budget_v + budget_w`` trials.
* ``random``: uniform feasible points of the joint space, the same budget.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..atomic import save_figure
from ..errors import ConfigError, check_choice
from .executor import make_executor
from .journal import Journal
from .mmnd import W_KEYS, MMNDProblem, architecture_of, dynamics_of, flat_params, used_params
from .optimizer import SearchResult, minimize

STRATEGIES = ("dual", "joint", "random")


@dataclass
class StrategyResult:
    strategy: str
    best_params: dict | None  # flat: V names plus a_i, tau_m_i, r_m_i
    best_value: float | None
    best_info: dict
    phases: list[SearchResult] = field(default_factory=list)

    def summary(self, problem: MMNDProblem) -> dict[str, Any]:
        """The content of ``best.json``: best architecture, dynamics, objective, phases."""
        best = None
        if self.best_params is not None:
            arch = architecture_of(self.best_params)
            dyn = dynamics_of(self.best_params, arch["n_dynamic"])
            best = {
                "architecture": arch,
                "dynamics": [dict(zip(W_KEYS, d, strict=True)) for d in dyn],
                "val_loss": self.best_value,
                "info": self.best_info,
            }
        return {
            "strategy": self.strategy,
            "objective": "validation loss after a short training run (lower is better)",
            "best": best,
            "phases": [
                {
                    "phase": ph.phase,
                    "evaluations": len(ph.trials),
                    "finished": ph.n_finished,
                    "failed": ph.n_failed,
                    "best_val_loss": ph.best_value,
                    "best_params": ph.best_params,
                }
                for ph in self.phases
            ],
        }


def with_default_dynamics(problem: MMNDProblem, v: dict) -> dict:
    """A V point completed with the dynamics phase V held fixed, as flat parameters."""
    return flat_params(v, problem.default_dynamics(int(v["n_dynamic"])))


def run_strategy(
    problem: MMNDProblem,
    objective: Callable,
    strategy: str,
    budget_v: int,
    budget_w: int,
    *,
    workers: int = 1,
    address: str | None = None,
    seed: int = 0,
    journal: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = False,
    gpus_per_trial: float = 0,
) -> StrategyResult:
    """Run ``strategy`` (dual, joint or random) and return its best configuration."""
    check_choice("strategy", strategy, STRATEGIES)
    if budget_v < 1 or budget_w < 0 or (strategy == "dual" and budget_w < 1):
        raise ConfigError(
            f"the budgets must be positive, got budget-v {budget_v} and budget-w {budget_w}"
        )
    s = problem.settings
    log = Journal(journal) if journal is not None else None
    ex = make_executor(workers, address, gpus_per_trial)
    common = dict(
        seed=seed,
        journal=log,
        resume=resume,
        progress=progress,
        executor=ex,
        raw_samples=s.raw_samples,
        num_restarts=s.num_restarts,
        n_initial=s.n_initial,
        kernel=s.gp_kernel,
    )
    try:
        if strategy == "dual":
            v_res = minimize(objective, problem.v_space(), budget=budget_v, phase="V", **common)
            if v_res.best_params is None:
                return StrategyResult(strategy, None, None, {}, [v_res])
            v_best = architecture_of(v_res.best_params)
            # Phase V already measured the best architecture with the default dynamics:
            # phase W's GP starts from that observation (when it lies inside W's bounds).
            seen = (with_default_dynamics(problem, v_best), v_res.best_value)
            w_res = minimize(
                objective,
                problem.w_space(v_best["n_dynamic"]),
                prior=[seen],
                budget=budget_w,
                phase="W",
                fixed=v_best,
                **common,
            )
            phases = [v_res, w_res]
            if w_res.best_value is not None and w_res.best_value <= v_res.best_value:
                best, value, info = (
                    used_params({**v_best, **w_res.best_params}),
                    w_res.best_value,
                    w_res.best_info,
                )
            else:
                best, value, info = (
                    with_default_dynamics(problem, v_best),
                    v_res.best_value,
                    v_res.best_info,
                )
            return StrategyResult(strategy, best, value, info, phases)
        res = minimize(
            objective,
            problem.joint_space(),
            budget=budget_v + budget_w,
            phase=strategy,
            strategy="bo" if strategy == "joint" else "random",
            **common,
        )
        best = None if res.best_params is None else used_params(res.best_params)
        return StrategyResult(strategy, best, res.best_value, res.best_info, [res])
    finally:
        ex.close()


def plot_convergence(result: StrategyResult, path: str | os.PathLike) -> None:
    """Best objective against evaluations, one line per phase, as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    start = 0
    for ph in result.phases:
        hist = ph.best_so_far()
        xs = [start + i + 1 for i, b in enumerate(hist) if b is not None]
        ys = [b for b in hist if b is not None]
        ax.step(xs, ys, where="post", marker="o", ms=3, label=f"phase {ph.phase}")
        fails = [start + i + 1 for i, t in enumerate(ph.trials) if t.status == "failed"]
        if fails and ys:
            ax.plot(fails, [max(ys)] * len(fails), "x", color="red", label="failed trial")
        start += len(hist)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best validation loss")
    ax.set_title(f"search convergence ({result.strategy})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
