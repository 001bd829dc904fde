"""The gradient-estimators page's live step: each step draws a new batch of estimates of grad_theta E_q[f(z)] by the
score function, the score function with a baseline and the reparameterization trick (K&W section 2.3-2.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from engine.inference.gradient_estimators import (
    ESTIMATORS,
    FUNCTIONS,
    VAEGradients,
    elbo_mu_gradients,
    estimates,
    f_value,
    loglog_slope,
    single_sample_moments,
    variance_against_samples,
)
from engine.models.vae import VAE
from engine.params import RESET, Param, Params
from engine.tasks.vae import MNIST_HOLDOUT

COMPONENTS = ("mu1", "sigma1", "mu2", "sigma2")
"""The components of theta one can look at; the 2's exist only in 2-D."""
SAMPLE_COUNTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""The numbers of samples L of the variance-against-L curve (and the L slider's ticks)."""
VARIANCE_ESTIMATES = 300
"""Estimates per L behind each point of the variance-against-L curve (redrawn every step)."""
PILOT_SAMPLES = 100
"""Samples of f drawn at reset, before any estimate, to start the running-mean baseline."""
BASELINES = ("running mean", "constant")

PARAMS = Params(
    Param("function", "quadratic", str, choices=FUNCTIONS, when=RESET, label="Function f",
          labels={"quadratic": "quadratic ||z − c||²", "sinusoid": "sinusoid Σ sin(3 zᵢ)", "bumpy": "bumpy ¼||z||² + sin(4z₁) tanh(2z_D)"},
          help="Quadratic and sinusoid have a closed-form gradient; the bumpy one's comes from Gauss-Hermite quadrature."),
    Param("dim", 1, int, choices=(1, 2), when=RESET, label="Dimension of z", symbol="D"),
    Param("mu1", 0.0, float, -2.0, 2.0, step=0.1, when=RESET, label="Mean", symbol="μ₁"),
    Param("sigma1", 1.0, float, 0.1, 2.0, step=0.05, when=RESET, label="Std", symbol="σ₁"),
    Param("mu2", 0.0, float, -2.0, 2.0, step=0.1, when=RESET, label="Mean (2-D only)", symbol="μ₂"),
    Param("sigma2", 1.0, float, 0.1, 2.0, step=0.05, when=RESET, label="Std (2-D only)", symbol="σ₂"),
    Param("component", "mu1", str, choices=COMPONENTS, label="Gradient component",
          labels={"mu1": "∂/∂μ₁", "sigma1": "∂/∂σ₁", "mu2": "∂/∂μ₂", "sigma2": "∂/∂σ₂"}, help="Which component of the gradient the histogram and the curves show."),
    Param("samples", 4, int, 1, 256, ticks=SAMPLE_COUNTS, label="Samples per estimate", symbol="L",
          help="Each estimate is the mean over L samples z = μ + σ ε."),
    Param("n_estimates", 500, int, 100, 2000, ticks=(100, 200, 500, 1000, 2000), label="Estimates per step",
          help="How many independent estimates each step draws (the histogram's size)."),
    Param("baseline", "running mean", str, choices=BASELINES, when=RESET, label="Baseline",
          labels={"running mean": "running mean of f", "constant": "constant b"},
          help="Running mean: b is the mean of f over every sample drawn before this step (100 pilot samples at the start), "
               "so it never depends on the samples it multiplies and the estimator stays unbiased."),
    Param("baseline_value", 0.0, float, -10.0, 10.0, step=0.5, when=RESET, label="Constant baseline", symbol="b",
          help="The baseline when it is constant; b = 0 is the plain score function."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed"),
)  # fmt: skip
"""The task's parameters (the page's widgets)."""

PRESETS: dict[str, dict[str, Any]] = {
    "Quadratic: reparameterization wins": {"function": "quadratic", "dim": 1, "mu1": 0.0, "sigma1": 1.0, "component": "mu1", "samples": 4, "baseline": "running mean", "seed": 0},
    "A bad constant baseline": {"function": "quadratic", "dim": 1, "mu1": 0.0, "sigma1": 1.0, "component": "mu1", "samples": 4, "baseline": "constant", "baseline_value": -5.0, "seed": 0},
    "Fast sinusoid: the score function wins": {"function": "sinusoid", "dim": 1, "mu1": 0.5, "sigma1": 1.0, "component": "mu1", "samples": 4, "baseline": "running mean", "seed": 0},
    "2-D bumpy f, ∂/∂σ₂": {"function": "bumpy", "dim": 2, "mu1": 0.3, "sigma1": 0.8, "mu2": -0.2, "sigma2": 1.2, "component": "sigma2", "samples": 4, "baseline": "running mean", "seed": 0},
}
"""The page's lessons. Exact single-sample variances of d/dmu1 (quadrature), at mu = 0, sigma = 1 for the quadratic
(c = 1): score function 30, running-mean baseline (b ~ E f = 2) 18, reparameterized 4; with b = -5 the baseline
estimator's variance is 95, above the plain score function's. Sinusoid (omega = 3) at mu = 0.5, sigma = 1:
reparameterized 4.5, score function 0.5: a fast-varying f makes grad f noisy, and the trick loses."""


def component_index(component: str, dim: int) -> int:
    """Where ``component`` sits in theta = (mu_1 .. mu_D, sigma_1 .. sigma_D)."""
    kind, i = component[:-1], int(component[-1]) - 1
    if i >= dim:
        raise ValueError(f"component {component!r} needs a 2-D z; with D = {dim} choose mu1 or sigma1")
    return i if kind == "mu" else dim + i


class GradientsTask:
    """One step = a new batch of ``n_estimates`` estimates by each estimator, each the mean over L samples.

    Keeps the running mean of every estimator (all estimates so far, against the exact gradient: the bias), the
    running-mean baseline, and the variance of each estimator against L (measured on fresh samples every step).
    """

    PARAMS = PARAMS

    def check_params(self, params: Mapping[str, Any]) -> None:
        component_index(params["component"], int(params["dim"]))

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): nothing, the estimates and their running sums are small."""
        return ()

    def reset(self, p: Mapping[str, Any]) -> None:
        dim = int(p["dim"])
        self.function = p["function"]
        self.mu = np.array([p["mu1"], p["mu2"]][:dim], dtype=float)
        self.sigma = np.array([p["sigma1"], p["sigma2"]][:dim], dtype=float)
        self.rng = np.random.default_rng(int(p["seed"]))
        self.moments = single_sample_moments(self.function, self.mu, self.sigma)
        self.running_baseline = p["baseline"] == "running mean"
        self.f_sum, self.f_count = 0.0, 0
        if self.running_baseline:
            self._add_f(self.rng.standard_normal((PILOT_SAMPLES, 1, dim)))
            self.b = self.f_sum / self.f_count
        else:
            self.b = float(p["baseline_value"])
        self.sums = np.zeros((len(ESTIMATORS), 2 * dim))
        self.count = 0
        self._draw(p)

    def _add_f(self, eps: np.ndarray) -> None:
        f = f_value(self.function, self.mu + self.sigma * eps)
        self.f_sum += float(f.sum())
        self.f_count += f.size

    def _draw(self, p: Mapping[str, Any]) -> None:
        """A new batch of estimates with the current baseline, then the baseline takes in the batch's samples of f."""
        L, n = int(p["samples"]), int(p["n_estimates"])
        eps = self.rng.standard_normal((n, L, len(self.mu)))
        est = estimates(self.function, self.mu, self.sigma, eps, self.b)
        self.batch = np.stack([est[k] for k in ESTIMATORS])
        self.batch_b, self.batch_samples = self.b, L
        self.sums += self.batch.sum(1)
        self.count += n
        if self.running_baseline:
            self._add_f(eps)
            self.b = self.f_sum / self.f_count
        self.variance_curve = variance_against_samples(self.function, self.mu, self.sigma, SAMPLE_COUNTS, VARIANCE_ESTIMATES, self.batch_b, self.rng)

    def step(self, p: Mapping[str, Any]) -> dict[str, float]:
        self._draw(p)
        means = self.sums / self.count
        dim = len(self.mu)
        metrics = {f"{e}_{c}": float(means[i, component_index(c, dim)]) for i, e in enumerate(ESTIMATORS) for c in COMPONENTS[: 2 * dim]}
        return metrics | {"baseline_b": self.batch_b}

    def arrays(self) -> dict[str, np.ndarray]:
        """The latest batch (3, M, 2D) and the exact and running quantities beside it (estimators in ESTIMATORS order)."""
        m = self.moments
        exact = lambda L: np.stack([m.variance(e, self.batch_b, L) for e in ESTIMATORS])  # noqa: E731
        return {
            "estimates": self.batch,
            "truth": m.truth,
            "running_mean": self.sums / self.count,
            "estimates_drawn": np.array(self.count),
            "batch_baseline": np.array(self.batch_b),
            "batch_samples": np.array(self.batch_samples),
            "exact_variance": exact(self.batch_samples),
            "exact_single_variance": exact(1),
            "sample_counts": np.array(SAMPLE_COUNTS),
            "variance_curve": self.variance_curve,
            "variance_slopes": np.array([[loglog_slope(SAMPLE_COUNTS, self.variance_curve[:, i, j]) for j in range(self.variance_curve.shape[2])] for i in range(len(ESTIMATORS))]),
        }


# --------------------------------------------------------------------------- the pretrained MNIST VAE: grad_mu of the ELBO at one test image

VAE_ESTIMATES = 2000
"""Estimates of each estimator behind the VAE comparison's variances."""
VAE_PARAMS = Params(
    Param("image", 0, int, 0, MNIST_HOLDOUT - 1, label="Held-out test image", help="Its index among the held-out MNIST test images (binarized once, 'fixed', seed 0)."),
    Param("vae_samples", 1, int, 1, 256, ticks=SAMPLE_COUNTS, label="Samples per estimate (VAE)", symbol="L"),
)
"""The VAE comparison's parameters (computed once per setting, not live)."""


def mnist_vae_gradients(model: VAE, heldout: torch.Tensor, image: int, samples: int, seed: int = 0) -> VAEGradients:
    """:func:`elbo_mu_gradients` at held-out image ``image``: :data:`VAE_ESTIMATES` estimates by each estimator."""
    if not 0 <= image < len(heldout):
        raise ValueError(f"image must be between 0 and {len(heldout) - 1}, got {image}")
    return elbo_mu_gradients(model.encoder, model.decoder, heldout[image], samples, VAE_ESTIMATES, seed)
