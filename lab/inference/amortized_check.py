"""The amortization-gap page's exact checks for ``genlab eval inference --page amortized-inference``: the same
comparisons tests/engine/test_inference_amortized.py asserts, as numbers. Always on a small random 2-D-latent VAE;
with MNIST on disk also on the shipped VAE and the page's default set (held-out images 0-19, 100 steps at ε = 0.1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.data import DataError
from engine.eval.quadrature import log_px_quadrature, posterior_gap_on_grid, posterior_grid
from engine.inference import amortization as am
from engine.models.vae import VAE, VAEConfig
from engine.tasks.inference.amortized import POSTERIOR_POINTS
from engine.tasks.vae import PRETRAINED, heldout_images, heldout_rows, load_vae_data

STEPS, LR, HERMITE, N_IMAGES = 100, 0.1, 12, 20
FINE_POINTS = 121
"""The grid log p(x) is checked against (its error bound: the difference from :data:`POSTERIOR_POINTS`)."""


def _frozen(model: VAE) -> VAE:
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def _small_vae(seed: int) -> VAE:
    torch.manual_seed(seed)
    model = VAE(VAEConfig(16, 2, 16, image_shape=(4, 4)))
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3.0)
    return _frozen(model)


def _gap_checks(model: VAE, x: torch.Tensor, seed: int, prefix: str) -> dict[str, Any]:
    """amortized <= optimized <= log p(x), the climb's decreases, the quadrature ELBO against Monte Carlo."""
    rule = am.hermite_rule(HERMITE)
    mu, log_var, history = am.optimize_q(model, x, rule, STEPS, LR)
    log_px, log_px_fine = log_px_quadrature(model, x, n=POSTERIOR_POINTS), log_px_quadrature(model, x, n=FINE_POINTS)
    error = float(np.abs(log_px - log_px_fine).max())
    gaps = am.Gaps(log_px_fine, history[-1], history[0])
    steps = np.diff(history, axis=0)
    enc_mu, enc_log_var = am.encoder_q(model, x)
    mean, se = am.monte_carlo_elbo(model, x, enc_mu, enc_log_var, 10000, torch.Generator().manual_seed(seed))
    fine_rule = am.quadrature_elbo(model, x, mu, log_var, am.hermite_rule(32)).numpy()
    return {
        f"{prefix}images": len(x),
        f"{prefix}log_px_grid_error_{POSTERIOR_POINTS}_vs_{FINE_POINTS}": error,
        f"{prefix}images_amortized_le_optimized": int((gaps.amortization_gap >= 0.0).sum()),
        f"{prefix}images_optimized_le_log_px_within_error": int((gaps.approximation_gap >= -error).sum()),
        f"{prefix}min_amortization_gap": float(gaps.amortization_gap.min()),
        f"{prefix}min_approximation_gap": float(gaps.approximation_gap.min()),
        f"{prefix}mean_amortization_gap": float(gaps.amortization_gap.mean()),
        f"{prefix}mean_approximation_gap": float(gaps.approximation_gap.mean()),
        f"{prefix}elbo_decreases_over_1e-4": int((steps < -1e-4).sum()),
        f"{prefix}largest_elbo_decrease": float(max(0.0, -steps.min())),
        f"{prefix}max_abs_z_quadrature_vs_monte_carlo": float(np.max(np.abs(history[0] - mean) / se)),
        f"{prefix}max_abs_hermite_{HERMITE}_vs_32_at_optimum": float(np.max(np.abs(history[-1] - fine_rule))),
    }


def check(seed: int, data_root: str | None) -> dict[str, Any]:
    """The page's checks as a JSON-ready dict (nats); ``mnist`` says whether the shipped-model checks ran."""
    small = _small_vae(seed)
    x = torch.bernoulli(torch.full((6, 16), 0.5), generator=torch.Generator().manual_seed(seed))
    out: dict[str, Any] = {"steps": STEPS, "step_size": LR, "hermite_points": HERMITE}
    out |= _gap_checks(small, x, seed, "random_vae/")
    mu, log_var = torch.tensor([0.3, -0.2]), torch.tensor([-1.0, -0.5])
    grid = posterior_grid(small, x[0], n=301, box=(-6.0, 6.0, -6.0, 6.0))
    by_grid = grid.log_px - posterior_gap_on_grid(grid, mu, log_var).kl
    by_hermite = float(am.quadrature_elbo(small, x[:1], mu[None], log_var[None], am.hermite_rule(24))[0])
    out["random_vae/abs_hermite_elbo_vs_log_px_minus_grid_kl"] = abs(by_hermite - by_grid)
    try:
        data = load_vae_data("mnist", data_root, download=False)
    except DataError as err:
        out["mnist"] = f"absent ({type(err).__name__}): run `genlab data fetch mnist`"
        return out
    model, _ = VAE.load(PRETRAINED["mnist"])
    out["mnist"] = heldout_images(data, N_IMAGES, 0)
    out |= _gap_checks(_frozen(model), heldout_rows(data)[:N_IMAGES], seed, "mnist/")
    return out
