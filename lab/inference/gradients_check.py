"""The gradient-estimators page's exact checks (``genlab eval inference --page gradient-estimators``): the same
comparisons tests/engine/test_inference_gradients.py asserts, as numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.data import DataError
from engine.inference.gradient_estimators import (
    ESTIMATORS,
    closed_form_gradient,
    estimates,
    expected_value,
    loglog_slope,
    quadrature_gradient,
    single_sample_moments,
    variance_against_samples,
)
from engine.tasks.inference.gradients import SAMPLE_COUNTS, mnist_vae_gradients

MU, SIGMA = np.array([0.3, -0.2]), np.array([0.8, 1.2])


def check(seed: int, data_root: str | None) -> dict[str, Any]:
    """Quadratic f in 2-D: unbiasedness (largest |mean - truth| / standard error over 4000 estimates of L = 4), the
    measured variance ratios (baseline / score, reparam / score, 200000 single samples at mu = 0, sigma = 1 in 1-D)
    beside the exact ones, the worst log-log slope of variance against L; quadrature against the closed forms; and on
    the pretrained MNIST VAE (when MNIST is on disk) the smallest score / reparameterized variance ratio over held-out
    images 0-3."""
    rng = np.random.default_rng(seed)
    truth = closed_form_gradient("quadratic", MU, SIGMA)
    est = estimates("quadratic", MU, SIGMA, rng.standard_normal((4000, 4, 2)), baseline=2.0)
    z = max(float((np.abs(e.mean(0) - truth) / (e.std(0, ddof=1) / np.sqrt(len(e)))).max()) for e in est.values())

    mu1, sigma1 = np.zeros(1), np.ones(1)
    b = expected_value("quadratic", mu1, sigma1)
    single = estimates("quadratic", mu1, sigma1, rng.standard_normal((200000, 1, 1)), b)
    measured = {e: float(v[:, 0].var(ddof=1)) for e, v in single.items()}
    exact = {e: float(single_sample_moments("quadratic", mu1, sigma1).variance(e, b)[0]) for e in ESTIMATORS}

    curve = variance_against_samples("quadratic", MU, SIGMA, SAMPLE_COUNTS, 1000, 2.0, rng)
    slopes = [loglog_slope(SAMPLE_COUNTS, curve[:, i, j]) for i in range(len(ESTIMATORS)) for j in range(curve.shape[2])]
    closed = max(float(np.abs(quadrature_gradient(n, MU, SIGMA) - closed_form_gradient(n, MU, SIGMA)).max()) for n in ("quadratic", "sinusoid"))

    result: dict[str, Any] = {
        "unbiased_max_z": z,
        "baseline_variance_ratio": measured["baseline"] / measured["score"],
        "baseline_variance_ratio_exact": exact["baseline"] / exact["score"],
        "reparam_variance_ratio": measured["reparam"] / measured["score"],
        "reparam_variance_ratio_exact": exact["reparam"] / exact["score"],
        "variance_max_rel_error": max(abs(measured[e] / exact[e] - 1.0) for e in ESTIMATORS),
        "loglog_slope_worst": max(slopes, key=lambda s: abs(s + 1.0)),
        "quadrature_vs_closed_form_max_abs": closed,
    }
    result |= _vae(seed, data_root)
    return result


def _vae(seed: int, data_root: str | None) -> dict[str, Any]:
    from engine.models.vae import VAE
    from engine.tasks.vae import PRETRAINED, heldout_rows, load_vae_data

    try:
        data = load_vae_data("mnist", data_root, download=False)
    except DataError:
        return {"vae": "skipped: no MNIST on disk (genlab data fetch mnist)"}
    model, _ = VAE.load(PRETRAINED["mnist"])
    heldout = heldout_rows(data)
    ratios = [float((r.score_variance / r.reparam_variance).min()) for r in (mnist_vae_gradients(model, heldout, i, 1, seed) for i in range(4))]
    return {"vae_min_variance_ratio": min(ratios), "vae_max_variance_ratio": max(ratios), "vae_images": 4, "vae_samples": 1}
