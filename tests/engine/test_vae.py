"""VAE math against exact answers: closed-form KL and gradients, quadrature, a linear-Gaussian posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from engine.data import bars_and_stripes
from engine.eval.quadrature import log_px_quadrature, posterior_grid
from engine.eval.vae_bounds import active_units, iwae_per_example, mean_elbo
from engine.models.vae import (
    VAE,
    GaussianEncoder,
    VAEConfig,
    elbo_terms,
    kl_to_standard_normal,
    latent_grid,
    log_diag_normal,
    log_standard_normal,
    reparameterize,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def bars_model() -> tuple[VAE, torch.Tensor]:
    """A 2-D VAE trained on the 30 bars-and-stripes patterns (4 x 4)."""
    torch.manual_seed(0)
    x = torch.from_numpy(bars_and_stripes(4).images.reshape(-1, 16) / 255.0).float()
    model = VAE(VAEConfig(16, 2, 32, "tanh", "bernoulli", (4, 4)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(600):
        opt.zero_grad()
        loss, _ = model.training_loss(x, generator=g)
        loss.backward()
        opt.step()
    return model.eval(), x


def test_analytic_kl_equals_monte_carlo():
    mu = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    log_var = torch.tensor([[-1.0, 0.3, 0.8]], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    z = reparameterize(mu, log_var, torch.randn((400_000, 3), generator=g, dtype=torch.float64))
    mc = (log_diag_normal(z, mu, log_var) - log_standard_normal(z)).mean().item()
    exact = kl_to_standard_normal(mu, log_var).item()
    assert exact == pytest.approx(0.5 * (0.25 + 1 + 4 + math.exp(-1) + math.exp(0.3) + math.exp(0.8) - 3 - (-1 + 0.3 + 0.8)), abs=1e-12)
    assert mc == pytest.approx(exact, abs=0.02)


def test_reparameterized_gradient_matches_analytic():
    """d/dmu E[z^2] = 2 mu and d/dlog_var E[z^2] = sigma^2 for z ~ N(mu, sigma^2)."""
    mu = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    log_var = torch.tensor([math.log(0.5)], dtype=torch.float64, requires_grad=True)
    g = torch.Generator().manual_seed(1)
    z = reparameterize(mu, log_var, torch.randn((1_000_000, 1), generator=g, dtype=torch.float64))
    z.pow(2).mean().backward()
    assert mu.grad.item() == pytest.approx(1.4, abs=0.01)
    assert log_var.grad.item() == pytest.approx(0.5, abs=0.01)


def test_bounds_ordered_and_reach_quadrature(bars_model):
    model, x = bars_model
    xs = x.repeat(20, 1)  # 600 rows: averages over many Monte Carlo draws
    log_px = log_px_quadrature(model, x).mean()
    elbo = mean_elbo(model, xs)["elbo"]
    l10, l100, l1000 = (iwae_per_example(model, xs if k < 1000 else x, k).mean().item() for k in (10, 100, 1000))
    tol = 0.03
    assert log_px - elbo > 0.3  # a real gap, so the ordering below is not noise
    assert elbo < l10 - tol
    assert l10 < l100 + tol
    assert l100 <= log_px + tol
    assert l1000 == pytest.approx(log_px, abs=0.05)


def test_quadrature_matches_scipy_on_one_example(bars_model):
    model, x = bars_model
    xi = x[3:4]

    def joint(z2: float, z1: float) -> float:
        z = torch.tensor([[z1, z2]])
        with torch.no_grad():
            return math.exp(model.log_joint(xi, z).item())

    grid = posterior_grid(model, xi[0], n=81)
    lo1, hi1, lo2, hi2 = grid.z1[0], grid.z1[-1], grid.z2[0], grid.z2[-1]
    value, _ = integrate.dblquad(joint, lo1, hi1, lo2, hi2, epsabs=1e-10, epsrel=1e-6)
    assert grid.log_px == pytest.approx(math.log(value), abs=1e-3)
    cell = (grid.z1[1] - grid.z1[0]) * (grid.z2[1] - grid.z2[0])
    assert np.exp(grid.log_density).sum() * cell == pytest.approx(1.0, abs=1e-9)
    assert log_px_quadrature(model, xi)[0] == pytest.approx(grid.log_px, abs=1e-3)


class LinearGaussianDecoder(torch.nn.Module):
    """p(x|z) = N(x; W z + b, s^2 I): the exact posterior is Gaussian."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor, s: float):
        super().__init__()
        self.w, self.b, self.s = w, b, s

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        mean = z @ self.w.T + self.b
        return log_diag_normal(x, mean, torch.full_like(mean, 2 * math.log(self.s)))


def test_trained_q_matches_exact_linear_gaussian_posterior():
    torch.manual_seed(0)
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])  # orthogonal columns: the exact posterior covariance is diagonal
    b, s = torch.tensor([0.5, -0.5, 0.0]), 0.5
    decoder = LinearGaussianDecoder(w, b, s)
    encoder = GaussianEncoder(3, 2, 0, "tanh")  # n_hidden = 0: q's mean and log-variance are linear in x
    opt = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for i in range(2500):
        if i == 2000:
            opt.param_groups[0]["lr"] = 1e-3
        z = torch.randn((512, 2), generator=g)
        x = z @ w.T + b + s * torch.randn((512, 3), generator=g)
        opt.zero_grad()
        (-elbo_terms(encoder, decoder, x, g).elbo.mean()).backward()
        opt.step()
    cov = torch.linalg.inv(torch.eye(2) + w.T @ w / s**2)  # exact p(z|x) = N(cov W^T (x - b) / s^2, cov)
    x_test = torch.randn((50, 2)) @ w.T + b + s * torch.randn((50, 3))
    with torch.no_grad():
        mu, log_var = encoder(x_test)
    exact_mu = (x_test - b) @ w @ cov.T / s**2
    assert (mu - exact_mu).abs().max().item() < 0.03
    np.testing.assert_allclose(log_var.exp().numpy(), torch.diagonal(cov).expand(50, 2).numpy(), rtol=0.05)


def test_active_units_counts_units_whose_mean_moves(bars_model):
    model, x = bars_model
    assert active_units(model, x) == 2
    with torch.no_grad():
        model_copy = VAE(model.config)
        model_copy.load_state_dict(model.state_dict())
        model_copy.encoder.mu.weight[1] = 0.0  # unit 2's posterior mean no longer depends on x
    assert active_units(model_copy, x) == 1


def test_latent_grid_is_gaussian_quantiles():
    z = latent_grid(5)
    assert z.shape == (25, 2)
    from scipy.stats import norm

    q = norm.ppf(np.linspace(0.05, 0.95, 5))
    np.testing.assert_allclose(z[:5, 0].numpy(), q, atol=1e-6)  # first row: z1 left to right
    np.testing.assert_allclose(z[::5, 1].numpy(), q[::-1], atol=1e-6)  # first column: z2 top to bottom
    with pytest.raises(ValueError, match="grid size"):
        latent_grid(1)


def test_checkpoint_round_trip(tmp_path, bars_model):
    model, x = bars_model
    model.save(tmp_path / "m", {"dataset": "bars"})
    loaded, meta = VAE.load(tmp_path / "m")
    assert meta["dataset"] == "bars"
    with torch.no_grad():
        assert torch.equal(loaded.encoder(x)[0], model.encoder(x)[0])
