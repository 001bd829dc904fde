"""Which KL? Fitting a Gaussian q to a 2-D target p by KL(q || p) or KL(p || q) (book section 19.4, figure 3.6).

The KL divergence (eq. 3.50) is not symmetric:

- the reverse divergence KL(q || p) = E_q[log q - log p], the one variational inference minimizes (it is the gap
  log p(v) - L(v, q) of eq. 19.1), is large where q puts mass and p has none: q *seeks a mode* and, when factorized
  (mean field, eq. 19.17), under-estimates the variance;
- the forward divergence KL(p || q) = E_p[log p - log q] is large where p has mass and q has none: q *covers the
  mass*; for a Gaussian q it is minimized by matching p's mean and covariance (its marginal variances when q is
  factorized).

Both are evaluated by quadrature on a fixed 2-D grid (deterministic; the trapezoid rule on a smooth density that vanishes at the edges is exact to ~1e-10 here);
the Gaussian-to-Gaussian KL also has a closed form (:func:`gaussian_kl`), and the optima that have one are given by
:func:`closed_form_optimum`. The target p is a Gaussian mixture (:class:`Target`): one component for the correlated
Gaussian, two for the two-mode mixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

DIVERGENCES = ("reverse", "forward")
"""``reverse``: KL(q || p), mode seeking; ``forward``: KL(p || q), mass covering."""
FAMILIES = ("factorized", "full")
"""The Gaussian q: ``factorized`` (diagonal covariance, mean field) or ``full`` covariance."""
MIN_STD, MAX_STD = 0.1, 4.0
"""The standard deviations (and Cholesky diagonal) q may take: its density stays resolved by the grid."""
MAX_MEAN = 4.0
"""|mean| of q per coordinate stays inside the grid."""


@dataclass(frozen=True)
class Target:
    """A Gaussian mixture p(x) = sum_k w_k N(x; mu_k, Sigma_k) in 2-D: ``weights`` (K,), ``means`` (K, 2), ``covs`` (K, 2, 2)."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @property
    def is_gaussian(self) -> bool:
        return len(self.weights) == 1


def correlated_gaussian(rho: float, mean: tuple[float, float] = (0.0, 0.0)) -> Target:
    """N(mean, Sigma) with unit marginal variances and correlation ``rho``: Sigma = [[1, rho], [rho, 1]]."""
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must be in (-1, 1), got {rho}")
    return Target(np.ones(1), np.array([mean], dtype=float), np.array([[[1.0, rho], [rho, 1.0]]]))


def two_mode_mixture(separation: float, component_std: float = 0.6) -> Target:
    """Two equally weighted isotropic Gaussians of std ``component_std`` whose means lie ``separation`` apart on the
    diagonal x1 = x2, centred on the origin (the book's figure 3.6)."""
    half = 0.5 * separation / math.sqrt(2.0)
    means = np.array([[-half, -half], [half, half]])
    covs = np.stack([component_std**2 * np.eye(2)] * 2)
    return Target(np.full(2, 0.5), means, covs)


def target_moments(target: Target) -> tuple[np.ndarray, np.ndarray]:
    """The mixture's mean sum_k w_k mu_k and covariance sum_k w_k (Sigma_k + mu_k mu_k^T) - mean mean^T."""
    w = target.weights
    mean = w @ target.means
    second = np.einsum("k,kij->ij", w, target.covs + np.einsum("ki,kj->kij", target.means, target.means))
    return mean, second - np.outer(mean, mean)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, cov) for points ``x`` (N, 2), through the Cholesky factor (differentiable in mean and cov)."""
    chol = torch.linalg.cholesky(cov)
    z = torch.linalg.solve_triangular(chol, (x - mean).T, upper=False)
    return -0.5 * (z**2).sum(0) - torch.log(torch.diagonal(chol)).sum() - math.log(2.0 * math.pi)


def target_log_density(target: Target, x: torch.Tensor) -> torch.Tensor:
    """log p(x) = log sum_k w_k N(x; mu_k, Sigma_k), by log-sum-exp."""
    parts = [math.log(w) + gaussian_log_density(x, torch.as_tensor(m, dtype=x.dtype), torch.as_tensor(c, dtype=x.dtype))
             for w, m, c in zip(target.weights, target.means, target.covs)]  # fmt: skip
    return torch.logsumexp(torch.stack(parts), dim=0)


def gaussian_kl(mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray, cov1: np.ndarray) -> float:
    """KL(N(mean0, cov0) || N(mean1, cov1)) = 1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - d + log |S1| / |S0|]."""
    prec1 = np.linalg.inv(cov1)
    diff = np.asarray(mean1, float) - np.asarray(mean0, float)
    _, logdet0 = np.linalg.slogdet(cov0)
    _, logdet1 = np.linalg.slogdet(cov1)
    return float(0.5 * (np.trace(prec1 @ cov0) + diff @ prec1 @ diff - len(diff) + logdet1 - logdet0))


# --------------------------------------------------------------------------- the quadrature grid


@dataclass(frozen=True)
class Grid:
    """A square grid of ``n`` x ``n`` points on [-extent, extent]^2: ``axis`` (n,), ``points`` (n*n, 2) row-major
    (x2 slowest, so ``values.reshape(n, n)`` has x2 down the rows), ``cell`` the area each point stands for."""

    axis: np.ndarray
    points: torch.Tensor
    cell: float

    @property
    def n(self) -> int:
        return len(self.axis)


def make_grid(extent: float = 7.0, n: int = 161) -> Grid:
    """The quadrature grid (the trapezoid rule, whose edge weights do not matter: the densities vanish there)."""
    axis = np.linspace(-extent, extent, n)
    x1, x2 = np.meshgrid(axis, axis)
    points = torch.as_tensor(np.stack([x1.ravel(), x2.ravel()], axis=1), dtype=torch.float64)
    return Grid(axis, points, float((axis[1] - axis[0]) ** 2))


def reverse_kl(log_q: torch.Tensor, log_p: torch.Tensor, cell: float) -> torch.Tensor:
    """KL(q || p) = sum_x q(x) (log q(x) - log p(x)) dA, by quadrature (eq. 3.50 with q first)."""
    return (torch.exp(log_q) * (log_q - log_p)).sum() * cell


def forward_kl(log_q: torch.Tensor, log_p: torch.Tensor, cell: float) -> torch.Tensor:
    """KL(p || q) = sum_x p(x) (log p(x) - log q(x)) dA, by quadrature (eq. 3.50 with p first)."""
    return (torch.exp(log_p) * (log_p - log_q)).sum() * cell


# --------------------------------------------------------------------------- the Gaussian q


def q_moments(theta: torch.Tensor, family: str) -> tuple[torch.Tensor, torch.Tensor]:
    """q's mean and covariance from its parameters theta = (m1, m2, log l11, log l22, l21): S = L L^T with
    L = [[l11, 0], [l21, l22]]; the factorized family ignores l21 (S diagonal, variances l11^2 and l22^2)."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    mean = theta[:2]
    l21 = theta[4] if family == "full" else torch.zeros((), dtype=theta.dtype)
    zero = torch.zeros((), dtype=theta.dtype)
    chol = torch.stack([torch.stack([torch.exp(theta[2]), zero]), torch.stack([l21, torch.exp(theta[3])])])
    return mean, chol @ chol.T


