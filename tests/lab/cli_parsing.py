"""The `genlab train FAMILY` parser as the declaration tests read it: its help text and its parsing of flags."""

from __future__ import annotations

import argparse

from lab.cli import build_parser, families


def train_command(family: str) -> argparse.ArgumentParser:
    """The parser of `genlab train FAMILY` (the subcommand, with the options built from the family's declarations)."""
    top = build_parser(families())
    train = top._subparsers._group_actions[0].choices["train"]
    return train._subparsers._group_actions[0].choices[family]


def parse_train(family: str, *argv: str) -> argparse.Namespace:
    """`genlab train FAMILY ARGV... --out unused` parsed; argparse exits (SystemExit) on a refused value."""
    return build_parser(families()).parse_args(["train", family, *argv, "--out", "unused"])
