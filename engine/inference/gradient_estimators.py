"""Gradients of an expectation E_q[f(z)] with respect to the parameters of q (Kingma & Welling section 2.3-2.4).

q(z) = N(z; mu, diag sigma^2) in D = 1 or 2 dimensions; theta = (mu_1 .. mu_D, sigma_1 .. sigma_D). Three Monte Carlo
estimators of grad_theta E_q[f(z)], each the mean over L samples:

- the score function (REINFORCE, K&W eq. 5): f(z) grad_theta log q(z), with grad_mu log q = eps / sigma and
  grad_sigma log q = (eps^2 - 1) / sigma for z = mu + sigma eps;
- the same with a baseline b: (f(z) - b) grad_theta log q(z), unbiased for any b that does not depend on the samples
  (E_q[grad log q] = 0), lower variance when b is near E_q[f];
- the reparameterized estimator (K&W section 2.4, eq. 7-8): grad_theta f(mu + sigma eps), i.e. grad f(z) for mu and
  grad f(z) * eps for sigma.

The exact gradient comes in closed form (quadratic, sinusoid) or by Gauss-Hermite quadrature (any f), and so does each
estimator's exact single-sample variance, which falls as 1/L for the mean over L samples. :func:`elbo_mu_gradients`
does the same for the ELBO of a VAE with respect to the encoder's output mu (K&W eq. 10).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

FUNCTIONS = ("quadratic", "sinusoid", "bumpy")
"""The functions f: ||z - c||^2, sum_i sin(omega z_i) (both with a closed-form gradient), and
0.25 ||z||^2 + sin(4 z_1) tanh(2 z_D) (gradient by quadrature only)."""
ESTIMATORS = ("score", "baseline", "reparam")
CENTER = np.array([1.0, -0.5])
"""c of the quadratic f(z) = ||z - c||^2 (its first D entries)."""
OMEGA = 3.0
"""omega of the sinusoid f(z) = sum_i sin(omega z_i)."""
QUADRATURE_NODES = 160
"""Gauss-Hermite nodes per dimension for the exact expectations: the bumpy f's tanh converges slowest (its poles at
z = i pi / 4); at mu = (0.3, -0.2), sigma = (0.8, 1.2) its gradient differs from 300 nodes' by 1e-8 (80 nodes: 2e-6)."""


# --------------------------------------------------------------------------- the functions f and their gradients


def f_value(name: str, z: np.ndarray) -> np.ndarray:
    """f(z) for z of shape (..., D): shape (...)."""
    if name == "quadratic":
        return ((z - CENTER[: z.shape[-1]]) ** 2).sum(-1)
    if name == "sinusoid":
        return np.sin(OMEGA * z).sum(-1)
    if name == "bumpy":
        return 0.25 * (z**2).sum(-1) + np.sin(4.0 * z[..., 0]) * np.tanh(2.0 * z[..., -1])
    raise ValueError(f"f must be one of {', '.join(FUNCTIONS)}, got {name!r}")


def f_gradient(name: str, z: np.ndarray) -> np.ndarray:
    """grad_z f(z) for z of shape (..., D): shape (..., D)."""
    if name == "quadratic":
        return 2.0 * (z - CENTER[: z.shape[-1]])
    if name == "sinusoid":
        return OMEGA * np.cos(OMEGA * z)
    if name == "bumpy":
        a, t = z[..., 0], np.tanh(2.0 * z[..., -1])
        g = 0.5 * z
        g[..., 0] += 4.0 * np.cos(4.0 * a) * t
        g[..., -1] += 2.0 * np.sin(4.0 * a) * (1.0 - t**2)  # in 1-D both terms land on z_1: the product rule
        return g
    raise ValueError(f"f must be one of {', '.join(FUNCTIONS)}, got {name!r}")