def theta_of(mean: np.ndarray, cov: np.ndarray, family: str) -> torch.Tensor:
    """The parameters theta of q = N(mean, cov) (the diagonal of cov only, for the factorized family)."""
    cov = np.asarray(cov, float) if family == "full" else np.diag(np.diag(cov))
    chol = np.linalg.cholesky(cov)
    return torch.tensor([mean[0], mean[1], math.log(chol[0, 0]), math.log(chol[1, 1]), chol[1, 0]], dtype=torch.float64)


def divergence(theta: torch.Tensor, log_p: torch.Tensor, grid: Grid, which: str, family: str) -> torch.Tensor:
    """The divergence ``which`` (reverse: KL(q || p); forward: KL(p || q)) of q(theta) from p, by quadrature."""
    return both_divergences(theta, log_p, grid, family)[which]


def both_divergences(theta: torch.Tensor, log_p: torch.Tensor, grid: Grid, family: str) -> dict[str, torch.Tensor]:
    """{"reverse": KL(q || p), "forward": KL(p || q)} of q(theta) from p, by quadrature, from one evaluation of log q."""
    mean, cov = q_moments(theta, family)
    log_q = gaussian_log_density(grid.points, mean, cov)
    return {"reverse": reverse_kl(log_q, log_p, grid.cell), "forward": forward_kl(log_q, log_p, grid.cell)}


def divergences_and_gradient(theta: torch.Tensor, log_p: torch.Tensor, grid: Grid, which: str, family: str) -> tuple[dict[str, float], torch.Tensor]:
    """Both divergences at theta and the gradient in theta of the one named ``which`` (autograd through the quadrature
    sum); the factorized family's gradient in l21 is zero."""
    if which not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {', '.join(DIVERGENCES)}, got {which!r}")
    theta = theta.detach().clone().requires_grad_(True)
    values = both_divergences(theta, log_p, grid, family)
    (grad,) = torch.autograd.grad(values[which], theta)
    return {w: float(v.detach()) for w, v in values.items()}, grad


def gradient_step(theta: torch.Tensor, grad: torch.Tensor, lr: float, family: str) -> torch.Tensor:
    """theta - lr * grad, kept where the grid resolves q: means within +-MAX_MEAN, Cholesky diagonal within
    [MIN_STD, MAX_STD] (a projected gradient step); l21 stays 0 for the factorized family."""
    new = theta - lr * grad
    new[:2] = new[:2].clamp(-MAX_MEAN, MAX_MEAN)
    new[2:4] = new[2:4].clamp(math.log(MIN_STD), math.log(MAX_STD))
    if family == "factorized":
        new[4] = 0.0
    return new


def closed_form_optimum(target: Target, which: str, family: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The (mean, covariance) of the q minimizing the divergence, where a closed form exists, else None.

    - forward KL(p || q): moment matching, q's mean and covariance are p's (its diagonal, the marginal variances
      Sigma_ii, for the factorized q), for any p;
    - reverse KL(q || p) with a Gaussian p of precision Lambda: the full q is p itself; the factorized (mean-field) q has
      p's mean and precisions Lambda_ii, i.e. variances 1 / Lambda_ii <= Sigma_ii;
    - reverse KL with the mixture: no closed form (each mode is a local optimum).
    """
    mean, cov = target_moments(target)
    if which == "forward":
        return mean, cov if family == "full" else np.diag(np.diag(cov))
    if not target.is_gaussian:
        return None
    if family == "full":
        return mean, cov
    return mean, np.diag(1.0 / np.diag(np.linalg.inv(cov)))


def covariance_ellipse(mean: np.ndarray, cov: np.ndarray, radius: float, n: int = 97) -> np.ndarray:
    """The contour of N(mean, cov) at Mahalanobis distance ``radius``: the points mean + radius L u, u on the unit
    circle, L the Cholesky factor of cov; (n, 2), closed (first point repeated last)."""
    angle = np.linspace(0.0, 2.0 * math.pi, n)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return (np.asarray(mean)[:, None] + radius * np.linalg.cholesky(cov) @ circle).T
