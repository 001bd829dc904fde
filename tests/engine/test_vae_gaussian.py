"""The Gaussian decoder (K&W appendix C.2): per-z and shared variances against hand-computed densities,
quadrature log p(x) against a closed-form marginal and scipy, the variance floor, checkpoints and the CLI,
and the shipped Frey model's held-out ELBO."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from engine.data import load as load_images
from engine.eval.quadrature import log_px_quadrature, posterior_grid
from engine.eval.vae_bounds import iwae_bounds, iwae_per_example, mean_elbo
from engine.models.vae import VAE, GaussianDecoder, VAEConfig
from engine.tasks.vae import TRAIN_PARAMS, VAETask, heldout_images, load_vae_data
from lab import cli

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
needs_frey = pytest.mark.skipif(not (SHARED / "frey").exists(), reason="Frey faces not in ../shared/data")

@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _decoder(variance: str, n_x: int = 5, n_z: int = 2, hidden: int = 4, seed: int = 0) -> GaussianDecoder:
    torch.manual_seed(seed)
    dec = GaussianDecoder(n_x, n_z, hidden, "tanh", -9.0, variance)
    with torch.no_grad():
        for p in dec.parameters():
            p.copy_(torch.randn(p.shape) * 0.7)  # away from the initial values: the variances differ by pixel and by z
    return dec.double().eval()


@pytest.mark.parametrize("variance", ["per_z", "shared"])
def test_log_likelihood_equals_scipy_normal(variance):
    dec = _decoder(variance)
    z = torch.tensor([[0.3, -1.2], [2.0, 0.5]], dtype=torch.float64)
    x = torch.rand((2, 5), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        got = dec.log_likelihood(x, z).numpy()
        h = np.tanh(z.numpy() @ dec.trunk[0].weight.numpy().T + dec.trunk[0].bias.numpy())
        mu = 1.0 / (1.0 + np.exp(-(h @ dec.out.weight.numpy().T + dec.out.bias.numpy())))
        if variance == "per_z":
            a = h @ dec.out_log_var.weight.numpy().T + dec.out_log_var.bias.numpy()
            log_var = -9.0 + np.logaddexp(0.0, a + 9.0)  # min_log_var + softplus(a - min_log_var)
        else:
            log_var = np.broadcast_to(np.maximum(dec.raw_log_var.numpy(), -9.0), mu.shape)
    expected = stats.norm.logpdf(x.numpy(), loc=mu, scale=np.exp(0.5 * log_var)).sum(1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-10)
    if variance == "per_z":
        assert np.ptp(log_var, axis=0).min() > 1e-3  # the variance really depends on z


@pytest.mark.parametrize("variance", ["per_z", "shared"])
def test_pairwise_matrix_equals_the_per_pair_density(variance):
    dec = _decoder(variance, n_x=7)
    x = torch.rand((3, 7), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    z = torch.randn((11, 2), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        matrix = dec.log_likelihood_matrix(x, z)
        direct = torch.stack([dec.log_likelihood(x, zg.expand(3, 2)) for zg in z], 1)
    torch.testing.assert_close(matrix, direct, rtol=1e-10, atol=1e-9)


def test_per_z_variance_has_a_floor():
    dec = _decoder("per_z")
    with torch.no_grad():
        dec.out_log_var.bias.fill_(-1e4)  # a head driven far below the floor
        z = torch.randn((50, 2), dtype=torch.float64)
        mu, log_var = dec.mean_log_var(z)
        assert log_var.min().item() >= -9.0
        assert dec.log_likelihood(mu, z).max().item() <= 5 * -0.5 * (-9.0 + math.log(2 * math.pi)) + 1e-9


def test_bad_decoder_variance_is_refused_by_name():
    with pytest.raises(ValueError, match="decoder_variance must be one of per_z, shared"):
        VAEConfig(560, 2, 10, "tanh", "gaussian", (28, 20), decoder_variance="per_pixel")
    with pytest.raises(ValueError, match="decoder_variance"):
        GaussianDecoder(4, 2, 3, "tanh", -9.0, "diag")
    with pytest.raises(ValueError, match="decoder_variance must be one of 'per_z', 'shared', got 'none'"):
        TRAIN_PARAMS.check({"decoder_variance": "none"})


def test_cli_refuses_a_bad_decoder_variance(capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["train", "vae", "--dataset", "frey", "--decoder-variance", "learned", "--out", "/nonexistent/x"])
    assert err.value.code == 2
    assert "--decoder-variance" in capsys.readouterr().err


class LinearMeanDecoder(GaussianDecoder):
    """mu(z) = W z + b with the shared variance: the marginal is N(b, W W' + diag sigma^2) in closed form."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor, log_var: torch.Tensor):
        super().__init__(len(b), w.shape[1], 0, "tanh", -9.0, "shared")
        self.w, self.b = w, b
        with torch.no_grad():
            self.raw_log_var.copy_(log_var)

    def mean_log_var(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return z @ self.w.T.to(z.dtype) + self.b.to(z.dtype), self.raw_log_var.to(z.dtype)


def test_quadrature_equals_the_closed_form_linear_gaussian_marginal():
    w = torch.tensor([[1.0, 0.3], [-0.5, 0.8], [0.2, -1.1], [0.7, 0.1]])
    b = torch.tensor([0.5, 0.4, 0.6, 0.5])
    log_var = torch.log(torch.tensor([0.05, 0.2, 0.1, 0.3]))
    model = VAE(VAEConfig(4, 2, 0, "tanh", "gaussian", (2, 2), decoder_variance="shared"))
    model.decoder = LinearMeanDecoder(w, b, log_var)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((6, 2), generator=g) @ w.T + b + torch.exp(0.5 * log_var) * torch.randn((6, 4), generator=g)
    cov = (w @ w.T + torch.diag(log_var.exp())).double().numpy()
    exact = stats.multivariate_normal(b.double().numpy(), cov).logpdf(x.double().numpy())
    np.testing.assert_allclose(log_px_quadrature(model, x, n=61), exact, atol=1e-4)


@pytest.fixture(scope="module")
def per_z_model() -> tuple[VAE, torch.Tensor]:
    """A 2-D VAE with the per-z Gaussian decoder, trained briefly on scikit-learn's 8x8 digits as gray values."""
    torch.manual_seed(0)
    x = torch.from_numpy(load_images("digits", "train").as_float().reshape(-1, 64)[:500])
    model = VAE(VAEConfig(64, 2, 32, "tanh", "gaussian", (8, 8), min_log_var=-5.0))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        opt.zero_grad()
        loss, _ = model.training_loss(x[torch.randint(0, 500, (100,), generator=g)], generator=g)
        loss.backward()
        opt.step()
    return model.eval(), x[:40]


def test_per_z_quadrature_matches_scipy_dblquad(per_z_model):
    model, x = per_z_model
    xi = x[5:6]
    grid = posterior_grid(model, xi[0], n=81)
    lo1, hi1, lo2, hi2 = grid.z1[0], grid.z1[-1], grid.z2[0], grid.z2[-1]

    def joint(z2: float, z1: float) -> float:
        with torch.no_grad():
            return math.exp(model.log_joint(xi, torch.tensor([[z1, z2]])).item() - grid.log_px)

    value, _ = integrate.dblquad(joint, lo1, hi1, lo2, hi2, epsabs=1e-9, epsrel=1e-6)
    assert math.log(value) == pytest.approx(0.0, abs=2e-3)  # log p(x) by scipy = the grid's log p(x)
    assert log_px_quadrature(model, xi)[0] == pytest.approx(grid.log_px, abs=2e-3)


def test_per_z_bounds_are_ordered_below_quadrature(per_z_model):
    model, x = per_z_model
    log_px = log_px_quadrature(model, x)
    bounds = iwae_bounds(model, x, (1, 10, 1000), seed=0)
    assert bounds[1] <= bounds[10] + 0.05 <= bounds[1000] + 0.1
    assert bounds[1000] <= log_px.mean() + 0.05
    assert log_px.mean() - bounds[1000] < 0.5  # L_1000 nearly closes the gap on a 2-D latent space
    per_example = iwae_per_example(model, x, 1000, seed=1).numpy()
    assert (per_example <= log_px + 0.2).all()


@pytest.mark.parametrize("variance", ["per_z", "shared"])
def test_checkpoint_round_trip_keeps_the_variance(tmp_path, variance):
    model = VAE(VAEConfig(12, 2, 5, "tanh", "gaussian", (3, 4), decoder_variance=variance))
    model.save(tmp_path / "m", {"dataset": "toy"}, half=True)
    loaded, _ = VAE.load(tmp_path / "m")
    assert loaded.config.decoder_variance == variance
    z = torch.randn((3, 2))
    with torch.no_grad():
        torch.testing.assert_close(loaded.decoder.mean_log_var(z)[1].expand(3, 12), model.decoder.mean_log_var(z)[1].expand(3, 12), atol=2e-3, rtol=1e-3)


def test_a_checkpoint_without_the_field_reads_as_shared(tmp_path):
    model = VAE(VAEConfig(12, 2, 5, "tanh", "gaussian", (3, 4), decoder_variance="shared"))
    model.save(tmp_path / "old")
    meta_path = tmp_path / "old.json"
    meta = json.loads(meta_path.read_text())
    del meta["config"]["decoder_variance"]  # as written before the field existed
    meta_path.write_text(json.dumps(meta))
    loaded, _ = VAE.load(tmp_path / "old")
    assert loaded.config.decoder_variance == "shared"
    assert torch.equal(loaded.decoder.raw_log_var, model.decoder.raw_log_var)


def test_task_builds_the_chosen_decoder():
    task = VAETask()
    task.reset(TRAIN_PARAMS.complete({"dataset": "digits", "hidden": 16}))
    assert task.config.decoder_variance == "per_z"  # the default; Bernoulli data ignore it
    assert not hasattr(task.model.decoder, "raw_log_var")


@needs_frey
def test_shipped_frey_model_is_the_papers_decoder_and_its_held_out_elbo_is_recorded():
    model, meta = VAE.load(ROOT / "assets" / "vae" / "frey_z2")
    assert model.config.likelihood == "gaussian" and model.config.decoder_variance == "per_z"
    data = load_vae_data("frey", str(SHARED))
    assert meta["test_images"] == heldout_images(data) == "Frey frames 1765-1964 (of 0-1964), gray values in [0, 1]"
    elbo = mean_elbo(model, data.heldout, seed=0)["elbo"]
    assert elbo == pytest.approx(meta["test_elbo"], abs=1.0)  # the recorded value itself: tests/lab/test_shipped_numbers.py
