"""The marginal likelihood log p(x) and the true posterior p(z|x) of a 2-D latent model, by quadrature.

log p(x) = log integral p(x|z) p(z) dz is computed as a Riemann sum on a grid,
with log-sum-exp in float64: log p(x) ~ logsumexp_g [log p(x|z_g) + log p(z_g)] + log(dz1 dz2).

A posterior can be much narrower than the prior, so the grid adapts to each x:
a coarse grid over [-5, 5]^2 (shared by all x, decoded once) locates the region
where p(z|x) is within e^-30 of its peak; a fine n x n grid over that box
(padded by two coarse cells) gives the estimate. The same fine grid, normalized,
is the true posterior p(z|x) drawn on the Posterior page.

On such a grid, KL(q || p) is a Riemann sum too (:func:`kl_by_quadrature`); against the true
posterior it is the ELBO's gap log p(x) - L(x) (:func:`posterior_gap_on_grid`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.models.vae import VAE, log_diag_normal, log_standard_normal

COARSE_HALF_WIDTH = 5.0
COARSE_POINTS = 161
LOG_RATIO_KEPT = 30.0


@dataclass(frozen=True)
class PosteriorGrid:
    """p(z|x) on a grid: ``log_density[i, j]`` at z = (z1[j], z2[i]), normalized so that sum exp(.) dz1 dz2 = 1."""

    z1: np.ndarray
    z2: np.ndarray
    log_density: np.ndarray
    log_px: float


def _axis(lo: float, hi: float, n: int) -> torch.Tensor:
    return torch.linspace(lo, hi, n, dtype=torch.float64)


def _grid_points(a1: torch.Tensor, a2: torch.Tensor) -> torch.Tensor:
    """(len(a2) * len(a1), 2) points, row-major over (z2, z1)."""
    g2, g1 = torch.meshgrid(a2, a1, indexing="ij")
    return torch.stack([g1, g2], -1).reshape(-1, 2)


@torch.no_grad()
def log_joint_matrix(model: VAE, x: torch.Tensor, z: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """log p(x_b, z_g) = log p(x_b|z_g) + log p(z_g) for every pair: (B, G), float64."""
    parts = []
    for start in range(0, len(z), chunk):
        zc = z[start : start + chunk]
        ll = model.decoder.log_likelihood_matrix(x, zc.float())
        parts.append(ll + log_standard_normal(zc.double())[None, :])
    return torch.cat(parts, 1)


def _check_2d(model: VAE) -> None:
    if model.config.n_z != 2:
        raise ValueError(f"quadrature needs a 2-D latent space (n_z = 2), this model has n_z = {model.config.n_z}")


@torch.no_grad()
def _boxes(model: VAE, x: torch.Tensor) -> list[tuple[float, float, float, float]]:
    """For each x, the box (z1_lo, z1_hi, z2_lo, z2_hi) holding the posterior within e^-30 of its coarse-grid peak."""
    axis = _axis(-COARSE_HALF_WIDTH, COARSE_HALF_WIDTH, COARSE_POINTS)
    h = float(axis[1] - axis[0])
    pts = _grid_points(axis, axis)
    lj = log_joint_matrix(model, x, pts)
    boxes = []
    for row in lj:
        keep = pts[row >= row.max() - LOG_RATIO_KEPT]
        lo, hi = keep.min(0).values, keep.max(0).values
        boxes.append((float(lo[0]) - 2 * h, float(hi[0]) + 2 * h, float(lo[1]) - 2 * h, float(hi[1]) + 2 * h))
    return boxes


@torch.no_grad()
def _fine(model: VAE, x_row: torch.Tensor, box: tuple[float, float, float, float], n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    a1, a2 = _axis(box[0], box[1], n), _axis(box[2], box[3], n)
    lj = log_joint_matrix(model, x_row[None], _grid_points(a1, a2))[0]
    log_cell = math.log(float(a1[1] - a1[0]) * float(a2[1] - a2[0]))
    return a1, a2, lj.reshape(n, n), float(torch.logsumexp(lj, 0)) + log_cell


def log_px_quadrature(model: VAE, x: torch.Tensor, n: int = 61, batch: int = 250) -> np.ndarray:
    """log p(x) for every row of ``x`` (nats, float64) by adaptive grid quadrature; n_z must be 2."""
    _check_2d(model)
    if n < 11:
        raise ValueError(f"the fine grid needs at least 11 points per side, got n={n}")
    out = []
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        out += [_fine(model, row, box, n)[3] for row, box in zip(xb, _boxes(model, xb))]
    return np.asarray(out, dtype=np.float64)


def posterior_grid(model: VAE, x: torch.Tensor, n: int = 101, box: tuple[float, float, float, float] | None = None) -> PosteriorGrid:
    """The true posterior p(z|x) = p(x|z) p(z) / p(x) of one example ``x`` (n_x,) on an n x n grid, with log p(x).

    ``box`` (z1_lo, z1_hi, z2_lo, z2_hi) fixes the grid (e.g. to zoom a picture); by default it is
    the adaptive box of :func:`log_px_quadrature`. The density is normalized by this grid's own sum.
    """
    _check_2d(model)
    x = x.reshape(1, -1)
    a1, a2, lj, log_px = _fine(model, x[0], box or _boxes(model, x)[0], n)
    return PosteriorGrid(a1.numpy(), a2.numpy(), (lj - log_px).numpy(), log_px)


def high_density_box(grid: PosteriorGrid, log_ratio: float = 12.0) -> tuple[float, float, float, float]:
    """The bounding box of the grid points where p(z|x) is within e^-log_ratio of its peak."""
    rows, cols = np.where(grid.log_density >= grid.log_density.max() - log_ratio)
    return float(grid.z1[cols.min()]), float(grid.z1[cols.max()]), float(grid.z2[rows.min()]), float(grid.z2[rows.max()])


@dataclass(frozen=True)
class GridKL:
    """KL(q || p) by quadrature, and how much of q's mass the grid holds (near 1: the grid covers q)."""

    kl: float
    q_mass: float


