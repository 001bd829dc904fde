"""The "Which KL?" page's exact checks (``genlab eval inference --page which-kl``): the quadrature KL against the closed
form, the page's own gradient steps against the closed-form optima (mean field's precisions, moment matching, q = p),
the reverse fit on the mixture staying on its mode, and how often the minimized divergence rose. The same comparisons
as tests/engine/test_inference_kl.py; no Streamlit."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.inference import which_kl as kl
from engine.tasks.inference.kl import PRESETS, WhichKLTask, fit_q, make_target

STEPS = 500
"""Gradient steps per fit (eta = 0.1, the presets' step size)."""


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


def _rises(curve: list[float]) -> int:
    return int(np.sum(np.diff(curve) > 1e-12))


def quadrature_error(seed: int, grid: kl.Grid, pairs: int = 5) -> float:
    """The largest |quadrature KL - closed form| over ``pairs`` random Gaussian pairs (means within 1 of the origin,
    variances at most 1, as on the page), both directions."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(pairs):
        gaussians = []
        for _ in range(2):
            a = rng.uniform(-0.6, 0.6, (2, 2))
            cov = a @ a.T + 0.15 * np.eye(2)
            gaussians.append((rng.uniform(-1.0, 1.0, 2), cov * min(1.0, 1.0 / np.linalg.eigvalsh(cov).max())))
        (m0, s0), (m1, s1) = gaussians
        log_p = kl.target_log_density(kl.Target(np.ones(1), m1[None], s1[None]), grid.points)
        with torch.no_grad():
            values = kl.both_divergences(kl.theta_of(m0, s0, "full"), log_p, grid, "full")
        worst = max(worst, abs(float(values["reverse"]) - kl.gaussian_kl(m0, s0, m1, s1)), abs(float(values["forward"]) - kl.gaussian_kl(m1, s1, m0, s0)))
    return worst


def check(seed: int, data_root: str | None) -> dict[str, Any]:
    """The page's numbers: max abs differences from the closed forms after :data:`STEPS` steps, and counts of rises
    of the minimized divergence. ``seed`` picks the random Gaussian pairs of the quadrature check and the start of the
    mixture fits; ``data_root`` is unused (the targets are generated)."""
    task = WhichKLTask()
    out: dict[str, Any] = {"steps": STEPS, "grid_points": task.grid.n, "quadrature_vs_closed_form_max_abs": quadrature_error(seed, task.grid)}

    mean_field = PRESETS["Mean field under-estimates variance"]
    rho = float(mean_field["rho"])
    mean, cov, curve = fit_q(mean_field, STEPS, task)
    precision = np.linalg.inv(make_target(mean_field).covs[0])
    out |= {
        "mean_field_reverse_variance": float(cov[0, 0]),
        "mean_field_reverse_vs_1_over_Lambda_ii_max_abs": _max_abs(np.diag(cov), 1.0 / np.diag(precision)),
        "mean_field_reverse_mean_max_abs": _max_abs(mean, 0.0),
        "mean_field_reverse_rises": _rises(curve),
        "p_marginal_variance": 1.0,
        "one_minus_rho_squared": 1.0 - rho**2,
    }
    mean, cov, curve = fit_q({**mean_field, "divergence": "forward"}, STEPS, task)
    out |= {"mean_field_forward_vs_Sigma_ii_max_abs": _max_abs(np.diag(cov), 1.0), "mean_field_forward_mean_max_abs": _max_abs(mean, 0.0), "mean_field_forward_rises": _rises(curve)}

    exact = PRESETS["Full covariance q is exact for a Gaussian p"]
    sigma = make_target(exact).covs[0]
    for which in kl.DIVERGENCES:
        mean, cov, curve = fit_q({**exact, "divergence": which}, STEPS, task)
        out |= {f"full_{which}_vs_p_max_abs": max(_max_abs(cov, sigma), _max_abs(mean, 0.0)), f"full_{which}_final_kl": curve[-1], f"full_{which}_rises": _rises(curve)}

    forward = PRESETS["Forward KL covers both modes"]
    mean, cov, curve = fit_q(forward, STEPS, task)
    m, s = kl.target_moments(make_target(forward))
    out |= {"mixture_forward_vs_moments_max_abs": max(_max_abs(mean, m), _max_abs(cov, s)), "mixture_forward_rises": _rises(curve)}

    reverse = PRESETS["Reverse KL picks one mode"]
    modes = make_target(reverse).means
    start = np.round(np.random.default_rng(seed).uniform(-2.0, 2.0, 2) * 4) / 4  # on the start sliders' 0.25 steps
    mean, cov, curve = fit_q({**reverse, "start_x1": float(start[0]), "start_x2": float(start[1])}, STEPS, task)
    nearest = modes[np.argmin(np.linalg.norm(modes - start, axis=1))]
    out |= {
        "mixture_reverse_start": [float(v) for v in start],
        "mixture_reverse_distance_to_nearest_mode": float(np.linalg.norm(mean - nearest)),
        "mixture_reverse_variances": [float(v) for v in np.diag(cov)],
        "mixture_reverse_final_kl_minus_log_2": curve[-1] - float(np.log(2.0)),
        "mixture_reverse_rises": _rises(curve),
    }
    return out
