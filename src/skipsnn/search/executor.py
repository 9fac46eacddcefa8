"""Where trials run: in this process (one worker) or on Ray workers (local or a cluster).

Both executors take ``submit(trial_id, objective, params)`` and hand back finished trials
one at a time from ``wait_one()`` as ``(trial_id, Outcome)``. An exception or a non-finite
value inside the objective becomes a failed outcome with its error text, never a crash.
"""

from __future__ import annotations

import math
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import ConfigError


class Outcome(NamedTuple):
    value: float | None  # None when failed
    info: dict
    error: str | None


def evaluate(objective: Callable[[Mapping[str, Any]], Any], params: Mapping[str, Any]) -> Outcome:
    """Call ``objective(params)``; it returns a number, or ``(number, info_dict)``."""
    try:
        result = objective(dict(params))
        value, info = result if isinstance(result, tuple) else (result, {})
        value = float(value)
    except Exception as e:  # noqa: BLE001 - any failure of a trial is recorded, not raised
        last = traceback.format_exception_only(type(e), e)[-1].strip()
        return Outcome(None, {}, last)
    if not math.isfinite(value):
        return Outcome(None, dict(info or {}), f"objective returned {value}")
    return Outcome(value, dict(info or {}), None)


class InProcessExecutor:
    """Runs each trial when it is waited for: deterministic, no Ray, easy to debug."""

    workers = 1

    def __init__(self) -> None:
        self._queue: deque = deque()

    def submit(self, trial_id: int, objective: Callable, params: Mapping[str, Any]) -> None:
        self._queue.append((trial_id, objective, params))

    def in_flight(self) -> int:
        return len(self._queue)

    def wait_one(self) -> tuple[int, Outcome]:
        trial_id, objective, params = self._queue.popleft()
        return trial_id, evaluate(objective, params)

    def close(self) -> None:
        self._queue.clear()


def _remote_evaluate(objective: Callable, params: Mapping[str, Any]) -> Outcome:
    import ray
    import torch  # one thread per worker: the workers already use the cores in parallel

    torch.set_num_threads(1)
    out = evaluate(objective, params)
    node = ray.get_runtime_context().get_node_id()  # recorded in the journal with the result
    return Outcome(out.value, {**out.info, "ray_node": node}, out.error)


RETRIES_ON_NODE_LOSS = 2


class RayExecutor:
    """Trials as Ray tasks, one CPU (and ``gpus_per_trial`` GPUs) each, reserved through
    Ray's resources; starts a local Ray unless ``address`` is given. Ray hands each task
    its GPUs in ``CUDA_VISIBLE_DEVICES``, so a trial's ``train.device: auto`` finds them."""

    def __init__(self, workers: int, address: str | None = None, gpus_per_trial: float = 0) -> None:
        try:
            import ray
        except ImportError as e:  # pragma: no cover - ray is a dependency
            raise ConfigError(
                "parallel search needs the ray package, which is not installed"
            ) from e
        self._ray = ray
        self._started = False
        self._refs: dict[Any, int] = {}
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            try:
                if address:
                    ray.init(address=address, **kwargs)
                else:
                    ray.init(num_cpus=workers, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as e:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise ConfigError(f"could not start or join {where}: {e}") from e
            self._started = True
        if gpus_per_trial > 0:
            have = ray.cluster_resources().get("GPU", 0)
            if have < gpus_per_trial:
                self.close()
                raise ConfigError(
                    f"--gpus-per-trial {gpus_per_trial:g} asks for more GPUs than the Ray "
                    f"cluster has ({have:g}); trials would wait forever"
                )
        self.workers = workers
        # A trial whose worker process or node dies is run again by Ray (an error inside
        # the trial is an outcome, never retried): a lost node loses no trial.
        self._task = ray.remote(
            num_cpus=1, num_gpus=gpus_per_trial, max_retries=RETRIES_ON_NODE_LOSS
        )(_remote_evaluate)

    def submit(self, trial_id: int, objective: Callable, params: Mapping[str, Any]) -> None:
        self._refs[self._task.remote(objective, dict(params))] = trial_id

    def in_flight(self) -> int:
        return len(self._refs)

    def wait_one(self) -> tuple[int, Outcome]:
        (ref,), _ = self._ray.wait(list(self._refs), num_returns=1)
        trial_id = self._refs.pop(ref)
        try:
            outcome = self._ray.get(ref)
        except Exception as e:  # noqa: BLE001 - a crashed worker fails only its trial
            outcome = Outcome(None, {}, f"worker failed: {type(e).__name__}: {e}".splitlines()[0])
        return trial_id, outcome

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._started:
            self._ray.shutdown()


def make_executor(workers: int = 1, address: str | None = None, gpus_per_trial: float = 0):
    """In-process for one local worker without GPU reservations, Ray otherwise."""
    if workers < 1:
        raise ConfigError(f"the number of workers must be at least 1, got {workers}")
    if not (gpus_per_trial >= 0 and math.isfinite(gpus_per_trial)):
        raise ConfigError(f"--gpus-per-trial must be >= 0, got {gpus_per_trial}")
    if workers == 1 and not address and not gpus_per_trial:
        return InProcessExecutor()
    return RayExecutor(workers, address, gpus_per_trial)
