"""The amortization gap's math (engine.inference.amortization, engine.tasks.inference.amortized) against exact answers:
Gauss-Hermite moments, the quadrature ELBO against Monte Carlo and against grid quadrature of KL(q || p(z|x)), the
natural-gradient step against finite differences, and amortized ELBO <= optimized ELBO <= log p(x). The synthetic
tests use a small random VAE with a 2-D latent (no data); the MNIST tests skip when the data is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.eval.quadrature import log_px_quadrature, posterior_gap_on_grid, posterior_grid
from engine.inference import amortization as am
from engine.models.vae import VAE, VAEConfig
from engine.tasks.inference.amortized import PARAMS, AmortizedGapTask

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CHECKPOINT = Path(__file__).resolve().parents[2] / "assets" / "vae" / "mnist_z2"


def small_vae(seed: int = 0) -> VAE:
    """A random 4 x 4 Bernoulli VAE, decoder weights scaled up so that p(z|x) is narrow and curved."""
    torch.manual_seed(seed)
    model = VAE(VAEConfig(16, 2, 16, image_shape=(4, 4))).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3.0)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def binary_images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.bernoulli(torch.full((n, 16), 0.5), generator=torch.Generator().manual_seed(seed))


def test_hermite_rule_integrates_gaussian_moments_exactly():
    rule = am.hermite_rule(6)
    e1, e2 = rule.nodes[:, 0].double(), rule.nodes[:, 1].double()
    w = rule.weights
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    assert float((w * e1**2).sum()) == pytest.approx(1.0, abs=1e-6)
    assert float((w * e1**4).sum()) == pytest.approx(3.0, abs=1e-5)
    assert float((w * e1**6 * e2**2).sum()) == pytest.approx(15.0, abs=1e-4)  # E[e1^6] E[e2^2], degree < 2n per axis
    assert float((w * e1 * e2).sum()) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quadrature_elbo_equals_monte_carlo_within_four_standard_errors(seed):
    model, x = small_vae(seed), binary_images(4, seed)
    g = torch.Generator().manual_seed(seed)
    mu, log_var = torch.randn(4, 2, generator=g), torch.randn(4, 2, generator=g) - 1.0
    exact = am.quadrature_elbo(model, x, mu, log_var, am.hermite_rule(24)).numpy()
    mean, se = am.monte_carlo_elbo(model, x, mu, log_var, 40000, g)
    assert np.all(np.abs(exact - mean) < 4.0 * se), (exact, mean, se)


def test_quadrature_elbo_equals_log_px_minus_grid_kl():
    """L(x, q) = log p(x) - KL(q || p(z|x)) (book eq. 19.1 rearranged); the KL by a 301 x 301 Riemann sum over [-6, 6]^2."""
    model, x = small_vae(3), binary_images(3, 3)
    mu, log_var = torch.tensor([[0.3, -0.2], [-0.5, 0.4], [0.1, 0.1]]), torch.tensor([[-1.0, -0.5], [-0.7, -1.2], [-0.2, -0.2]])
    elbo = am.quadrature_elbo(model, x, mu, log_var, am.hermite_rule(24)).numpy()
    for b in range(3):
        grid = posterior_grid(model, x[b], n=301, box=(-6.0, 6.0, -6.0, 6.0))
        gap = posterior_gap_on_grid(grid, mu[b], log_var[b])
        assert gap.q_mass == pytest.approx(1.0, abs=1e-4)
        assert elbo[b] == pytest.approx(grid.log_px - gap.kl, abs=2e-3)


def test_quadrature_elbo_has_converged_in_the_number_of_nodes():
    model, x = small_vae(4), binary_images(5, 4)
    mu, log_var = am.encoder_q(model, x)
    """The random encoder's q is broad (sigma ~ 1) against a sharp decoder: the worst case for few nodes."""
    elbo = {n: am.quadrature_elbo(model, x, mu, log_var, am.hermite_rule(n)).numpy() for n in (12, 24, 32)}
    assert np.max(np.abs(elbo[24] - elbo[32])) < 1e-3
    assert np.max(np.abs(elbo[12] - elbo[32])) < 0.02


def test_natural_gradient_step_is_the_finite_difference_gradient_times_the_inverse_fisher():
    model, x = small_vae(5), binary_images(2, 5)
    rule = am.hermite_rule(12)
    mu, log_var = torch.tensor([[0.2, -0.3], [0.5, 0.1]]), torch.tensor([[-0.8, -0.4], [-1.1, -0.6]])
    lr, h = 0.05, 1e-3
    new_mu, new_log_var, before = am.natural_gradient_step(model, x, mu, log_var, rule, lr)
    np.testing.assert_allclose(before, am.quadrature_elbo(model, x, mu, log_var, rule).numpy(), atol=1e-9)

    def elbo_sum(m, v):
        return float(am.quadrature_elbo(model, x, m, v, rule).sum())

    for b in range(2):
        for j in range(2):
            e = torch.zeros(2, 2)
            e[b, j] = h
            d_mu = (elbo_sum(mu + e, log_var) - elbo_sum(mu - e, log_var)) / (2 * h)
            d_lv = (elbo_sum(mu, log_var + e) - elbo_sum(mu, log_var - e)) / (2 * h)
            expect_mu = float(mu[b, j]) + lr * float(torch.exp(log_var[b, j])) * d_mu
            expect_lv = float(log_var[b, j]) + 2 * lr * d_lv
            assert float(new_mu[b, j]) == pytest.approx(expect_mu, abs=2e-3 * max(1.0, abs(lr * d_mu)))
            assert float(new_log_var[b, j]) == pytest.approx(expect_lv, abs=2e-3 * max(1.0, abs(lr * d_lv)))


