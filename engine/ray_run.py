"""A run in a Ray actor: the Run API, with the model training in a worker process of a Ray cluster.

:class:`RayRun` offers what a page uses of :class:`engine.run.Run` (parameters, play, pause, step, reset, speed,
snapshots, the timeline) and forwards each call to a :class:`engine.run.Run` living in its own Ray actor, so a page
does not change. Snapshots travel as plain dicts of NumPy arrays through Ray's object store. The actor asks Ray for
``GENLAB_RAY_CPUS`` CPUs (default 1) and ``GENLAB_RAY_GPUS`` GPUs (a fraction is fine; default 0); the run inside
trains with that many threads.

The page's own copy of the task (:attr:`RayRun.task`, reset with the same parameters) answers what pages read from a
task (its data, names, sizes); it never trains. Until the cluster has room for the actor (each asks for its CPUs),
the run is ``waiting`` and shows that copy's step-0 picture; parameter changes and Play made meanwhile reach the
actor when it starts. A shared server's limits (engine.admission) are kept by the web server: a run past them waits
here, not in the cluster. When the worker process dies, the run fails with a message and Reset starts a new actor;
nothing else on the server is affected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

from engine.admission import Admission, InLine
from engine.run import CLOSED, FAILED, RUNNING, WAITING, Run, Series, Snapshot, Task

CPUS_ENV, GPUS_ENV = "GENLAB_RAY_CPUS", "GENLAB_RAY_GPUS"


def portable(snap: Snapshot) -> dict[str, Any]:
    """A snapshot as plain values (read-only mappings do not pickle)."""
    out = {f.name: getattr(snap, f.name) for f in fields(Snapshot)}
    out["metrics"] = {k: (s.steps, s.values) for k, s in snap.metrics.items()}
    out["arrays"] = dict(snap.arrays)
    out["params"] = dict(snap.params)
    return out


def restored(values: Mapping[str, Any]) -> Snapshot:
    """The snapshot :func:`portable` made plain."""
    metrics = MappingProxyType({k: Series(steps, vals) for k, (steps, vals) in values["metrics"].items()})
    return Snapshot(**{**values, "metrics": metrics, "arrays": MappingProxyType(dict(values["arrays"])), "params": MappingProxyType(dict(values["params"]))})


class RunActor:
    """What runs in the Ray worker: one Run, driven by name (:meth:`call`, :meth:`get`)."""

    def __init__(self, make_task: Callable[[], Task], params: Mapping[str, Any], run_kwargs: Mapping[str, Any], threads: int):
        from engine.device import configure_threads

        configure_threads(threads)
        self.run = Run(make_task(), params, **run_kwargs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.run, name)(*args, **kwargs)
        if isinstance(result, Snapshot):
            return portable(result)
        if isinstance(result, list) and result and isinstance(result[0], Snapshot):
            return [portable(s) for s in result]
        return result

    def get(self, name: str) -> Any:
        value = getattr(self.run, name)
        return dict(value) if isinstance(value, Mapping) else value

    def pid(self) -> int:
        return os.getpid()


class RayRun(InLine):
    """The Run API over a :class:`RunActor` (see the module's docstring)."""

    def __init__(self, make_task: Callable[[], Task], params: Mapping[str, Any], *, admission: Admission | None = None, session: Hashable = None,
                 idle_timeout: float = 60.0, **run_kwargs: Any):  # fmt: skip
        import ray

        self._ray = ray
        self._make_task = make_task
        self.task = make_task()
        declared = getattr(self.task, "PARAMS", None)
        params = declared.complete(params) if declared is not None else dict(params)
        self.task.reset(dict(params))
        self.idle_timeout = idle_timeout
        self._run_kwargs = {**run_kwargs, "idle_timeout": idle_timeout}
        self._admission, self._session = admission, session
        self._waiting = False
        self._lost: str | None = None
        self._closed = False
        self._last_read = time.monotonic()
        self._params = dict(params)
        self._pending: dict[str, Any] = {}
        self._start_when_ready = False
        self._speed = (run_kwargs.get("steps_per_second"), int(run_kwargs.get("steps_per_frame", 1)))
        self._actor = self._new_actor(params)
        self._last = self._placeholder()

    # ------------------------------------------------------------------ the actor

    def _new_actor(self, params: Mapping[str, Any]) -> Any:
        cpus = float(os.environ.get(CPUS_ENV, "1"))
        gpus = float(os.environ.get(GPUS_ENV, "0"))
        actor_class = self._ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=0)(RunActor)
        self._lost = None
        actor = actor_class.remote(self._make_task, dict(params), self._run_kwargs, max(1, int(cpus)))
        self._started = actor.pid.remote()  # done once the cluster has placed the actor and built its run
        return actor

    def _ready(self) -> bool:
        """Whether the actor runs; the first time it does, what was asked meanwhile is sent to it."""
        if self._started is None:
            return True
        if not self._ray.wait([self._started], timeout=0)[0]:
            return False
        self._started = None
        try:
            if self._pending:
                self._call("call", "update_params", **self._pending)
                self._pending = {}
            self._call("call", "set_speed", *self._speed)
            if self._start_when_ready:
                self._start_when_ready = False
                self._call("call", "start")
        except RuntimeError:
            if self._lost is None:
                raise
        return True

    def _placeholder(self) -> Snapshot:
        """What the page shows while the cluster has no room for the actor yet: the page's own task at step 0."""
        cpus = os.environ.get(CPUS_ENV, "1")
        return Snapshot(0, 0, 0.0, WAITING, f"Waiting for the Ray cluster to start this run's worker (each run asks for {cpus} CPU); it starts by itself.",
                        MappingProxyType({}), MappingProxyType(dict(self.task.arrays())), MappingProxyType({**self._params, **self._pending}))  # fmt: skip

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the actor and wait; its exceptions come back as themselves, a dead worker fails the run."""
        from ray.exceptions import RayActorError, RayTaskError

        if self._lost is not None:
            raise RuntimeError(f"this run's worker stopped ({self._lost}); press Reset to start a new one")
        try:
            return self._ray.get(getattr(self._actor, method).remote(*args, **kwargs))
        except RayTaskError as err:
            cause = err.cause if isinstance(getattr(err, "cause", None), Exception) else err
            raise cause from None
        except RayActorError as err:
            self._lost = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            self._leave_admission()
            raise RuntimeError(f"this run's worker stopped ({self._lost}); press Reset to start a new one") from None

    def worker_pid(self) -> int:
        """The process id of the worker running this run (to watch it, or to stop it in a test)."""
        return self._call("pid")

    # ------------------------------------------------------------------ state

    @property
    def status(self) -> str:
        if self._closed:
            return CLOSED
        if self._lost is not None:
            return FAILED
        if self._waiting or not self._ready():
            return WAITING
        return self._call("get", "status")

    @property
    def params(self) -> Mapping[str, Any]:
        if not self._ready():
            return MappingProxyType({**self._params, **self._pending})
        return MappingProxyType(self._call("get", "params"))

    @property
    def speed(self) -> tuple[float | None, int]:
        return tuple(self._call("get", "speed")) if self._ready() else self._speed

    @property
    def thread_alive(self) -> bool:
        return self._lost is None and self._ready() and self._call("get", "thread_alive")

    @property
    def timeline_bytes(self) -> int:
        return self._call("get", "timeline_bytes") if self._ready() else 0

    def snapshot(self, watch: bool = True) -> Snapshot:
        if watch:
            self._last_read = time.monotonic()
        if self._lost is not None:
            return replace(self._last, status=FAILED, message=f"this run's worker stopped ({self._lost}); press Reset to start a new one")
        if not self._ready():
            return self._placeholder()
        try:
            snap = restored(self._call("call", "snapshot", watch))
        except RuntimeError:
            if self._lost is None:
                raise
            return self.snapshot(watch=False)
        if self._waiting:
            snap = replace(snap, status=WAITING)
        elif snap.status != RUNNING:
            self._leave_admission()  # it stopped by itself (its page left, NaN, failure): its worker is free
        self._last = snap
        return snap

    def since(self, version: int, watch: bool = True) -> list[Snapshot]:
        if watch:
            self._last_read = time.monotonic()
        if not self._ready():
            return [self._placeholder()]
        return [restored(s) for s in self._call("call", "since", version, watch)]

    def kept_steps(self) -> list[int]:
        return self._call("call", "kept_steps") if self._ready() else []

    def moment(self, step: int) -> Snapshot:
        return restored(self._call("call", "moment", step))

    def resumable(self, step: int) -> bool:
        return self._ready() and self._call("call", "resumable", step)

    # ------------------------------------------------------------------ controls

    def update_params(self, **changes: Any) -> None:
        if self._ready():
            self._call("call", "update_params", **changes)
            return
        candidate = {**self._params, **self._pending, **changes}
        declared = getattr(self.task, "PARAMS", None)
        if declared is not None:
            declared.check(candidate)
        if hasattr(self.task, "check_params"):
            self.task.check_params(candidate)
        self._pending.update(changes)

    def set_speed(self, steps_per_second: float | None = None, steps_per_frame: int | None = None) -> None:
        frame = self._speed[1] if steps_per_frame is None else int(steps_per_frame)
        Run._check_speed(steps_per_second, frame)
        self._speed = (steps_per_second, frame)
        if self._ready():
            self._call("call", "set_speed", steps_per_second, frame)

    def start(self) -> None:
        status = self.status
        if status == CLOSED:
            raise RuntimeError("this run is closed")
        if status == FAILED:
            raise RuntimeError("this run failed; reset it first")
        self._last_read = time.monotonic()
        place = self._admission.request(self, self._session) if self._admission is not None else 0
        self._waiting = place > 0
        if not self._waiting:
            self._begin()

    def _begin(self) -> None:
        if self._ready():
            self._call("call", "start")
        else:
            self._start_when_ready = True

    resume = start

    def admitted(self) -> None:
        """The admission's call when this waiting run's turn has come."""
        if self._waiting:
            self._waiting = False
            self._begin()
        else:
            self._leave_admission()

    def waiting_place(self) -> int | None:
        if not self._waiting or self._admission is None:
            return None
        return self._admission.place(self) or None

    def pause(self, message: str = "") -> None:
        self._waiting = self._start_when_ready = False
        if self._lost is None and self._ready():
            self._call("call", "pause", message)
        self._leave_admission()

    def step(self, n: int = 1) -> Snapshot:
        return restored(self._call("call", "step", n))

    def reset(self) -> None:
        """A fresh model from the current parameters; after a lost worker, a new actor."""
        self._waiting = self._start_when_ready = False
        self._leave_admission()
        if self._lost is not None or not self._ready():
            params = {**self._last.params, **self._pending} if self._lost is not None else {**self._params, **self._pending}
            self._ray.kill(self._actor)
            self._params, self._pending = dict(params), {}
            self._actor = self._new_actor(params)
        else:
            self._call("call", "reset")
            params = self.params
        self.task.reset(dict(params))

    def resume_from(self, step: int) -> None:
        self._waiting = False
        self._leave_admission()
        self._call("call", "resume_from", step)

    def close(self) -> None:
        self._waiting = self._start_when_ready = False
        self._leave_admission()
        if self._lost is None and self._ready():
            try:
                self._call("call", "close")
            except RuntimeError:
                pass
        self._ray.kill(self._actor)
        self._closed = True
