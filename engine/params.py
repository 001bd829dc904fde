"""Parameter declarations: every knob of a Task written once, read by the Run, the page and the CLI.

A :class:`Param` says what a parameter is (name, default, type, range or choices), when it
acts (``LIVE``: the next step sees it; ``RESET``: the next Reset builds the model with it),
its unit, the book's symbol and one line of help. A Task lists its parameters in a
:class:`Params` (its class attribute ``PARAMS``):

- the :class:`engine.run.Run` completes every parameter dict with the defaults and checks
  every change against the declarations (:meth:`Params.check`), so an out-of-range value
  raises a ValueError naming the parameter, the value and the allowed range, and the running
  model keeps its old value;
- ``lab.controls`` builds each widget from its declaration (label with the symbol, range,
  step, help, an "on Reset" mark), bound to the URL;
- ``lab.commands`` builds the argparse options of ``genlab train FAMILY`` from them.

Defaults may depend on the dataset (``per_dataset``): the page and the CLI start from the
same values for the same dataset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

LIVE, RESET = "live", "reset"
ARRAY = "array"
"""The kind of a parameter that carries an array (a drawing, a painted mask) as a flat tuple, or None."""


@dataclass(frozen=True)
class Param:
    """One parameter of a Task.

    ``kind`` is ``float``, ``int``, ``bool``, ``str`` or :data:`ARRAY`. Numbers have a range
    ``[low, high]`` (``low_open`` makes it ``(low, high]``); ``ticks`` are the values a slider
    offers (log-spaced learning rates), each inside the range. Strings (and numbers that may
    take only a few values) have ``choices``, with optional display names in ``labels``.
    ``cli=False`` keeps a parameter off the command line (a drawing, a page-only view setting).
    """

    name: str
    default: Any
    kind: Any = float
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    ticks: tuple | None = None
    step: float | None = None
    when: str = LIVE
    label: str = ""
    symbol: str = ""
    unit: str = ""
    help: str = ""
    labels: Mapping[Any, str] = field(default_factory=dict)
    per_dataset: Mapping[str, Any] = field(default_factory=dict)
    low_open: bool = False
    cli: bool = True

    def __post_init__(self) -> None:
        if self.when not in (LIVE, RESET):
            raise ValueError(f"{self.name}: when must be {LIVE!r} or {RESET!r}, got {self.when!r}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.ticks is not None:
            object.__setattr__(self, "ticks", tuple(self.ticks))
            for t in self.ticks:
                self.check(t)
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "per_dataset", MappingProxyType(dict(self.per_dataset)))
        for value in (self.default, *self.per_dataset.values()):
            self.check(value)

    @property
    def title(self) -> str:
        """The label with the book's symbol: ``Learning rate η``."""
        base = self.label or self.name.replace("_", " ").capitalize()
        return f"{base} {self.symbol}" if self.symbol else base

    def allowed(self) -> str:
        """The allowed values in words, as error messages and help texts give them."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) if isinstance(c, str) else f"{c:g}" if isinstance(c, float) else str(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is ARRAY:
            return "an array (flat tuple) or None"
        if self.low is None and self.high is None:
            return f"any {self.kind.__name__}"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        unit = f" {self.unit}" if self.unit else ""
        return f"in ({lo}, {hi}]{unit}" if self.low_open else f"between {lo} and {hi}{unit}"

    def default_for(self, dataset: str | None) -> Any:
        """The starting value: the dataset's own one when declared, else ``default``."""
        return self.per_dataset.get(dataset, self.default) if dataset is not None else self.default

    def check(self, value: Any) -> None:
        """ValueError naming the parameter, the value and what is allowed, unless ``value`` is allowed."""
        if self.kind is ARRAY:
            if value is not None and not isinstance(value, tuple):
                raise ValueError(f"{self.name} must be {self.allowed()}, got {type(value).__name__}")
            return
        if self.choices is not None:
            if value not in self.choices or (self.kind is not bool and isinstance(value, bool)):
                raise ValueError(f"{self.name} must be {self.allowed()}, got {value!r}")
            return
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return
        if self.kind is str:
            if not isinstance(value, str):
                raise ValueError(f"{self.name} must be a string, got {value!r}")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
            raise ValueError(f"{self.name} must be a number {self.allowed()}, got {value!r}")
        number = float(value)
        if math.isnan(number):
            raise ValueError(f"{self.name} must be {self.allowed()}, got {value!r}")
        if self.kind is int and number != int(number):
            raise ValueError(f"{self.name} must be a whole number {self.allowed()}, got {value!r}")
        below = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        above = self.high is not None and number > self.high
        if below or above:
            raise ValueError(f"{self.name} must be {self.allowed()}, got {value!r}")

    def coerce(self, value: Any) -> Any:
        """``value`` as this parameter's type (an int for an int, ...), after :meth:`check`."""
        self.check(value)
        if self.kind is int and self.choices is None:
            return int(value)
        if self.kind is float and self.choices is None:
            return float(value)
        return value


class Params:
    """The ordered parameter declarations of one Task.

    ``keyed_by`` names the parameter whose value picks the per-dataset defaults (``dataset``,
    or ``model`` for a task that samples pretrained models).
    """

    def __init__(self, *params: Param, keyed_by: str = "dataset"):
        names = [p.name for p in params]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"parameters declared twice: {', '.join(dup)}")
        self._params = {p.name: p for p in params}
        self.keyed_by = keyed_by

    def __iter__(self) -> Iterator[Param]:
        return iter(self._params.values())

    def __deepcopy__(self, memo: dict) -> Params:
        """Declarations never change: a copy of a task (engine.timeline) shares its task's."""
        return self

    def __getitem__(self, name: str) -> Param:
        try:
            return self._params[name]
        except KeyError:
            raise KeyError(f"no parameter {name!r}; declared: {', '.join(self._params)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __len__(self) -> int:
        return len(self._params)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._params)

    def replace(self, **changes: Param) -> Params:
        """A copy where the named declarations are replaced (a page variant of a task)."""
        unknown = sorted(set(changes) - set(self._params))
        if unknown:
            raise KeyError(f"no parameters {', '.join(unknown)} to replace")
        return Params(*(changes.get(p.name, p) for p in self), keyed_by=self.keyed_by)

    def defaults(self, dataset: str | None = None) -> dict[str, Any]:
        """Every parameter at its starting value for ``dataset`` (the declared default of ``keyed_by`` when None)."""
        key = self._params.get(self.keyed_by)
        dataset = dataset if dataset is not None else key.default if key is not None else None
        values = {p.name: p.default_for(dataset) for p in self}
        if key is not None:
            values[self.keyed_by] = key.coerce(dataset)
        return values

    def complete(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` filled up with the defaults for their dataset, checked and coerced to the declared types."""
        self.check_names(values)
        full = {**self.defaults(values.get(self.keyed_by)), **values}
        return {name: self._params[name].coerce(v) for name, v in full.items()}

    def check_names(self, values: Mapping[str, Any]) -> None:
        unknown = sorted(set(values) - set(self._params))
        if unknown:
            raise ValueError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; declared: {', '.join(self._params)}")

    def check(self, values: Mapping[str, Any]) -> None:
        """ValueError for an undeclared name or a value outside its declaration."""
        self.check_names(values)
        for name, value in values.items():
            self._params[name].check(value)

    def acting(self, when: str) -> tuple[str, ...]:
        """The names of the parameters that act ``LIVE`` or on ``RESET``."""
        return tuple(p.name for p in self if p.when == when)

    def subset(self, names: Sequence[str]) -> tuple[Param, ...]:
        return tuple(self[n] for n in names)
