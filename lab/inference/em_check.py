"""The EM page's exact checks for ``genlab eval inference --page em``: EM's climb (log p never falls, the E-step closes
the gap, the M-step never lowers L) and its fixed point against scikit-learn's GaussianMixture from the same start."""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture

from engine.inference import em


def climb_checks(v: np.ndarray, theta: em.Mixture, n_iter: int) -> dict[str, float | int]:
    """Run ``n_iter`` EM iterations from ``theta`` (q uniform at first), measuring after every half-step: the largest
    relative fall of log p(v; θ) between iterations, the largest |gap| and |L − log p| after an E-step and the largest
    fall of L at an M-step (these three in nats per point) and the number of falls of log p beyond 1e-9 relative."""
    n = len(v)
    log_p = [em.log_likelihood(v, theta)]
    worst_gap = worst_bound_vs_log_p = worst_m_fall = worst_log_p_fall = 0.0
    log_p_falls = 0
    for _ in range(n_iter):
        q = em.e_step(v, theta)
        worst_gap = max(worst_gap, abs(em.gap(v, theta, q)) / n)
        before = em.bound(v, theta, q)
        worst_bound_vs_log_p = max(worst_bound_vs_log_p, abs(before - log_p[-1]) / n)
        theta = em.m_step(v, q)
        worst_m_fall = max(worst_m_fall, (before - em.bound(v, theta, q)) / n)
        log_p.append(em.log_likelihood(v, theta))
        fall = (log_p[-2] - log_p[-1]) / abs(log_p[-2])
        worst_log_p_fall = max(worst_log_p_fall, fall)
        log_p_falls += int(fall > 1e-9)
    return {"max_relative_log_p_fall": worst_log_p_fall, "log_p_falls": log_p_falls, "max_gap_after_e_step_per_point": worst_gap,
            "max_abs_bound_minus_log_p_after_e_step_per_point": worst_bound_vs_log_p, "max_bound_fall_at_m_step_per_point": worst_m_fall}  # fmt: skip


def sklearn_differences(v: np.ndarray, theta0: em.Mixture) -> dict[str, float | int]:
    """EM's fixed point from ``theta0`` against scikit-learn's GaussianMixture (full covariances, the same reg_covar,
    started from the same θ⁽⁰⁾, tol 1e-14): the largest absolute differences in means, covariances, weights and
    log p(v) (total, nats). The components keep their order (both start from the same means)."""
    theta, trace = em.run_em(v, theta0)
    gm = GaussianMixture(theta0.k, covariance_type="full", reg_covar=em.REG_COVAR, tol=1e-14, max_iter=100000,
                         weights_init=theta0.weights, means_init=theta0.means, precisions_init=np.linalg.inv(theta0.covariances)).fit(v)  # fmt: skip
    return {
        "max_abs_mean_difference": float(np.abs(gm.means_ - theta.means).max()),
        "max_abs_covariance_difference": float(np.abs(gm.covariances_ - theta.covariances).max()),
        "max_abs_weight_difference": float(np.abs(gm.weights_ - theta.weights).max()),
        "abs_log_p_difference": float(abs(gm.score(v) * len(v) - trace[-1])),
        "em_iterations": len(trace) - 1,
        "sklearn_iterations": int(gm.n_iter_),
    }


def partial_e_step_checks(v: np.ndarray, theta: em.Mixture, fraction: float, n_iter: int, rng: np.random.Generator) -> dict[str, float | int]:
    """Generalized EM with a partial E-step of ``fraction``: the largest fall of L over all half-steps (nats) and the
    smallest gap after an E-step (it does not close)."""
    q = np.full((len(v), theta.k), 1.0 / theta.k)
    bounds, gaps = [em.bound(v, theta, q)], []
    for _ in range(n_iter):
        q, _ = em.partial_e_step(v, theta, q, fraction, rng)
        bounds.append(em.bound(v, theta, q))
        gaps.append(em.gap(v, theta, q))
        theta = em.m_step(v, q)
        bounds.append(em.bound(v, theta, q))
    return {"max_bound_fall": float(max(0.0, -np.diff(bounds).min())), "min_gap_after_partial_e_step": float(min(gaps))}


def check(seed: int, data_root: str | None) -> dict:
    """The EM page's numbers on its default data (three blobs, 300 points, K = 3) for ``seed``, from each start, and
    generalized EM with 20% of the points per E-step. ``data_root`` is unused (the data are generated)."""
    out: dict = {"seed": seed, "layout": "three blobs", "n_points": 300, "k": 3}
    v = em.blob_data("three blobs", 300, seed)
    for init in em.INITS:
        theta0 = em.initial_mixture(v, 3, init, np.random.default_rng(seed))
        out[init] = {**climb_checks(v, theta0, 40), **sklearn_differences(v, theta0)}
    theta0 = em.initial_mixture(v, 3, "k-means++", np.random.default_rng(seed))
    out["partial e-step 0.2"] = partial_e_step_checks(v, theta0, 0.2, 40, np.random.default_rng(seed + 1))
    return out
