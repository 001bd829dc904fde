"""One CLI module per model family: ``genlab train|eval|bench <family>`` (see lab/cli.py), and the argument types and warnings they share."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.eval.ais import AISResult


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
