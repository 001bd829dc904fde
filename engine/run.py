"""Run: one background thread that trains or samples a model, with live parameters and snapshots.

A model family describes *what one step is* as a :class:`Task`; a :class:`Run`
decides *when* steps happen (play, pause, single steps, slow motion) and
publishes immutable :class:`Snapshot` objects that any number of readers (a
Streamlit page, a test, the CLI) can draw without locking or copying.

The thread never touches a screen. Parameters can be changed while it runs;
the change is seen by the next step. A step that produces NaN or Inf pauses the
run, rolls the model back to a recent good state when the task can, and says
which quantity blew up; an exception puts the run in the ``failed`` state with
its message; a run nobody has read for ``idle_timeout`` seconds pauses itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from engine.admission import Admission, InLine
from engine.device import training_threads, use_threads_here
from engine.timeline import CAP_BYTES, Timeline, resumed, task_copy

log = logging.getLogger(__name__)

IDLE, RUNNING, WAITING, PAUSED, FAILED, CLOSED = "idle", "running", "waiting", "paused", "failed", "closed"


@runtime_checkable
class Task(Protocol):
    """One model's training or sampling, as a Run drives it.

    Required: ``reset(params)`` builds a fresh model from ``params`` (seed
    included); ``step(params)`` advances by one step and returns scalar metrics;
    ``arrays()`` returns the current state to draw, as NumPy arrays.

    Recommended: ``PARAMS``, the task's :class:`engine.params.Params`; the Run then fills every
    parameter dict up with its defaults and checks every change against it.

    Optional: ``check_params(params)`` raises ValueError for what depends on the loaded
    data (an image index past the end of the test set);
    ``nonfinite()`` names a parameter holding NaN or Inf (or returns None);
    ``state()`` / ``restore(state)`` copy and restore the model, letting the
    run roll back after a divergence; ``divergence_hint`` says what to change;
    ``wrecked(metrics)`` says, in words, why a run whose numbers are all finite is nonetheless
    ruined (or returns None): the run then pauses with that reason and the hint;
    ``shared_data()`` returns the objects the task only reads (data sets): the run's timeline then keeps whole
    copies of the task, sharing those, and training can resume from a kept moment (:meth:`Run.resume_from`).
    """

    def reset(self, params: Mapping[str, Any]) -> None: ...

    def step(self, params: Mapping[str, Any]) -> Mapping[str, float]: ...

    def arrays(self) -> Mapping[str, np.ndarray]: ...


@dataclass(frozen=True)
class Series:
    """One metric over time: ``values[i]`` was recorded at step ``steps[i]``."""

    steps: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """An immutable picture of a run; ``version`` grows by one with every publication."""

    version: int
    step: int
    wall_time: float
    status: str
    message: str
    metrics: Mapping[str, Series]
    arrays: Mapping[str, np.ndarray]
    params: Mapping[str, Any]
    steps_per_second: float = 0.0
    time: float = 0.0
    """When it was published, in ``time.monotonic()`` seconds: a browser plays a batch of frames at this pace."""

    def latest(self, metric: str, default: float | None = math.nan) -> float | None:
        """The most recent value of ``metric``."""
        series = self.metrics.get(metric)
        return float(series.values[-1]) if series is not None and len(series.values) else default


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


class _History:
    """Metric history that stays bounded: past ``limit`` points it keeps every other one and halves its rate.

    The points live in append-only buffers, so a published :class:`Series` is a read-only view of the points so
    far, made without copying (copying every metric's history at every publication took a third of the VAE's
    publishing time): later points go past its end, and halving or a rollback's truncation start new buffers."""

    def __init__(self, limit: int):
        self.limit, self.stride, self.n = limit, 1, 0
        self._steps, self._values = self._buffers()

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        return np.empty(self.limit + 1, np.int64), np.empty(self.limit + 1, np.float64)

    def _start_again(self, steps: np.ndarray, values: np.ndarray) -> None:
        """New buffers holding ``steps`` and ``values``: the views already published keep the old ones."""
        self._steps, self._values = self._buffers()
        self.n = len(steps)
        self._steps[: self.n], self._values[: self.n] = steps, values

    def add(self, step: int, value: float) -> None:
        if self.n and step - self._steps[self.n - 1] < self.stride:
            return
        self._steps[self.n], self._values[self.n] = step, value
        self.n += 1
        if self.n > self.limit:
            self._start_again(self._steps[: self.n : 2], self._values[: self.n : 2])
            self.stride *= 2

    def truncate(self, last_step: int) -> None:
        keep = int(np.searchsorted(self._steps[: self.n], last_step, side="right"))
        self._start_again(self._steps[:keep], self._values[:keep])

    def series(self) -> Series:
        steps, values = self._steps[: self.n], self._values[: self.n]
        steps.flags.writeable = values.flags.writeable = False
        return Series(steps, values)


