"""What to watch while an RBM trains (Hinton, "A practical guide to training RBMs", sections 5, 6, 15).

- reconstruction error: cheap, but not the objective (section 5);
- pseudo-likelihood: sum_i log P(v_i | v_-i), a consistent stand-in for the likelihood (book 18.3);
- the free-energy gap between training and held-out data: growing means overfitting (section 6);
- the update-to-weight ratio ||dW|| / ||W||: about 1e-3 is healthy (section 5);
- hidden unit activation statistics: dead (always off) and saturated (always on) units (section 15).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.models.rbm import RBM


def reconstruction_error(rbm: RBM, v: torch.Tensor) -> float:
    """Mean over rows of ||v - E[v | h = P(h|v)]||^2: one mean-field up-down pass."""
    recon = rbm.mean_v_given_h(rbm.prob_h_given_v(v))
    return float(((v - recon) ** 2).sum(-1).mean())


def pseudo_log_likelihood(rbm: RBM, v: torch.Tensor, n_units: int | None = None, generator: torch.Generator | None = None) -> float:
    """Mean over rows of sum_i log P(v_i | v_-i) for binary visible units (book section 18.3).

    P(v_i | v_-i) = sigmoid(F(v with v_i flipped) - F(v)). Flipping v_i changes the hidden input
    by (1 - 2 v_i) W_i,:, so all flips cost one (N, n_units, n_hidden) softplus. With ``n_units``
    the sum over i is estimated from that many random units (the same for every row), scaled to n_visible.
    """
    if rbm.gaussian:
        raise ValueError("pseudo-likelihood is computed for binary visible units only")
    nv = rbm.n_visible
    units = torch.arange(nv, device=v.device) if n_units is None or n_units >= nv else torch.randperm(nv, generator=generator)[:n_units].to(v.device)
    x = rbm.hidden_input(v)  # (N, nh)
    sign = 1 - 2 * v[:, units]  # (N, U): +1 turns a unit on, -1 off
    x_flip = x[:, None, :] + sign[:, :, None] * rbm.W[units][None, :, :]  # (N, U, nh)
    hidden_gain = F.softplus(x_flip).sum(-1) - F.softplus(x).sum(-1, keepdim=True)
    f_diff = -(sign * rbm.b[units]) - hidden_gain  # F(v_flipped) - F(v)
    return float(F.logsigmoid(f_diff).mean(1).mean() * nv)


def free_energy_gap(rbm: RBM, v_train: torch.Tensor, v_heldout: torch.Tensor) -> float:
    """mean F(held-out) - mean F(train): near zero while the model generalises, growing when it overfits."""
    return float(rbm.free_energy(v_heldout).mean() - rbm.free_energy(v_train).mean())


def update_ratio(update: torch.Tensor, weights: torch.Tensor) -> float:
    """||dW|| / ||W|| for the last update (Frobenius norms); Hinton suggests about 1e-3."""
    return float(update.norm() / weights.norm().clamp_min(1e-12))


@dataclass(frozen=True)
class HiddenStats:
    """Activation statistics of the hidden units on a batch."""

    mean_activation: float
    """Average P(h_j = 1 | v) over units and rows."""
    dead_fraction: float
    """Share of units whose mean activation is below 1%."""
    saturated_fraction: float
    """Share of units whose mean activation is above 99%."""
    unit_means: torch.Tensor
    """(n_hidden,) mean activation of each unit."""


def hidden_stats(rbm: RBM, v: torch.Tensor) -> HiddenStats:
    """Mean, dead and saturated hidden units from P(h|v) on the batch v."""
    means = rbm.prob_h_given_v(v).mean(0)
    return HiddenStats(float(means.mean()), float((means < 0.01).float().mean()), float((means > 0.99).float().mean()), means)
