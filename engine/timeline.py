"""A run's timeline: a bounded record of kept moments, to look back at and to resume training from.

A :class:`engine.run.Run` offers every snapshot it publishes to its :class:`Timeline`, which keeps

- **landmarks**: the first publication at or past step 0, 1, 2, 5, 10, 20, 50, 100, ... (log-spaced, so the early
  steps, where most changes, stay visible however long the run goes on);
- **recent moments**: the last :data:`RECENT` publications, at least :data:`RECENT_EVERY_S` seconds apart (so in slow
  motion, every step of the last minute).

Each kept moment holds its snapshot (pictures and scalars; its metric series are cut from the latest ones when asked
for, not stored twice) and, when the task allows (``Task.shared_data``), a full copy of the task at that step (after
step 0, which Reset rebuilds): models,
optimizer moments, persistent chains and random generators, so that training resumed from it continues exactly as the
original run did. The tensors and arrays the task only reads (its data, named by ``shared_data()``) are shared by the
copies, never copied.

Memory is capped (``cap_bytes``): past the cap, the task copies go first (the oldest recent ones, then landmarks from
the middle out), then the pictures of recent moments, oldest first, then landmarks from the middle out. The newest
moment is always kept, with its copy.
"""

from __future__ import annotations

import bisect
import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from engine.run import Series, Snapshot

RECENT = 30
"""How many recent moments a timeline keeps (before its memory cap)."""
RECENT_EVERY_S = 1.0
"""Recent moments are at least this far apart in time: the last half minute at full speed, every step in slow motion."""
CAP_BYTES = 48 * 2**20
"""A run's timeline holds at most this many bytes of pictures and task copies (48 MiB)."""


def landmark_steps() -> Iterable[int]:
    """0, 1, 2, 5, 10, 20, 50, 100, ...: the steps whose first publication a timeline keeps for the run's whole life."""
    yield 0
    decade = 1
    while True:
        for m in (1, 2, 5):
            yield m * decade
        decade *= 10


def _nbytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.element_size() * obj.numel()
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    return 0


def task_copy(task: Any) -> tuple[Any, int] | None:
    """A full copy of ``task`` sharing the tensors and arrays inside what its ``shared_data()`` names, with the bytes of
    tensors and arrays it copied; None for a task without ``shared_data`` (its state cannot be copied whole)."""
    if getattr(task, "shared_data", None) is None:
        return None
    memo = _shared_memo(task)
    shared = set(memo)
    copied = copy.deepcopy(task, memo)
    return copied, sum(_nbytes(v) for k, v in memo.items() if k not in shared)


def _shared_memo(task: Any) -> dict[int, Any]:
    """A deepcopy memo mapping every tensor and array inside ``task.shared_data()`` to itself, so that a copy of the
    task refers to them instead of copying them. Only these leaves are shared: the objects holding them (a data
    split, a sampler) are copied, so no state can leak from one copy to another through them."""
    memo: dict[int, Any] = {}
    seen: set[int] = set()
    todo = list(task.shared_data())
    while todo:
        obj = todo.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (int, float, str, bool, bytes)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (torch.Tensor, np.ndarray)):
            memo[id(obj)] = obj
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            todo.extend(obj)
        else:
            todo.extend(getattr(obj, "__dict__", {}).values())
    return memo


def resumed(kept: Any, like: Any) -> Any:
    """A fresh copy of a kept task copy (the kept one stays as it was, to resume from again), sharing ``like``'s data."""
    return copy.deepcopy(kept, _shared_memo(like))


@dataclass(frozen=True)
class Moment:
    """A kept moment: its snapshot (metrics left out), a copy of the task at its step (or None) and what both cost."""

    snapshot: Snapshot
    task: Any | None
    picture_bytes: int
    task_bytes: int
    landmark: bool
    kept_at: float

    @property
    def step(self) -> int:
        return self.snapshot.step

    @property
    def nbytes(self) -> int:
        return self.picture_bytes + (self.task_bytes if self.task is not None else 0)


def series_until(series: Series, step: int) -> Series:
    """The part of ``series`` recorded at or before ``step``."""
    n = int(np.searchsorted(series.steps, step, side="right"))
    return replace(series, steps=series.steps[:n], values=series.values[:n])


