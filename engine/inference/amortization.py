"""Learned (amortized) inference and its gaps (book 19.5; Kingma & Welling section 2; Cremer, Li & Duvenaud 2018).

A VAE's encoder maps every x to one Gaussian q(z|x) = N(mu(x), diag sigma^2(x)): inference is *amortized*, one
network for all images. For a single image we can instead optimize the two parameters (mu, log sigma) of a
diagonal Gaussian q to maximize that image's ELBO (book eq. 19.1 / K&W eq. 3),

    L(x, q) = E_q[log p(x|z)] - KL(q || p(z)) = log p(x) - KL(q || p(z|x)).

With q* the best diagonal Gaussian found, log p(x) splits into three levels (Cremer et al. 2018, eq. 4):

    log p(x) - L(x, q_encoder) = [log p(x) - L(x, q*)]          (the approximation gap: the family is too small)
                               + [L(x, q*) - L(x, q_encoder)]   (the amortization gap: the encoder misses q*).

For a 2-D latent every term is computed deterministically: E_q[log p(x|z)] by Gauss-Hermite quadrature on the
nodes mu + sigma * sqrt(2) t (exact for polynomials of degree < 2n in each coordinate), the KL in closed form
(K&W appendix B), and log p(x) by grid quadrature (engine.eval.quadrature). The quadrature ELBO is a smooth
function of (mu, log sigma), so q is optimized by plain gradient steps, preconditioned by the inverse Fisher
information of q (natural gradient: mu moves by eps sigma^2 dL/dmu, log sigma by eps/2 dL/dlog sigma), which
makes one step size fit posteriors of any width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.models.vae import VAE, kl_to_standard_normal, log_diag_normal, log_standard_normal, reparameterize


@dataclass(frozen=True)
class HermiteRule:
    """A 2-D Gauss-Hermite product rule for E[f(eps)], eps ~ N(0, I): nodes (K, 2) and weights (K,) summing to 1."""

    nodes: torch.Tensor
    weights: torch.Tensor


def hermite_rule(n: int) -> HermiteRule:
    """The n x n product rule: E[f(eps)] ~ sum_k w_k f(eps_k) with eps_k = sqrt(2) (t_i, t_j), w_k = w_i w_j / pi."""
    if not 2 <= n <= 64:
        raise ValueError(f"Gauss-Hermite points per axis must be 2..64, got {n}")
    t, w = np.polynomial.hermite.hermgauss(n)
    t1, t2 = np.meshgrid(t, t, indexing="ij")
    nodes = math.sqrt(2.0) * np.stack([t1.ravel(), t2.ravel()], 1)
    weights = np.outer(w, w).ravel() / math.pi
    return HermiteRule(torch.tensor(nodes, dtype=torch.float32), torch.tensor(weights, dtype=torch.float64))


def quadrature_elbo(model: VAE, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, rule: HermiteRule) -> torch.Tensor:
    """L(x, q) = E_q[log p(x|z)] - KL(q || p(z)) per row of x (B, n_x), q = N(mu, diag exp(log_var)) (B, 2) each.

    The expectation is the Gauss-Hermite sum over z_k = mu + sigma * eps_k (K&W eq. 3 and eq. 10, deterministic);
    differentiable in mu and log_var. Float64 result, shape (B,).
    """
    z = reparameterize(mu[None], log_var[None], rule.nodes[:, None, :])  # (K, B, 2)
    expected = (model.decoder.log_likelihood(x, z).double() * rule.weights[:, None]).sum(0)
    return expected - kl_to_standard_normal(mu.double(), log_var.double())


def monte_carlo_elbo(model: VAE, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, n_samples: int, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The ELBO by Monte Carlo, log p(x, z) - log q(z) averaged over n_samples z ~ q (book eq. 19.1), and its standard error.

    Per row of x; returns (mean, standard error), each (B,) float64. The check of :func:`quadrature_elbo`.
    """
    with torch.no_grad():
        eps = torch.randn((n_samples, *mu.shape), generator=generator)
        z = reparameterize(mu[None], log_var[None], eps)
        log_w = (model.decoder.log_likelihood(x, z) + log_standard_normal(z) - log_diag_normal(z, mu[None], log_var[None])).double()
    return log_w.mean(0).numpy(), (log_w.std(0) / math.sqrt(n_samples)).numpy()


@torch.no_grad()
def encoder_q(model: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The amortized q(z|x): the encoder's (mu(x), log sigma^2(x)) for every row of x (K&W eq. 9)."""
    mu, log_var = model.encoder(x)
    return mu.float().clone(), log_var.float().clone()


def natural_gradient_step(model: VAE, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, rule: HermiteRule, lr: float) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """One ascent step on every image's own L(x, q) (independent per row), and the ELBO *before* the step.

    The gradient is preconditioned by the inverse Fisher information of q = N(mu, diag sigma^2):
    F = diag(1 / sigma^2) for mu and 2 for log sigma, i.e. mu += lr sigma^2 dL/dmu and
    log sigma^2 += 2 lr dL/dlog sigma^2 (since dL/dlog sigma = 2 dL/dlog sigma^2 and log sigma^2 = 2 log sigma).
    """
    mu = mu.detach().requires_grad_(True)
    log_var = log_var.detach().requires_grad_(True)
    with torch.enable_grad():
        elbo = quadrature_elbo(model, x, mu, log_var, rule)
        d_mu, d_log_var = torch.autograd.grad(elbo.sum(), (mu, log_var))
    with torch.no_grad():
        new_mu = mu + lr * torch.exp(log_var) * d_mu
        new_log_var = log_var + 2.0 * lr * d_log_var
    return new_mu.detach(), new_log_var.detach(), elbo.detach().numpy()


@dataclass(frozen=True)
class Gaps:
    """Per image (nats): log p(x), the optimized q's and the encoder's ELBO, and the two gaps of Cremer et al. (2018)."""

    log_px: np.ndarray
    optimized_elbo: np.ndarray
    amortized_elbo: np.ndarray

    @property
    def amortization_gap(self) -> np.ndarray:
        """L(x, q*) - L(x, q_encoder): what a better encoder could gain."""
        return self.optimized_elbo - self.amortized_elbo

    @property
    def approximation_gap(self) -> np.ndarray:
        """log p(x) - L(x, q*) = KL(q* || p(z|x)): what no diagonal Gaussian can gain."""
        return self.log_px - self.optimized_elbo


def optimize_q(model: VAE, x: torch.Tensor, rule: HermiteRule, steps: int, lr: float, mu: torch.Tensor | None = None, log_var: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``steps`` natural-gradient steps from (mu, log_var) (default: the encoder's q); returns the final q and the ELBO
    history, shape (steps + 1, B): row s is L(x, q) after s steps."""
    if mu is None or log_var is None:
        mu, log_var = encoder_q(model, x)
    history = []
    for _ in range(steps):
        mu, log_var, elbo = natural_gradient_step(model, x, mu, log_var, rule, lr)
        history.append(elbo)
    with torch.no_grad():
        history.append(quadrature_elbo(model, x, mu, log_var, rule).numpy())
    return mu, log_var, np.stack(history)
