"""The mean-field page's exact checks for ``genlab eval inference --page mean-field``: binary sparse coding's bound
against log p(v) − KL by enumeration, its monotone sequential updates and fixed points (eq. 19.44), mean field on
orthogonal features against the exact marginals, the presets' oscillation and damping, and Gaussian mean field
against its analytic fixed point (eq. 19.56). The same comparisons as tests/engine/test_inference_meanfield.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.inference import binary_sparse_coding as bsc
from engine.inference import gaussian_mean_field as gmf
from engine.tasks.inference.meanfield import run_preset

SWEEPS = 300


def _model(kind: str, n: int, seed: int) -> bsc.BinarySparseCoding:
    W = bsc.make_dictionary(kind, n, seed)
    rng = np.random.default_rng(seed + 100)
    return bsc.BinarySparseCoding(W, -1.0 + 0.5 * rng.standard_normal(n), 8.0 * (0.5 + rng.random(W.shape[0])))


def binary_checks(seed: int) -> dict[str, Any]:
    """Over the three dictionaries, 2, 4 and 6 units and both inputs (dictionary seeds from ``seed``)."""
    identity_err = residual = 0.0
    above = -np.inf
    decreases = cases = 0
    for kind in bsc.DICTIONARIES:
        for n in (2, 4, 6):
            for inp in ("feature 1", "sample"):
                model = _model(kind, n, seed + n)
                v = bsc.make_input(model, inp, seed + n)
                log_pv = bsc.exact_log_evidence(model, v)
                h = np.random.default_rng(seed + n).random(n)
                previous = bsc.bound(model, v, h)
                for _ in range(SWEEPS):
                    for i in range(n):
                        h = bsc.update_unit(model, v, h, i)
                        now = bsc.bound(model, v, h)
                        decreases += int(now < previous - 1e-10)
                        previous = now
                    identity_err = max(identity_err, abs(previous - (log_pv - bsc.kl_to_posterior(model, v, h))))
                    above = max(above, previous - log_pv)
                residual = max(residual, bsc.fixed_point_residual(model, v, h))
                cases += 1
    orthogonal_err = 0.0
    for n in (2, 3, 5, 8):
        W = bsc.make_dictionary("orthogonal", n, seed + n)
        model = bsc.BinarySparseCoding(W, np.linspace(-2, 1, n), np.full(W.shape[0], 3.0))
        v = bsc.make_input(model, "sample", seed + n)
        h = bsc.sequential_sweep(model, v, np.full(n, 0.5))
        orthogonal_err = max(orthogonal_err, float(np.max(np.abs(h - bsc.exact_marginals(model, v)))))
    return {
        "cases": cases,
        "max_abs_bound_minus_logp_minus_kl": identity_err,
        "max_bound_minus_log_p": above,
        "sequential_bound_decreases_over_1e-10": decreases,
        "max_fixed_point_residual_after_300_sweeps": residual,
        "orthogonal_max_abs_meanfield_minus_exact_marginals": orthogonal_err,
    }


def preset_checks() -> dict[str, Any]:
    seq = run_preset("Explaining away", 60).arrays()
    osc = run_preset("Parallel updates oscillate", 60).arrays()
    damped = run_preset("Damped parallel updates converge", 60)
    sequential = run_preset("Explaining away", 60)
    return {
        "explaining_away_h_hat_1": float(seq["h_hat"][0]),
        "explaining_away_h_hat_2": float(seq["h_hat"][1]),
        "explaining_away_exact_marginal_1": float(seq["exact"][0]),
        "explaining_away_exact_marginal_2": float(seq["exact"][1]),
        "explaining_away_gap_nats": float(seq["log_pv"] - seq["bounds"][-1]),
        "parallel_bound_decreases_iterations_20_60": int(np.sum(np.diff(osc["bounds"][20:]) < -1e-3)),
        "damped_max_abs_minus_sequential_fixed_point": float(np.max(np.abs(damped.h_hat - sequential.h_hat))),
    }


def gaussian_checks() -> dict[str, Any]:
    mean_err = var_err = kl_err = 0.0
    for rho in (-0.9, -0.3, 0.0, 0.5, 0.8, 0.95):
        p = gmf.correlated_posterior(rho, mean=(1.0, 0.5), std=(1.0, 0.7))
        q = gmf.FactorialGaussian(np.array([-1.5, 2.0]), np.ones(2))
        for t in range(2000):
            q = gmf.update_factor(p, q, t % 2)
        mean_err = max(mean_err, float(np.max(np.abs(q.means - p.mean))))
        var_err = max(var_err, float(np.max(np.abs(q.variances - 1.0 / np.diag(p.precision)))))
        kl_err = max(kl_err, abs(gmf.kl_to_posterior(q, p) + 0.5 * np.log(1 - rho**2)))
    return {"gaussian_max_abs_mean_error": mean_err, "gaussian_max_abs_variance_error": var_err, "gaussian_max_abs_kl_minus_half_log_1_minus_rho2": kl_err}


def check(seed: int, data_root: str | None) -> dict:
    """The page's exact checks as a JSON-ready dict (``data_root`` unused: the page needs no data)."""
    return {**binary_checks(seed), **preset_checks(), **gaussian_checks()}