class Timeline:
    """The kept moments of one run, at most ``cap_bytes`` of them (see the module's docstring)."""

    def __init__(self, cap_bytes: int = CAP_BYTES, recent: int = RECENT, recent_every_s: float = RECENT_EVERY_S):
        if cap_bytes < 0 or recent < 1 or recent_every_s < 0:
            raise ValueError(f"a timeline needs cap_bytes >= 0, recent >= 1 and recent_every_s >= 0, got {cap_bytes}, {recent}, {recent_every_s}")
        self.cap_bytes, self.recent, self.recent_every_s = cap_bytes, recent, recent_every_s
        self.clear()

    def clear(self) -> None:
        """Forget every moment (a Reset)."""
        self._moments: list[Moment] = []
        self._landmarks = landmark_steps()
        self._next_landmark = next(self._landmarks)

    # ------------------------------------------------------------------ recording

    def wants(self, step: int, now: float) -> bool:
        """Whether a publication at ``step``, time ``now``, is kept (so the Run copies its task only then)."""
        if self.cap_bytes == 0 or (self._moments and self._moments[-1].step >= step):
            return False
        if step >= self._next_landmark:
            return True
        recent = [m for m in self._moments if not m.landmark]
        return not recent or now - recent[-1].kept_at >= self.recent_every_s

    def add(self, snapshot: Snapshot, task: tuple[Any, int] | None, now: float | None = None) -> None:
        """Keep ``snapshot`` (its metrics dropped) and ``task`` (a :func:`task_copy`), then enforce the cap."""
        now = time.monotonic() if now is None else now
        if self._moments and self._moments[-1].step >= snapshot.step:
            return  # two publications of one step (a page's and the run's own): the first is kept
        landmark = snapshot.step >= self._next_landmark
        while snapshot.step >= self._next_landmark:
            self._next_landmark = next(self._landmarks)
        kept = replace(snapshot, metrics={})
        pictures = sum(a.nbytes for a in snapshot.arrays.values())
        state, state_bytes = task if task is not None else (None, 0)
        self._moments.append(Moment(kept, state, pictures, state_bytes, landmark, now))
        recent = [m for m in self._moments if not m.landmark]
        if len(recent) > self.recent:
            self._moments.remove(recent[0])
        self._enforce_cap()

    def truncate(self, last_step: int) -> None:
        """Forget the moments after ``last_step`` (a rollback or a resume abandons that future)."""
        self._moments = [m for m in self._moments if m.step <= last_step]
        self._landmarks = landmark_steps()
        self._next_landmark = next(self._landmarks)
        while self._next_landmark <= last_step:
            self._next_landmark = next(self._landmarks)

    def _enforce_cap(self) -> None:
        while self.nbytes > self.cap_bytes and len(self._moments) > 1:
            newest = self._moments[-1]
            copies = [m for m in self._moments[:-1] if m.task is not None]
            if copies:
                drop = self._pick(copies)
                self._moments[self._moments.index(drop)] = replace(drop, task=None, task_bytes=0)
            else:
                self._moments.remove(self._pick(self._moments[:-1]))
            if newest.nbytes > self.cap_bytes and len(self._moments) == 1:
                break

    @staticmethod
    def _pick(candidates: list[Moment]) -> Moment:
        """What goes first: the oldest recent moment, else the landmark in the middle of those left."""
        recent = [m for m in candidates if not m.landmark]
        return recent[0] if recent else candidates[len(candidates) // 2]

    # ------------------------------------------------------------------ reading

    @property
    def nbytes(self) -> int:
        return sum(m.nbytes for m in self._moments)

    def __len__(self) -> int:
        return len(self._moments)

    def steps(self) -> list[int]:
        """The steps of the kept moments, in order."""
        return [m.step for m in self._moments]

    def moment(self, step: int) -> Moment:
        """The kept moment at ``step``; KeyError when no moment of that step is kept."""
        steps = self.steps()
        i = bisect.bisect_left(steps, step)
        if i == len(steps) or steps[i] != step:
            raise KeyError(f"no kept moment at step {step}; kept: {steps}")
        return self._moments[i]

    def view(self, step: int, latest: Snapshot) -> Snapshot:
        """The snapshot kept at ``step``, its metric series those of ``latest`` up to that step."""
        kept = self.moment(step).snapshot
        return replace(kept, metrics={k: series_until(s, step) for k, s in latest.metrics.items()})

    def resumable(self, step: int) -> bool:
        """Whether training can resume from the moment kept at ``step`` (its task copy is still kept)."""
        try:
            return self.moment(step).task is not None
        except KeyError:
            return False
