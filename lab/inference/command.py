"""Approximate inference: ``genlab eval inference [--page NAME] [--seed S] --json`` re-computes each page's exact
checks (EM's fixed point against scikit-learn, the KL optima against their closed forms, mean field against
enumeration, ISTA against scikit-learn's Lasso, the VAE's gaps against quadrature, the estimators against the
analytic gradient) and prints the numbers."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from lab.commands import add_common

CHECKS = {
    "em": "lab.inference.em_check",
    "which-kl": "lab.inference.kl_check",
    "mean-field": "lab.inference.meanfield_check",
    "sparse-coding": "lab.inference.sparse_check",
    "amortized-inference": "lab.inference.amortized_check",
    "gradient-estimators": "lab.inference.gradients_check",
}
"""Each page's check: a module whose ``check(seed, data_root)`` returns its numbers as a JSON-ready dict."""


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("--page", choices=(*CHECKS, "all"), default="all", help="which page's checks (default: all)")
    p.add_argument("--seed", type=int, default=0)
    add_common(p, out=False)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    pages = list(CHECKS) if args.page == "all" else [args.page]
    return {page: importlib.import_module(CHECKS[page]).check(args.seed, args.data_root) for page in pages}
