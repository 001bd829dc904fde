"""KL(q || p) by quadrature on a grid (engine.eval.quadrature) against the closed form for Gaussians, and
the posterior gap it measures against log p(x) - ELBO."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.eval.quadrature import PosteriorGrid, kl_by_quadrature, posterior_gap_on_grid, posterior_grid
from engine.eval.vae_bounds import mean_elbo
from engine.models.vae import VAE, VAEConfig


def log_gaussian_2d(z1: np.ndarray, z2: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(z; mean, cov) at z = (z1[j], z2[i]), shape (len(z2), len(z1))."""
    g1, g2 = np.meshgrid(z1, z2)
    d = np.stack([g1 - mean[0], g2 - mean[1]], -1)
    prec = np.linalg.inv(cov)
    quad = np.einsum("...i,ij,...j->...", d, prec, d)
    return -0.5 * (quad + math.log(np.linalg.det(cov)) + 2 * math.log(2 * math.pi))


def kl_gaussians(m0: np.ndarray, s0: np.ndarray, m1: np.ndarray, s1: np.ndarray) -> float:
    """KL(N(m0, s0) || N(m1, s1)) = 1/2 [tr(s1^-1 s0) + (m1 - m0)' s1^-1 (m1 - m0) - k + log det s1 / det s0]."""
    p1 = np.linalg.inv(s1)
    d = m1 - m0
    return 0.5 * (np.trace(p1 @ s0) + d @ p1 @ d - len(m0) + math.log(np.linalg.det(s1) / np.linalg.det(s0)))


def test_kl_between_two_gaussians_by_quadrature_is_the_closed_form():
    z = np.linspace(-8.0, 8.0, 401)
    m0, s0 = np.array([0.5, -1.0]), np.diag([0.3**2, 0.6**2])
    m1, s1 = np.array([-0.4, 0.2]), np.array([[1.0, 0.6], [0.6, 1.5]])  # a tilted p: no diagonal q can equal it
    result = kl_by_quadrature(z, z, log_gaussian_2d(z, z, m0, s0), log_gaussian_2d(z, z, m1, s1))
    exact = kl_gaussians(m0, s0, m1, s1)
    assert exact == pytest.approx(2.7303, abs=1e-4)  # by hand: (0.4342 + 3.4658 - 2 + log(1.14 / 0.0324)) / 2
    assert result.kl == pytest.approx(exact, abs=1e-6)
    assert result.q_mass == pytest.approx(1.0, abs=1e-9)
    same = kl_by_quadrature(z, z, log_gaussian_2d(z, z, m1, s1), log_gaussian_2d(z, z, m1, s1))
    assert same.kl == pytest.approx(0.0, abs=1e-12)


def test_a_grid_that_cuts_q_reports_the_mass_it_holds():
    z1, z2 = np.linspace(0.0, 6.0, 301), np.linspace(-6.0, 6.0, 301)  # only z1 >= 0: half of q = N(0, I)
    log_q = log_gaussian_2d(z1, z2, np.zeros(2), np.eye(2))
    result = kl_by_quadrature(z1, z2, log_q, log_q)
    assert result.q_mass == pytest.approx(0.5, abs=0.01)  # the Riemann sum counts the edge column whole
    with pytest.raises(ValueError, match=r"shape \(len\(z2\), len\(z1\)\) = \(301, 301\)"):
        kl_by_quadrature(z1, z2, log_q[:, :10], log_q)


def test_the_posterior_gap_of_a_known_gaussian_posterior_is_its_closed_form_kl():
    z = np.linspace(-7.0, 7.0, 281)
    m1, s1 = np.array([1.0, -0.5]), np.array([[0.5, -0.3], [-0.3, 0.8]])
    log_p = log_gaussian_2d(z, z, m1, s1)
    grid = PosteriorGrid(z, z, log_p, log_px=-3.0)
    mu, log_var = torch.tensor([0.8, -0.2]), torch.log(torch.tensor([0.4, 0.5]))
    gap = posterior_gap_on_grid(grid, mu, log_var)
    exact = kl_gaussians(mu.double().numpy(), np.diag(log_var.double().exp().numpy()), m1, s1)
    assert gap.kl == pytest.approx(exact, abs=1e-6)
    # normalizing by a p(x) twice as large lowers log p(z|x) by log 2 everywhere: the KL grows by log 2
    assert posterior_gap_on_grid(grid, mu, log_var, log_px=-3.0 + math.log(2.0)).kl == pytest.approx(exact + math.log(2.0), abs=1e-6)


def test_the_posterior_gap_of_a_vae_is_log_px_minus_its_elbo():
    torch.manual_seed(0)
    model = VAE(VAEConfig(16, 2, 8, "tanh", "bernoulli", (4, 4))).eval()
    with torch.no_grad():  # a sharper decoder and a q moved off the posterior: a gap of about 0.8 nats
        model.decoder.trunk[0].weight.mul_(3.0)
        model.decoder.out.weight.mul_(3.0)
        model.encoder.mu.bias.add_(torch.tensor([1.5, -1.0]))
    x = torch.bernoulli(torch.full((16,), 0.3), generator=torch.Generator().manual_seed(1))
    grid = posterior_grid(model, x, n=201)
    with torch.no_grad():
        mu, log_var = (t[0] for t in model.encoder(x[None]))
    gap = posterior_gap_on_grid(grid, mu, log_var)
    elbo = mean_elbo(model, x[None].expand(20000, -1), seed=0)["elbo"]  # 20,000 samples of q: MC spread ~0.015 over seeds
    assert gap.q_mass == pytest.approx(1.0, abs=1e-3)
    assert gap.kl > 0.5
    assert gap.kl == pytest.approx(grid.log_px - elbo, abs=0.05)
