"""Test-set estimators for a VAE: ELBO, importance-weighted bounds L_k, active latent units."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from engine.models.vae import VAE, log_importance_weights


def _batches(x: torch.Tensor, size: int):
    for start in range(0, len(x), size):
        yield x[start : start + size]


@torch.no_grad()
def mean_elbo(model: VAE, x: torch.Tensor, seed: int = 0, batch: int = 500) -> dict[str, float]:
    """Mean ELBO, reconstruction term E_q[log p(x|z)] and KL(q || p(z)) over ``x`` (nats per example, K&W eq. 10)."""
    g = torch.Generator(device=x.device).manual_seed(seed)
    recon, kl = [], []
    for xb in _batches(x, batch):
        t = model.elbo_terms(xb, g)
        recon.append(t.recon.double())
        kl.append(t.kl.double())
    r, k = torch.cat(recon).mean().item(), torch.cat(kl).mean().item()
    return {"elbo": r - k, "recon": r, "kl": k}


@torch.no_grad()
def iwae_per_example(model: VAE, x: torch.Tensor, k: int, seed: int = 0, max_elements: int = 2**23) -> torch.Tensor:
    """L_k(x) for every row of ``x`` (float64). Samples are decoded in chunks of at most ``max_elements`` pixels."""
    g = torch.Generator(device=x.device).manual_seed(seed)
    batch = max(1, min(len(x), max_elements // (model.config.n_x * min(k, 64))))
    chunk = max(1, max_elements // (model.config.n_x * batch))
    return torch.cat([model.iwae_bound(xb, k, g, chunk=chunk) for xb in _batches(x, batch)])


def iwae_bounds(model: VAE, x: torch.Tensor, ks: Sequence[int] = (1, 10, 100, 1000), seed: int = 0) -> dict[int, float]:
    """Mean L_k over ``x`` for each k (Burda et al. 2015 eq. 8); non-decreasing in k up to Monte Carlo noise."""
    return {k: iwae_per_example(model, x, k, seed).mean().item() for k in ks}


@torch.no_grad()
def posterior_mean_variance(model: VAE, x: torch.Tensor, batch: int = 1000) -> np.ndarray:
    """Var over the data of E_q[z_j|x], per latent unit j (the "active units" statistic of Burda et al. 2015)."""
    mus = torch.cat([model.encoder(xb)[0] for xb in _batches(x, batch)])
    return mus.double().var(0).cpu().numpy()


def active_units(model: VAE, x: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent units whose posterior mean varies across the data: Var_x E_q[z_j|x] > threshold."""
    return int((posterior_mean_variance(model, x) > threshold).sum())


@torch.no_grad()
def importance_bound_curve(model: VAE, x: torch.Tensor, ks: Sequence[int], n_weights: int = 20000, seed: int = 0, chunk: int = 2000) -> dict[int, float]:
    """L_k of one example ``x`` (n_x,) for each k in ``ks``, all from one pool of ``n_weights`` log weights.

    The pool is split into n_weights // k disjoint groups of k; L_k is the mean over groups of
    log (1/k) sum_group w_i (Burda et al. 2015 eq. 8). k = 1 gives the ELBO averaged over the whole pool.
    """
    if max(ks) > n_weights:
        raise ValueError(f"the largest k ({max(ks)}) exceeds the pool of {n_weights} weights")
    g = torch.Generator(device=x.device).manual_seed(seed)
    log_w = log_importance_weights(model.encoder, model.decoder, x.reshape(1, -1), n_weights, g, chunk)[:, 0].double()
    out = {}
    for k in ks:
        groups = log_w[: (n_weights // k) * k].reshape(-1, k)
        out[k] = (torch.logsumexp(groups, 1) - math.log(k)).mean().item()
    return out
