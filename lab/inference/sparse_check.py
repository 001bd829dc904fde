"""The sparse coding page's exact checks for ``genlab eval inference --page sparse-coding``: the comparisons
tests/engine/test_inference_sparse.py asserts (ISTA's monotone descent, FISTA's speed, the optimum against
scikit-learn's Lasso and sparse_encode, the dictionary step's descent, the PSD encoder against ISTA)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.decomposition import sparse_encode
from sklearn.linear_model import Lasso

from engine.device import configure_threads
from engine.inference.psd import compare_encoder_with_ista
from engine.inference.sparse_coding import dictionary_step, infer_codes, mean_objective, objective_trace, random_dictionary
from engine.tasks.inference.sparse import load_patches

LAM = 0.1


def _problem(seed: int, n: int = 20, d: int = 16, k: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse combinations of a random overcomplete unit-norm dictionary plus noise, in float64 (the tests' problem)."""
    g = torch.Generator().manual_seed(seed)
    w = random_dictionary(d, k, g, torch.float64)
    h = torch.randn(n, k, generator=g, dtype=torch.float64) * (torch.rand(n, k, generator=g, dtype=torch.float64) < 0.2)
    return h @ w.T + 0.05 * torch.randn(n, d, generator=g, dtype=torch.float64), w


def _first_within(gaps: torch.Tensor, tol: float) -> int:
    hits = torch.nonzero(gaps <= tol)
    return int(hits[0]) if len(hits) else -1


def check(seed: int, data_root: str | None) -> dict[str, Any]:
    """The page's exact checks on seed ``seed`` (the data root is unused: the 8x8 digits are always on disk)."""
    configure_threads()
    x, w = _problem(seed)
    ista = objective_trace(x, w, LAM, 400, "ista")
    fista = objective_trace(x, w, LAM, 400, "fista")
    codes = infer_codes(x, w, LAM, 4000, "fista")
    optimum = mean_objective(x, w, codes, LAM)
    tol = 1e-6 * optimum

    xn, wn, ours = x.numpy(), w.numpy(), codes.numpy()
    d = wn.shape[0]
    lasso = np.stack([Lasso(alpha=LAM / d, fit_intercept=False, tol=1e-14, max_iter=100000).fit(wn, row).coef_.copy() for row in xn])
    cd = sparse_encode(xn, wn.T, algorithm="lasso_cd", alpha=LAM, max_iter=100000)
    lars = sparse_encode(xn, wn.T, algorithm="lasso_lars", alpha=LAM)

    w_start = random_dictionary(d, wn.shape[1], torch.Generator().manual_seed(100 + seed), torch.float64)
    h, w_now, values = infer_codes(x, w_start, LAM, 50, "ista"), w_start, []
    for _ in range(30):
        h = infer_codes(x, w_now, LAM, 5, "ista", h)
        values.append(mean_objective(x, w_now, h, LAM))
        w_now = dictionary_step(x, w_now, h, 1.0)
        values.append(mean_objective(x, w_now, h, LAM))
    rises = [b - a for a, b in zip(values, values[1:])]

    patches = load_patches("digits", 256, seed)
    g = torch.Generator().manual_seed(seed)
    wd, hd = random_dictionary(64, 64, g), torch.zeros(256, 64)
    for _ in range(40):
        hd = infer_codes(patches.train, wd, 0.2, 10, "fista", hd)
        wd = dictionary_step(patches.train, wd, hd)
    psd = compare_encoder_with_ista(patches.train, patches.heldout, wd, 0.2, n_steps=200)

    return {
        "lambda": LAM,
        "ista_max_relative_increase": float(((ista[1:] - ista[:-1]) / ista[:-1].abs()).max()),
        "ista_iterations_to_1e-6_relative": _first_within(ista - optimum, tol),
        "fista_iterations_to_1e-6_relative": _first_within(fista - optimum, tol),
        "ista_gap_after_50": float(ista[50] - optimum),
        "fista_gap_after_50": float(fista[50] - optimum),
        "max_abs_diff_sklearn_lasso": float(np.abs(ours - lasso).max()),
        "max_abs_diff_sparse_encode_lasso_cd": float(np.abs(ours - cd).max()),
        "max_abs_diff_sparse_encode_lasso_lars": float(np.abs(ours - lars).max()),
        "alternating_steps": len(values),
        "alternating_increases": sum(r > 1e-12 * values[0] for r in rises),
        "alternating_objective_start_end": [values[0], values[-1]],
        "dictionary_column_norm_max": float(w_now.norm(dim=0).max()),
        "psd_lambda": 0.2,
        "psd_encoder_objective": psd.encoder,
        "psd_one_ista_step_objective": psd.ista[1],
        "psd_optimum": psd.optimum,
        "psd_encoder_over_optimum": psd.encoder / psd.optimum,
        "psd_excess_ratio": psd.excess_ratio,
        "psd_ista_iterations_matched": -1 if psd.ista_iterations_matched is None else psd.ista_iterations_matched,
    }