def closed_form_gradient(name: str, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray | None:
    """grad_theta E_q[f] in closed form, theta = (mu, sigma), or None (``bumpy``).

    Quadratic: E_q[||z - c||^2] = ||mu - c||^2 + sum sigma^2, so d/dmu = 2 (mu - c), d/dsigma = 2 sigma.
    Sinusoid: E_q[sin(omega z)] = sin(omega mu) exp(-omega^2 sigma^2 / 2), so d/dmu = omega cos(omega mu) e^{...},
    d/dsigma = -omega^2 sigma sin(omega mu) e^{...}.
    """
    if name == "quadratic":
        return np.concatenate([2.0 * (mu - CENTER[: len(mu)]), 2.0 * sigma])
    if name == "sinusoid":
        damp = np.exp(-0.5 * OMEGA**2 * sigma**2)
        return np.concatenate([OMEGA * np.cos(OMEGA * mu) * damp, -(OMEGA**2) * sigma * np.sin(OMEGA * mu) * damp])
    return None


# --------------------------------------------------------------------------- Gauss-Hermite quadrature over eps ~ N(0, I)


def hermite_grid(dim: int, nodes: int = QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n^D, D) and weights (n^D,) with sum_k w_k h(eps_k) ~= E_{eps ~ N(0, I_D)}[h(eps)] (probabilists' Hermite)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2.0 * math.pi)
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    weights = np.prod(np.meshgrid(*([w] * dim), indexing="ij"), axis=0)
    return np.stack([g.ravel() for g in grids], -1), weights.ravel()


def gaussian_expectation(integrand: Callable[[np.ndarray], np.ndarray], dim: int, nodes: int = QUADRATURE_NODES) -> np.ndarray:
    """E_{eps ~ N(0, I_D)}[integrand(eps)] by Gauss-Hermite quadrature; ``integrand`` maps (N, D) to (N, ...)."""
    eps, w = hermite_grid(dim, nodes)
    return np.tensordot(w, integrand(eps), axes=(0, 0))


def expected_value(name: str, mu: np.ndarray, sigma: np.ndarray, nodes: int = QUADRATURE_NODES) -> float:
    """E_q[f(z)] by quadrature (the baseline that would cancel the score function's mean term)."""
    return float(gaussian_expectation(lambda e: f_value(name, mu + sigma * e), len(mu), nodes))


def quadrature_gradient(name: str, mu: np.ndarray, sigma: np.ndarray, nodes: int = QUADRATURE_NODES) -> np.ndarray:
    """grad_theta E_q[f] = E_eps[(grad f(z), grad f(z) * eps)] with z = mu + sigma eps, by quadrature (any smooth f)."""
    return gaussian_expectation(lambda e: reparam_terms(name, mu, sigma, e), len(mu), nodes)


def true_gradient(name: str, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The exact gradient: the closed form where there is one, else quadrature."""
    exact = closed_form_gradient(name, mu, sigma)
    return exact if exact is not None else quadrature_gradient(name, mu, sigma)


# --------------------------------------------------------------------------- single-sample terms and the three estimators


def score(sigma: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """grad_theta log q(z) at z = mu + sigma eps: (eps / sigma, (eps^2 - 1) / sigma), shape (..., 2D)."""
    return np.concatenate([eps / sigma, (eps**2 - 1.0) / sigma], -1)


def reparam_terms(name: str, mu: np.ndarray, sigma: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """grad_theta f(mu + sigma eps) = (grad f(z), grad f(z) * eps), shape (..., 2D) (K&W section 2.4)."""
    g = f_gradient(name, mu + sigma * eps)
    return np.concatenate([g, g * eps], -1)


def estimates(name: str, mu: np.ndarray, sigma: np.ndarray, eps: np.ndarray, baseline: float) -> dict[str, np.ndarray]:
    """The three estimators of grad_theta E_q[f] from eps (M, L, D): M estimates each, the mean over L samples, (M, 2D).

    ``score``: mean of f(z) grad log q(z) (K&W eq. 5); ``baseline``: mean of (f(z) - b) grad log q(z);
    ``reparam``: mean of grad_theta f(mu + sigma eps).
    """
    f = f_value(name, mu + sigma * eps)[..., None]
    s = score(sigma, eps)
    return {
        "score": (f * s).mean(1),
        "baseline": ((f - baseline) * s).mean(1),
        "reparam": reparam_terms(name, mu, sigma, eps).mean(1),
    }


@dataclass(frozen=True)
class SingleSampleMoments:
    """E over one sample of what the variances are made of, per component of theta (each (2D,)).

    The score function with baseline b has single-sample variance E[f^2 s^2] - 2 b E[f s^2] + b^2 E[s^2] - g^2
    (s = grad log q, g the true gradient); b = 0 is the plain score function.
    """

    truth: np.ndarray
    f2_s2: np.ndarray
    f_s2: np.ndarray
    s2: np.ndarray
    reparam2: np.ndarray

    def variance(self, estimator: str, baseline: float = 0.0, samples: int = 1) -> np.ndarray:
        """The exact variance of ``estimator``'s mean over ``samples`` samples, per component (i.i.d.: single / L)."""
        if estimator == "reparam":
            single = self.reparam2 - self.truth**2
        elif estimator in ("score", "baseline"):
            b = baseline if estimator == "baseline" else 0.0
            single = self.f2_s2 - 2.0 * b * self.f_s2 + b**2 * self.s2 - self.truth**2
        else:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
        return np.maximum(single, 0.0) / samples


def single_sample_moments(name: str, mu: np.ndarray, sigma: np.ndarray, nodes: int = QUADRATURE_NODES) -> SingleSampleMoments:
    """The moments of :class:`SingleSampleMoments` by Gauss-Hermite quadrature."""
    dim = len(mu)

    def terms(e: np.ndarray) -> np.ndarray:
        f = f_value(name, mu + sigma * e)[:, None]
        s2 = score(sigma, e) ** 2
        return np.stack([f**2 * s2, f * s2, s2, reparam_terms(name, mu, sigma, e) ** 2], 1)

    m = gaussian_expectation(terms, dim, nodes)
    return SingleSampleMoments(true_gradient(name, mu, sigma), m[0], m[1], m[2], m[3])


def variance_against_samples(
    name: str, mu: np.ndarray, sigma: np.ndarray, samples: Sequence[int], n_estimates: int, baseline: float, rng: np.random.Generator
) -> np.ndarray:
    """The measured variance over ``n_estimates`` estimates of each estimator, for each number of samples L:
    shape (len(samples), 3, 2D), estimators in the order of :data:`ESTIMATORS` (unbiased sample variance)."""
    out = np.empty((len(samples), len(ESTIMATORS), 2 * len(mu)))
    for i, n in enumerate(samples):
        eps = rng.standard_normal((n_estimates, int(n), len(mu)))
        est = estimates(name, mu, sigma, eps, baseline)
        out[i] = np.stack([est[k].var(0, ddof=1) for k in ESTIMATORS])
    return out


def loglog_slope(samples: Sequence[int], variances: np.ndarray) -> float:
    """The least-squares slope of log(variance) against log(L): -1 when the variance falls as 1/L."""
    return float(np.polyfit(np.log(np.asarray(samples, dtype=float)), np.log(variances), 1)[0])


# --------------------------------------------------------------------------- the ELBO of a VAE, with respect to the encoder's mu


@dataclass(frozen=True)
class VAEGradients:
    """Estimates of grad_mu L(x) at one image (each row one estimate from ``samples`` samples) and the truth."""

    mu: np.ndarray
    sigma: np.ndarray
    samples: int
    truth: np.ndarray
    score: np.ndarray
    reparam: np.ndarray

    @property
    def score_variance(self) -> np.ndarray:
        return self.score.var(0, ddof=1)

    @property
    def reparam_variance(self) -> np.ndarray:
        return self.reparam.var(0, ddof=1)


def _log_likelihood_and_gradient(decoder: torch.nn.Module, x: torch.Tensor, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log p(x|z) and grad_z log p(x|z) for z (N, n_z), by autograd through the decoder."""
    zt = torch.tensor(z, dtype=torch.float32, requires_grad=True)
    with torch.enable_grad():
        log_p = decoder.log_likelihood(x[None], zt)
        (grad,) = torch.autograd.grad(log_p.sum(), zt)
    return log_p.detach().double().numpy(), grad.double().numpy()


def elbo_mu_gradients(encoder: torch.nn.Module, decoder: torch.nn.Module, x: torch.Tensor, samples: int, n_estimates: int, seed: int,
                      nodes: int = 60) -> VAEGradients:  # fmt: skip
    """grad_mu L(x) for L(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) (K&W eq. 10) at q's own (mu, sigma) = encoder(x).

    The KL term is analytic (grad_mu KL = mu); E_q[log p(x|z)] is estimated by the score function,
    log p(x|z) (z - mu) / sigma^2, and by reparameterization, grad_z log p(x|z) at z = mu + sigma eps (K&W eq. 7);
    the truth is the reparameterized integrand by Gauss-Hermite quadrature (``nodes`` per latent dimension).
    """
    with torch.no_grad():
        mu_t, log_var = (t[0] for t in encoder(x[None]))
    mu, sigma = mu_t.double().numpy(), np.exp(0.5 * log_var.double().numpy())
    eps = np.random.default_rng(seed).standard_normal((n_estimates * samples, len(mu)))
    log_p, grad = _log_likelihood_and_gradient(decoder, x, mu + sigma * eps)
    score_terms = (log_p[:, None] * eps / sigma).reshape(n_estimates, samples, -1).mean(1)
    reparam = grad.reshape(n_estimates, samples, -1).mean(1)
    nodes_eps, w = hermite_grid(len(mu), nodes)
    _, grad_nodes = _log_likelihood_and_gradient(decoder, x, mu + sigma * nodes_eps)
    truth = w @ grad_nodes - mu
    return VAEGradients(mu, sigma, samples, truth, score_terms - mu, reparam - mu)
