"""What the CLI modules of the families (``lab/<family>/command.py``: ``genlab train|eval|bench <family>``, see lab/cli.py) share.

- :func:`add_params` builds a family's training options from its Task's declarations
  (engine.params), so ``genlab train FAMILY --help`` lists exactly the page's parameters,
  with their symbols, ranges and defaults, and refuses a value out of range with the
  declaration's message; :func:`params_from` reads them back as the Task's parameter dict.
- :func:`add_common` gives the flags every family spells the same: ``--data-root``, ``--out``
  (``--seed`` and ``--batch-size`` come from the declarations, ``--json`` from lab/cli.py).
- :func:`drive` trains a Task for a number of steps with a progress bar: the CLI runs the
  very code the page runs.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from engine.params import ARRAY, Param, Params

if TYPE_CHECKING:
    from engine.eval.ais import AISResult
    from engine.run import Task

DATA_ROOT_HELP = "data folder (default: $GENLAB_DATA or the user cache)"


def positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type that accepts only numbers above zero (step counts, epochs, learning rates, sizes)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from err
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above zero, got {text}")
        return value

    return parse


def warn_if_degenerate(result: AISResult, betas_flag: str) -> None:
    """A warning on stderr when AIS is degenerate (:attr:`AISResult.degenerate`), naming the flag that adds temperatures."""
    if result.degenerate:
        print(
            f"warning: AIS is degenerate: a few chains carry almost all the weight (effective sample size {result.effective_sample_size:.1f} "
            f"of {result.n_chains} chains), so log Z is likely too low and the log-likelihood too high; use more {betas_flag} (now {result.n_betas})",
            file=sys.stderr,
        )


def flag(name: str) -> str:
    """The command-line spelling of a parameter: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def _parser_for(p: Param) -> Callable[[str], Any]:
    """An argparse type that reads the text as the parameter's type and checks it against the declaration."""
    kind = type(p.choices[0]) if p.choices is not None else p.kind

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{p.name} must be {p.allowed()}, got {text!r}") from err
        if kind is float and isinstance(value, float) and value.is_integer() and p.kind is int:
            value = int(value)
        try:
            return p.coerce(value)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from err

    parse.__name__ = p.name
    return parse


def _help(p: Param, dataset_key: str) -> str:
    default = f"default {p.default!r}" if not isinstance(p.default, float) else f"default {p.default:g}"
    if p.per_dataset:
        default += " (" + ", ".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}" for k, v in p.per_dataset.items()) + f", by {dataset_key})"
    parts = [p.title, p.help.rstrip("."), "" if p.kind is bool else p.allowed(), default]
    return "; ".join(part for part in parts if part).replace("%", "%%")


def add_params(parser: argparse.ArgumentParser, params: Params, skip: tuple[str, ...] = ()) -> None:
    """One option per declared parameter (those with ``cli=True``, less ``skip``), default None: :func:`params_from` fills in the declarations' defaults."""
    group = parser.add_argument_group("parameters (the page's, with the same names, ranges and defaults)")
    for p in params:
        if not p.cli or p.kind is ARRAY or p.name in skip:
            continue
        if p.kind is bool:
            group.add_argument(flag(p.name), action=argparse.BooleanOptionalAction, default=None, help=_help(p, params.keyed_by))
        else:
            metavar = "{" + ",".join(str(c) for c in p.choices) + "}" if p.choices is not None else p.kind.__name__.upper()
            group.add_argument(flag(p.name), type=_parser_for(p), default=None, metavar=metavar, help=_help(p, params.keyed_by))


def params_from(args: argparse.Namespace, params: Params, **fixed: Any) -> dict[str, Any]:
    """The Task's parameter dict from parsed options: what was given, ``fixed`` values, then the declared defaults for the dataset."""
    given = {p.name: getattr(args, p.name) for p in params if getattr(args, p.name, None) is not None}
    return params.complete({**given, **fixed})


def add_common(parser: argparse.ArgumentParser, out: bool = True) -> None:
    """``--data-root`` and (for train) ``--out``, spelled the same for every family."""
    parser.add_argument("--data-root", default=None, help=DATA_ROOT_HELP)
    if out:
        parser.add_argument("--out", required=True, help="checkpoint path (writes PATH.safetensors and PATH.json)")


def drive(task: Task, params: Mapping[str, Any], steps: int, desc: str, postfix: Callable[[Mapping[str, float]], Mapping[str, str]] | None = None) -> dict[str, float]:
    """Reset ``task`` with ``params`` and take ``steps`` steps, with a progress bar on stderr; return the last metrics.

    A metric or parameter that becomes NaN or Inf stops the training with a ValueError naming it
    and the task's hint (the same rule the live Run applies)."""
    from tqdm import tqdm

    declared = getattr(task, "PARAMS", None)
    if declared is not None:
        params = declared.complete(params)
    check = getattr(task, "check_params", None)
    if check is not None:
        check(params)
    task.reset(params)
    metrics: dict[str, float] = {}
    hint = getattr(task, "divergence_hint", "lower the learning rate")
    with tqdm(total=steps, desc=desc, unit="step", file=sys.stderr) as bar:
        for i in range(steps):
            metrics = {k: float(v) for k, v in task.step(params).items()}
            bad = next((k for k, v in metrics.items() if not math.isfinite(v)), None)
            if bad is None and hasattr(task, "nonfinite"):
                bad = task.nonfinite()
            if bad is not None:
                raise ValueError(f"training diverged at step {i + 1}: {bad} became NaN or Inf; {hint}")
            bar.update(1)
            if postfix is not None and (i % 20 == 0 or i == steps - 1):
                bar.set_postfix(postfix(metrics), refresh=False)
    return metrics
