"""One CLI module per model family: ``genlab train|eval|bench <family>`` (see lab/cli.py), and argument types they share."""

from __future__ import annotations

import argparse
from collections.abc import Callable


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