MAX_FPS = 60.0
"""At full speed a run publishes at most this many snapshots a second (a live page plays each one). Measured in
headless Chromium on 2 cores with the browser on the same machine (genlab bench live): the RBM page showed 23
distinct frames a second at 40 publications a second and 29 at 60."""
RECENT = 32
"""The snapshots a playing run keeps readable (:meth:`Run.since`): about half a second at :data:`MAX_FPS`, so a page
that draws late still gets every frame. A paused run keeps only its latest."""

ROLLBACK_EVERY_S = 1.0
"""At full speed, the state a divergence rolls back to is copied at most this often (and at every publication a page
asked for: a single step, slow motion). Copying it at every publication (40 a second) took 9% of the VAE's training
thread (py-spy): a model, its optimizer's moments and a deep copy of both."""

OS_THREAD_NAME = b"genlab-run"
"""The name a run's thread carries in the operating system (Linux: /proc/PID/task/TID/comm), so a benchmark can
tell the CPU a lab server spends training from what it spends serving pages."""


def _name_os_thread(name: bytes) -> None:
    """Name the calling thread for the OS (Linux ``prctl(PR_SET_NAME)``); elsewhere nothing happens."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)


_RUNS: weakref.WeakSet[Run] = weakref.WeakSet()
"""Every Run of this process still referenced anywhere (:func:`forget_unwatched_timelines`)."""


def forget_unwatched_timelines(after_s: float) -> int:
    """Drop the timeline of every run nobody has read for ``after_s`` seconds (its page was left long ago); returns
    how many timelines held something and were dropped. A run forgets only its past moments: it goes on as it was."""
    forgotten = 0
    for run in list(_RUNS):
        if time.monotonic() - run._last_read > after_s and run.timeline_bytes > 0:
            run.forget_timeline()
            forgotten += 1
    return forgotten


class Diverged(Exception):
    """Raised inside the run loop when a step produced NaN or Inf."""


class Run(InLine):
    """Drive a :class:`Task` from one background thread.

    ``steps_per_second`` (None = as fast as possible) gives slow motion;
    ``steps_per_frame`` is how many steps are taken between publications
    (publications are also capped at ``max_fps``, so a fast model does not
    spend its time copying arrays nobody can see). The last ``recent`` snapshots
    stay readable (:meth:`since`), so a page that draws a few times a second
    still shows every frame a chain published. Its :class:`engine.timeline.Timeline` keeps moments of the whole
    run, at most ``timeline_bytes`` of them (0: none), to look back at (:meth:`moment`) and to resume from
    (:meth:`resume_from`). Under an :class:`engine.admission.Admission` (a shared server's limits) Play may have to
    wait for a free worker: the run is ``waiting`` (:meth:`waiting_place`) until its turn comes, then plays.
    """

    def __init__(
        self,
        task: Task,
        params: Mapping[str, Any],
        *,
        steps_per_second: float | None = None,
        steps_per_frame: int = 1,
        max_fps: float = MAX_FPS,
        idle_timeout: float = 60.0,
        history: int = 4000,
        recent: int = RECENT,
        timeline_bytes: int = CAP_BYTES,
        admission: Admission | None = None,
        session: Hashable = None,
    ):
        self.task = task
        self.idle_timeout = idle_timeout
        self.max_fps = max_fps
        self._history_limit = history
        declared = getattr(task, "PARAMS", None)
        self._params: dict[str, Any] = declared.complete(params) if declared is not None else dict(params)
        self._check(self._params)
        self._speed = (steps_per_second, int(steps_per_frame))
        self._check_speed(*self._speed)
        self._cond = threading.Condition()  # guards status, params and speed
        self._task_lock = threading.RLock()  # one step, reset or arrays() at a time
        self._snap_lock = threading.Lock()
        self._recent: deque[Snapshot] = deque(maxlen=recent)
        self._timeline = Timeline(cap_bytes=timeline_bytes)
        self._admission, self._session = admission, session
        _RUNS.add(self)
        self._thread: threading.Thread | None = None
        self._status, self._message = IDLE, ""
        self._version = 0
        self._last_read = time.monotonic()
        self._last_publish = 0.0
        self._rate = 0.0
        with self._task_lock:
            self._fresh_start()

    # ------------------------------------------------------------------ public controls

    @property
    def status(self) -> str:
        return self._status

    @property
    def params(self) -> Mapping[str, Any]:
        """A read-only copy of the current parameters."""
        with self._cond:
            return MappingProxyType(dict(self._params))

    def update_params(self, **changes: Any) -> None:
        """Change parameters; the next step sees them (those declared ``RESET`` act on the next Reset).

        A value outside its declaration raises ValueError naming the parameter, the value and the
        allowed range; then nothing changes and the run goes on with its old values."""
        with self._cond:
            declared = getattr(self.task, "PARAMS", None)
            if declared is not None:
                declared.check(changes)
                changes = {k: declared[k].coerce(v) for k, v in changes.items()}
            candidate = {**self._params, **changes}
            self._check(candidate)
            self._params = candidate

    @property
    def speed(self) -> tuple[float | None, int]:
        """(steps per second or None for full speed, steps per published frame)."""
        return self._speed

    def set_speed(self, steps_per_second: float | None = None, steps_per_frame: int | None = None) -> None:
        """Slow motion (e.g. 0.25 steps/s) up to full speed (None)."""
        frame = self._speed[1] if steps_per_frame is None else int(steps_per_frame)
        self._check_speed(steps_per_second, frame)
        with self._cond:
            self._speed = (steps_per_second, frame)
            self._cond.notify_all()

    def start(self) -> None:
        """Play: start (or resume) stepping in the background thread; under an admission past its limits, wait in
        line first (status ``waiting``)."""
        with self._cond:
            if self._status == CLOSED:
                raise RuntimeError("this run is closed")
            if self._status == FAILED:
                raise RuntimeError(f"this run failed ({self._message}); reset it first")
            self._last_read = time.monotonic()
            place = self._admission.request(self, self._session) if self._admission is not None else 0
            self._status, self._message = (RUNNING, "") if place == 0 else (WAITING, "")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=f"genlab-run-{type(self.task).__name__}", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        self._publish()

    resume = start

    def admitted(self) -> None:
        """The admission's call when this waiting run's turn has come: it plays (unless it stopped meanwhile)."""
        with self._cond:
            playing = self._status == WAITING
            if playing:
                self._status = RUNNING
                self._cond.notify_all()
        if not playing:
            self._leave_admission()
        self._publish()

    def waiting_place(self) -> int | None:
        """While waiting for a free worker, the run's place in line (1: next); otherwise None."""
        if self._status != WAITING or self._admission is None:
            return None
        return self._admission.place(self) or None

    def pause(self, message: str = "") -> None:
        """Stop stepping after the step in progress (or leave the line); the model stays as it is."""
        with self._cond:
            if self._status in (RUNNING, IDLE, WAITING):
                self._status, self._message = PAUSED, message
            self._cond.notify_all()
        self._leave_admission()
        self._publish()

    def step(self, n: int = 1) -> Snapshot:
        """Take ``n`` steps now, in the caller's thread, and publish the result (for Step buttons, tests and the CLI)."""
        if self._status in (CLOSED, FAILED):
            raise RuntimeError(f"cannot step a {self._status} run")
        try:
            self._advance(n)
        except Diverged:
            pass
        except Exception as err:
            self._fail(err)
            raise
        self._publish()
        return self.snapshot()

    def reset(self) -> None:
        """Build a fresh model from the current parameters; the run ends up paused at step 0."""
        with self._cond:
            if self._status == CLOSED:
                raise RuntimeError("this run is closed")
            self._status = PAUSED if self._status in (RUNNING, WAITING, FAILED, PAUSED) else IDLE
            self._message = ""
        self._leave_admission()
        with self._task_lock:
            try:
                self._fresh_start()
            except Exception as err:
                self._fail(err)
                raise
        self._publish()

    def close(self) -> None:
        """Stop the thread and wait for it; the run cannot be used afterwards."""
        with self._cond:
            self._status = CLOSED
            self._cond.notify_all()
        self._leave_admission()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._publish()

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self, watch: bool = True) -> Snapshot:
        """The latest published snapshot; reading it counts as someone watching unless ``watch`` is False."""
        if watch:
            self._last_read = time.monotonic()
        with self._snap_lock:
            return self._snap

    def since(self, version: int, watch: bool = True) -> list[Snapshot]:
        """The snapshots published after ``version``, oldest first, at most the last ``recent`` of them (the latest
        one included, whatever ``version`` is). When a playing run stops (paused, failed) it forgets the frames it
        played: only those published since are kept."""
        if watch:
            self._last_read = time.monotonic()
        with self._snap_lock:
            newer = [s for s in self._recent if s.version > version]
            return newer or [self._snap]

    # ------------------------------------------------------------------ the timeline

    def kept_steps(self) -> list[int]:
        """The steps of the moments the timeline keeps, oldest first."""
        with self._snap_lock:
            return self._timeline.steps()

    def moment(self, step: int) -> Snapshot:
        """The snapshot kept at ``step`` (its metric series up to that step); KeyError when none is kept there."""
        with self._snap_lock:
            return self._timeline.view(step, self._snap)

    def resumable(self, step: int) -> bool:
        """Whether :meth:`resume_from` can start from ``step`` (a copy of the task at that step is kept)."""
        with self._snap_lock:
            return self._timeline.resumable(step)

    @property
    def timeline_bytes(self) -> int:
        """What the timeline holds now, in bytes (at most the ``timeline_bytes`` the run was made with)."""
        with self._snap_lock:
            return self._timeline.nbytes

    def forget_timeline(self) -> None:
        """Drop every kept moment (its memory goes back); the moments kept from now on start a new timeline."""
        with self._snap_lock:
            self._timeline.truncate(-1)

    def resume_from(self, step: int) -> None:
        """Go back to the moment kept at ``step`` and leave the run paused there: the task becomes a copy of what it was
        then (models, optimizer state, chains, random generators), so playing on repeats what the run did from that step
        with the same parameters. What was kept after ``step`` is forgotten. ValueError when no copy is kept there."""
        with self._cond:
            if self._status == CLOSED:
                raise RuntimeError("this run is closed")
        with self._snap_lock:
            if not self._timeline.resumable(step):
                raise ValueError(f"training cannot resume from step {step}: no copy of the model was kept there; it can from steps "
                                 f"{[s for s in self._timeline.steps() if self._timeline.resumable(s)]}")  # fmt: skip
            kept = self._timeline.moment(step)
        with self._cond:
            self._status = PAUSED if self._status != IDLE else IDLE
            self._message = ""
        self._leave_admission()
        with self._task_lock:
            fresh = resumed(kept.task, self.task)
            self.task.__dict__.clear()
            self.task.__dict__.update(fresh.__dict__)
            self._step, self._wall = kept.step, kept.snapshot.wall_time
            for h in self._hist.values():
                h.truncate(self._step)
            with self._snap_lock:
                self._timeline.truncate(self._step)
            self._good, self._good_time = self._save_good(), time.monotonic()
        self._publish()

    # ------------------------------------------------------------------ internals

    def _check(self, params: Mapping[str, Any]) -> None:
        declared = getattr(self.task, "PARAMS", None)
        if declared is not None:
            declared.check(params)
        check = getattr(self.task, "check_params", None)
        if check is not None:
            check(params)

    @staticmethod
    def _check_speed(steps_per_second: float | None, steps_per_frame: int) -> None:
        if steps_per_second is not None and not 0.01 <= steps_per_second <= 100000:
            raise ValueError(f"steps per second must be between 0.01 and 100000 (or None for full speed), got {steps_per_second}")
        if not 1 <= steps_per_frame <= 100000:
            raise ValueError(f"steps per frame must be between 1 and 100000, got {steps_per_frame}")

    def _fresh_start(self) -> None:
        self.task.reset(dict(self._params))
        self._step, self._wall = 0, 0.0
        self._hist: dict[str, _History] = {}
        with self._snap_lock:
            self._timeline.clear()
        self._good, self._good_time = self._save_good(), time.monotonic()
        self._publish(force=True)

    def _save_good(self) -> tuple[int, float, Any] | None:
        state = getattr(self.task, "state", None)
        return (self._step, self._wall, state()) if state is not None else None

    def _advance(self, n: int, check_parameters: bool = True) -> None:
        """Take n steps under the task lock; on NaN/Inf roll back, pause and raise Diverged.

        Every step's metrics are checked. The model's own parameters (``task.nonfinite``, a pass over every one
        of them: 5% of the VAE's step) are checked after the n steps when ``check_parameters``: the playing loop
        asks for it only before it publishes (at most ``max_fps`` times a second), so no snapshot and no state kept
        for a rollback ever holds a NaN."""
        with self._task_lock:
            for _ in range(n):
                with self._cond:
                    params = dict(self._params)
                t0 = time.perf_counter()
                metrics = self.task.step(params)
                self._wall += time.perf_counter() - t0
                self._step += 1
                bad = next((k for k, v in metrics.items() if not math.isfinite(float(v))), None)
                if bad is not None:
                    self._diverged(bad, metrics.get(bad))
                for k, v in metrics.items():
                    self._hist.setdefault(k, _History(self._history_limit)).add(self._step, float(v))
                why = self.task.wrecked(metrics) if hasattr(self.task, "wrecked") else None
                if why is not None:
                    self._wrecked(why)
            bad = self.task.nonfinite() if check_parameters and hasattr(self.task, "nonfinite") else None
            if bad is not None:
                self._diverged(bad, None)

    def _diverged(self, what: str, value: Any) -> None:
        kind = "NaN" if value is not None and math.isnan(float(value)) else "NaN or Inf"
        if value is not None and math.isinf(float(value)):
            kind = "Inf"
        hint = getattr(self.task, "divergence_hint", "lower the learning rate")
        bad_step = self._step
        if self._good is not None:
            self._step, self._wall, state = self._good
            self.task.restore(state)
            for h in self._hist.values():
                h.truncate(self._step)
            with self._snap_lock:
                self._timeline.truncate(self._step)
            where = f"rolled back to step {self._step}"
        else:
            where = "press Reset to start again"
        with self._cond:
            if self._status != CLOSED:
                self._status = PAUSED
            self._message = f"Paused: {what} became {kind} at step {bad_step}; {where}. Try this: {hint}."
        self._leave_admission()
        raise Diverged(self._message)

    def _wrecked(self, why: str) -> None:
        hint = getattr(self.task, "divergence_hint", "lower the learning rate")
        with self._cond:
            if self._status != CLOSED:
                self._status = PAUSED
            self._message = f"Paused at step {self._step}: {why}. Try this: {hint}, then press Play (or Reset)."
        self._leave_admission()
        raise Diverged(self._message)

    def _fail(self, err: BaseException) -> None:
        log.exception("run failed")
        with self._cond:
            self._status, self._message = FAILED, f"{type(err).__name__}: {err}"
        self._leave_admission()
        self._publish()

    def _loop(self) -> None:
        _name_os_thread(OS_THREAD_NAME)
        use_threads_here(training_threads())  # this thread alone gets the cores (engine.device)
        while True:
            with self._cond:
                while self._status not in (RUNNING, CLOSED):
                    self._cond.wait()
                if self._status == CLOSED:
                    return
                sps, per_frame = self._speed
            if not self.watched():
                self.pause(self.away_message())
                continue
            t0 = time.perf_counter()
            # decided before the steps (they are checked for it), for the moment the steps will have been taken
            publish = sps is not None or self._publish_due(time.monotonic() + (per_frame / self._rate if self._rate else 0.0))
            try:
                self._advance(per_frame, check_parameters=publish)
            except Diverged:
                self._publish()
                continue
            except Exception as err:
                self._fail(err)
                continue
            elapsed = time.perf_counter() - t0
            self._rate = 0.8 * self._rate + 0.2 * (per_frame / max(elapsed, 1e-9)) if self._rate else per_frame / max(elapsed, 1e-9)
            if sps is not None:
                self._wait(per_frame / sps - elapsed)
            if publish:
                self._publish(force=sps is not None)  # at full speed the rollback state is copied only now and then

    def _wait(self, seconds: float) -> None:
        """Sleep for slow motion, waking early on pause, close or a speed change."""
        deadline = time.monotonic() + seconds
        with self._cond:
            speed = self._speed
            while self._status == RUNNING and self._speed == speed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def _publish_due(self, at: float) -> bool:
        """Whether a snapshot published at time ``at`` keeps within ``max_fps``."""
        return at - self._last_publish >= 1.0 / self.max_fps

    def _publish(self, force: bool = True) -> None:
        """Publish a snapshot; ``force`` (a page asked for it: a step, slow motion, a reset) also copies the state a
        divergence rolls back to, which at full speed is copied at most every :data:`ROLLBACK_EVERY_S` seconds."""
        now = time.monotonic()
        with self._task_lock:
            arrays = {k: _frozen(v) for k, v in self.task.arrays().items()}
            metrics = {k: h.series() for k, h in self._hist.items()}
            step, wall = self._step, self._wall
            if self._status != FAILED and (force or now - self._good_time >= ROLLBACK_EVERY_S):
                self._good, self._good_time = self._save_good(), now
            keep = self._status != FAILED and self._timeline.wants(step, now)
            task = task_copy(self.task) if keep and step > 0 else None  # step 0 is what Reset rebuilds: its picture is enough
        with self._cond:
            status, message, params = self._status, self._message, MappingProxyType(dict(self._params))
        with self._snap_lock:
            if status in (PAUSED, FAILED) and self._recent and self._recent[-1].status == RUNNING:
                self._recent.clear()  # the run stopped playing: nobody plays its frames, their memory goes back
            self._version += 1
            self._snap = Snapshot(self._version, step, wall, status, message, MappingProxyType(metrics), MappingProxyType(arrays), params, self._rate, now)
            self._recent.append(self._snap)
            if keep:
                self._timeline.add(self._snap, task, now)
        self._last_publish = now