def kl_by_quadrature(z1: np.ndarray, z2: np.ndarray, log_q: np.ndarray, log_p: np.ndarray) -> GridKL:
    """KL(q || p) = ∫ q(z) log(q(z) / p(z)) dz by the Riemann sum on an even grid (book eq. 3.50, in 2-D).

    ``log_q[i, j]`` and ``log_p[i, j]`` are the normalized log densities at z = (z1[j], z2[i]). With cell
    area dA, KL ≈ Σ_g q_g (log q_g − log p_g) dA / Σ_g q_g dA: q is renormalized on the grid, so the
    estimate is the KL of q restricted to the grid; ``q_mass`` = Σ_g q_g dA says how much of q that is.
    """
    log_q, log_p = np.asarray(log_q, dtype=np.float64), np.asarray(log_p, dtype=np.float64)
    shape = (len(z2), len(z1))
    if log_q.shape != shape or log_p.shape != shape:
        raise ValueError(f"log densities must have shape (len(z2), len(z1)) = {shape}, got {log_q.shape} and {log_p.shape}")
    cell = float(z1[1] - z1[0]) * float(z2[1] - z2[0])
    q = np.exp(log_q)
    mass = float(q.sum() * cell)
    return GridKL(float((q * (log_q - log_p)).sum() * cell / max(mass, 1e-300)), mass)


def posterior_gap_on_grid(grid: PosteriorGrid, mu: torch.Tensor, log_var: torch.Tensor, log_px: float | None = None) -> GridKL:
    """KL(q(z|x) || p(z|x)) of a Gaussian q = N(mu, diag exp(log_var)) against the true posterior on ``grid``, by quadrature.

    This KL is the ELBO's gap, log p(x) − L(x) (K&W eq. 2). ``log_px`` normalizes the posterior,
    log p(z|x) = log p(x, z) − log p(x); by default the grid's own log p(x). Pass the estimate of a
    wider grid when ``grid`` is a zoomed box that may not hold all of p(z|x).
    """
    z1, z2 = np.meshgrid(grid.z1, grid.z2)
    zs = torch.from_numpy(np.stack([z1.ravel(), z2.ravel()], 1))
    log_q = log_diag_normal(zs, mu.double(), log_var.double()).numpy().reshape(z1.shape)
    log_post = grid.log_density + (grid.log_px - (grid.log_px if log_px is None else log_px))
    return kl_by_quadrature(grid.z1, grid.z2, log_q, log_post)