@pytest.mark.parametrize("seed", [0, 1])
def test_optimized_elbo_climbs_between_the_amortized_elbo_and_log_px(seed):
    """amortized <= optimized <= log p(x) on every image; the climb never falls by more than 1e-4 nats (float32 noise);
    log p(x) by quadrature, its error bound the difference between 81 x 81 and 121 x 121 grids."""
    model, x = small_vae(seed), binary_images(4, seed)
    rule = am.hermite_rule(12)
    _, _, history = am.optimize_q(model, x, rule, 80, 0.1)
    assert np.all(np.diff(history, axis=0) > -1e-4)
    log_px, log_px_fine = log_px_quadrature(model, x, n=81), log_px_quadrature(model, x, n=121)
    error = np.abs(log_px - log_px_fine).max()
    assert error < 1e-3
    gaps = am.Gaps(log_px_fine, history[-1], history[0])
    assert np.all(gaps.amortization_gap >= 0.0)
    assert np.all(gaps.approximation_gap >= -error - 1e-4)
    assert gaps.amortization_gap.mean() > 0.01  # a random encoder is far from the optimum


def test_task_steps_report_the_set_means_and_keep_the_gaps_nonnegative():
    model, x = small_vae(6), binary_images(8, 6)
    task = AmortizedGapTask(model, x)
    params = PARAMS.complete({"n_images": 5, "first": 2, "index": 4})
    task.check_params(params)
    task.reset(params)
    a = task.arrays()
    assert a["images"].shape == (5, 4, 4) and a["log_posterior"].shape == (5, 61, 61)
    np.testing.assert_allclose(a["log_px"], log_px_quadrature(model, x[2:7], n=61), atol=1e-9)
    for _ in range(20):
        metrics = task.step(params)
        g = task.gaps()
        assert np.all(g.amortization_gap >= -1e-5)
    assert metrics["amortization_gap"] == pytest.approx(float(g.amortization_gap.mean()), abs=1e-12)
    assert metrics["approximation_gap"] == pytest.approx(float(np.mean(a["log_px"] - task.elbo)), abs=1e-12)
    assert task.arrays()["history"].shape == (21, 5)
    saved = task.state()
    task.step(params)
    task.restore(saved)
    assert task.steps == 20 and np.array_equal(task.elbo, saved[2])


def test_task_refuses_a_set_past_the_data_or_an_image_outside_the_set():
    task = AmortizedGapTask(small_vae(0), binary_images(8))
    with pytest.raises(ValueError, match="first \\+ n_images"):
        task.check_params(PARAMS.complete({"first": 5, "n_images": 5}))
    with pytest.raises(ValueError, match="index"):
        task.check_params(PARAMS.complete({"n_images": 5, "index": 5}))


def needs_mnist():
    if not (SHARED / "mnist").exists() or not CHECKPOINT.with_suffix(".safetensors").exists():
        pytest.skip("needs MNIST in ../shared/data and assets/vae/mnist_z2")


def test_on_mnist_amortized_le_optimized_le_log_px():
    """Held-out images 0, 16 and 18 (MNIST test images 9000, 9016, 9018: a good fit, a non-Gaussian posterior, an
    encoder that misses); log p(x) error bound: the 61 x 61 grid against 81 x 81."""
    needs_mnist()
    from engine.tasks.vae import heldout_rows, load_vae_data

    model, _ = VAE.load(CHECKPOINT)
    for p in model.parameters():
        p.requires_grad_(False)
    x = heldout_rows(load_vae_data("mnist", str(SHARED), download=False))[[0, 16, 18]]
    rule = am.hermite_rule(12)
    _, _, history = am.optimize_q(model, x, rule, 40, 0.1)
    assert np.all(np.diff(history, axis=0) > -1e-3)
    log_px, log_px_fine = log_px_quadrature(model, x, n=61), log_px_quadrature(model, x, n=81)
    error = float(np.abs(log_px - log_px_fine).max())
    assert error < 0.01
    gaps = am.Gaps(log_px_fine, history[-1], history[0])
    assert np.all(gaps.amortization_gap >= 0.0)
    assert np.all(gaps.approximation_gap >= -error)
    assert gaps.amortization_gap[2] > 20.0  # image 18: the encoder misses by tens of nats
    assert gaps.approximation_gap[1] > 5.0  # image 16: no diagonal Gaussian fits its posterior
    mu, log_var = am.encoder_q(model, x)
    mean, se = am.monte_carlo_elbo(model, x, mu, log_var, 5000, torch.Generator().manual_seed(0))
    assert np.all(np.abs(history[0] - mean) < 4.0 * se)
