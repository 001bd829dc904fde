"""Two runs in lock step: one task built twice from one seed, its two copies apart in one or two parameters.

A :class:`PairedTask` is a :class:`engine.run.Task` whose every step steps side A, then side B, so one
:class:`engine.run.Run` drives both: they always show the same step, share play, pause, speed and the timeline, and
with equal parameters they compute exactly the same numbers. Its metrics and arrays carry the side's prefix
(``A/recon_error``); :func:`side_of` cuts one side's snapshot out of a pair's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.run import Snapshot, Task

SIDES = ("A", "B")
SEPARATOR = "/"


@dataclass(frozen=True)
class Comparison:
    """A lesson's pair of setups: everything alike but the values in ``a`` and ``b`` (the same one or two parameters)."""

    name: str
    a: Mapping[str, Any]
    b: Mapping[str, Any]
    why: str = field(default="", compare=False)
    """What the pair shows, in a sentence."""

    def __post_init__(self) -> None:
        if set(self.a) != set(self.b) or not 1 <= len(self.a) <= 2:
            raise ValueError(f"comparison {self.name!r}: both sides must set the same one or two parameters, got {sorted(self.a)} and {sorted(self.b)}")

    @property
    def varied(self) -> tuple[str, ...]:
        """The parameters the two sides set."""
        return tuple(self.a)

    def values(self, side: str) -> Mapping[str, Any]:
        """What ``side`` ("A" or "B") sets."""
        if side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {side!r}")
        return self.a if side == "A" else self.b


def _prefixed(side: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{side}{SEPARATOR}{k}": v for k, v in values.items()}


def _unprefixed(side: str, values: Mapping[str, Any]) -> dict[str, Any]:
    head = f"{side}{SEPARATOR}"
    return {k[len(head) :]: v for k, v in values.items() if k.startswith(head)}


class PairedTask:
    """Two tasks from ``make_task``, one per side, each run with the shared parameters overridden by its side of
    ``comparison``. Optional parts of the Task protocol (state, restore, shared_data, nonfinite, wrecked,
    check_params) are offered when both sides offer them."""

    def __init__(self, make_task: Callable[[], Task], comparison: Comparison):
        self.comparison = comparison
        self.sides: dict[str, Any] = {side: make_task() for side in SIDES}
        first = self.sides["A"]
        self.PARAMS = getattr(first, "PARAMS", None)
        if self.PARAMS is not None:
            self.PARAMS.check(dict(comparison.a))
            self.PARAMS.check(dict(comparison.b))
        self.divergence_hint = getattr(first, "divergence_hint", "lower the learning rate")

    OPTIONAL = ("state", "restore", "shared_data", "nonfinite", "check_params")

    def __getattr__(self, name: str) -> Any:
        """The optional parts of the Task protocol, where both sides have them (a Run asks with ``getattr``)."""
        if name not in self.OPTIONAL or not all(hasattr(t, name) for t in self.sides.values()):
            raise AttributeError(name)
        return getattr(self, f"_{name}")

    def params_of(self, side: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters side ``side`` runs with: ``params`` with the comparison's values for that side."""
        return {**params, **self.comparison.values(side)}

    def reset(self, params: Mapping[str, Any]) -> None:
        for side, task in self.sides.items():
            task.reset(self.params_of(side, params))

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for side, task in self.sides.items():
            metrics |= _prefixed(side, task.step(self.params_of(side, params)))
        return metrics

    def arrays(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for side, task in self.sides.items():
            out |= _prefixed(side, task.arrays())
        return out

    def wrecked(self, metrics: Mapping[str, float]) -> str | None:
        """The first side whose own check finds it ruined, named."""
        for side, task in self.sides.items():
            check = getattr(task, "wrecked", None)
            why = check(_unprefixed(side, metrics)) if check is not None else None
            if why is not None:
                return f"run {side}: {why}"
        return None

    def _check_params(self, params: Mapping[str, Any]) -> None:
        for side, task in self.sides.items():
            task.check_params(self.params_of(side, params))

    def _nonfinite(self) -> str | None:
        for side, task in self.sides.items():
            bad = task.nonfinite()
            if bad is not None:
                return f"{bad} of run {side}"
        return None

    def _state(self) -> dict[str, Any]:
        return {side: task.state() for side, task in self.sides.items()}

    def _restore(self, state: Mapping[str, Any]) -> None:
        for side, task in self.sides.items():
            task.restore(state[side])

    def _shared_data(self) -> tuple:
        return tuple(obj for task in self.sides.values() for obj in task.shared_data())


def side_of(snap: Snapshot, side: str, comparison: Comparison) -> Snapshot:
    """One side's view of a pair's snapshot: its own metrics, arrays and parameters, without the prefix."""
    return replace(
        snap,
        metrics=_unprefixed(side, snap.metrics),
        arrays=_unprefixed(side, snap.arrays),
        params={**snap.params, **comparison.values(side)},
    )
