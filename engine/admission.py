"""Admission: how many runs may play at once on a shared server, and a first-come queue for the rest.

A classroom server has a few cores and many students. An :class:`Admission` lets at most ``max_running`` runs play at
once, at most ``per_session`` of them from one browser session; a run asked to play past a limit waits in line, and
its page says how many are ahead. When a playing run stops (paused, its page left, finished, failed, closed) the
first runs in line that fit are started, in the order they asked. A waiting run whose page nobody reads any more
(``Run.idle_timeout``) loses its place when its turn comes: it is paused, not started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.run import Run


@dataclass(frozen=True)
class Limits:
    """At most ``max_running`` playing runs on the server and ``per_session`` per session (None: no limit)."""

    max_running: int | None = None
    per_session: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_running", "per_session"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no limit), got {value}")


class InLine:
    """What a run offers its admission (engine.run.Run and engine.ray_run.RayRun): whether its page still reads it,
    the message it pauses with when not, and giving its worker back. Needs ``_last_read``, ``idle_timeout`` and
    ``_admission``."""

    _last_read: float
    idle_timeout: float
    _admission: Admission | None

    def watched(self) -> bool:
        """Whether someone read this run within its ``idle_timeout``."""
        return time.monotonic() - self._last_read <= self.idle_timeout

    def away_message(self) -> str:
        """What the run says when it pauses because its page was left."""
        return f"Paused while you were away: nobody looked at this run for {self.idle_timeout:.0f} s. Press Play to go on."

    def _leave_admission(self) -> None:
        """Give this run's worker (or its place in line) back to the admission, if it has one."""
        if self._admission is not None:
            self._admission.release(self)


class Admission:
    """The server's playing runs and its queue (see the module's docstring). Thread-safe."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self._lock = threading.Lock()
        self._running: dict[int, tuple[Run, Hashable]] = {}
        self._waiting: list[tuple[Run, Hashable]] = []

    def _fits(self, session: Hashable) -> bool:
        limits = self.limits
        if limits.max_running is not None and len(self._running) >= limits.max_running:
            return False
        mine = sum(1 for _, s in self._running.values() if s == session)
        return limits.per_session is None or mine < limits.per_session

    def request(self, run: Run, session: Hashable) -> int:
        """Ask for ``run`` (of ``session``) to play: 0 when it may play now (it counts as playing from then on),
        else its place in line, 1 for the first."""
        with self._lock:
            if id(run) in self._running:
                return 0
            if not any(r is run for r, _ in self._waiting):
                if not self._waiting and self._fits(session):
                    self._running[id(run)] = (run, session)
                    return 0
                self._waiting.append((run, session))
            return self._place(run)

    def _place(self, run: Run) -> int:
        return next(i for i, (r, _) in enumerate(self._waiting, start=1) if r is run)

    def place(self, run: Run) -> int | None:
        """``run``'s place in line (1 for the first), 0 while it plays, None when it neither plays nor waits."""
        with self._lock:
            if id(run) in self._running:
                return 0
            return self._place(run) if any(r is run for r, _ in self._waiting) else None

    def release(self, run: Run) -> None:
        """``run`` stopped playing or left the line: start the first waiting runs that now fit."""
        with self._lock:
            self._running.pop(id(run), None)
            self._waiting = [(r, s) for r, s in self._waiting if r is not run]
            admitted, left, i = [], [], 0
            while i < len(self._waiting):
                waiting, session = self._waiting[i]
                if not waiting.watched():  # its page was left: it loses its place
                    del self._waiting[i]
                    left.append(waiting)
                elif self._fits(session):
                    del self._waiting[i]
                    self._running[id(waiting)] = (waiting, session)
                    admitted.append(waiting)
                else:
                    i += 1
        for waiting in left:
            waiting.pause(waiting.away_message())
        for waiting in admitted:
            waiting.admitted()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)
