"""Annealed importance sampling for a DBM's log Z, over the odd layers (Salakhutdinov & Murray 2008;
Salakhutdinov & Hinton 2009), and the resulting estimated lower bound on test log P(v).

The intermediate distributions are the DBM at inverse temperature beta, P_beta proportional to
exp(-beta E), marginalised over the even layers (v, h2): their units are summed out analytically,

    f_beta(h1, h3) = log sum_{v, h2} exp(-beta E) = beta (c1'h1 + c3'h3) + sum_even softplus(beta * input),

so AIS only walks the odd layers. beta = 0 is the uniform distribution with
log Z_0 = (all units) log 2. The transition at beta_k samples the even layers given the odd
ones and then the odd given the even (a Gibbs sweep of P_beta_k, which leaves f_beta_k invariant).
With importance weights w = prod_k exp(f_beta_k(x_k-1) - f_beta_k-1(x_k-1)),
Z_1 / Z_0 is estimated by mean(w) (unbiased), so log Z by log Z_0 + log mean(w).

The test bound is  log P(v) >= L(v, Q) + log Z - log Z  with Q from mean field: L(v, Q) + log Z
comes from :meth:`engine.models.dbm.DBM.variational_bound`, log Z from AIS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from engine.models.dbm import DBM, log_z_uniform

MAX_CHAINS = 10000
MAX_BETAS = 200000


@dataclass(frozen=True)
class AISResult:
    """log Z estimated by AIS with ``n_chains`` runs of ``n_betas`` temperatures.

    ``interval``: log(mean(w) -/+ 3 standard errors) (the lower end is -inf when the weights are
    so spread that mean - 3 se <= 0), the interval Salakhutdinov & Murray report.
    """

    log_z: float
    interval: tuple[float, float]
    log_w: torch.Tensor
    n_chains: int
    n_betas: int


def annealing_schedule(n_betas: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """beta_0 = 0 < ... < beta_K = 1 spaced as in Salakhutdinov & Murray (2008): 5% of the steps on
    [0, 0.5], 30% on [0.5, 0.9] and 65% on [0.9, 1], where the distributions change fastest."""
    if not 10 <= n_betas <= MAX_BETAS:
        raise ValueError(f"AIS temperatures must be between 10 and {MAX_BETAS}, got {n_betas}")
    n1, n2 = max(1, round(0.05 * n_betas)), max(1, round(0.30 * n_betas))
    n3 = n_betas - n1 - n2
    parts = [
        torch.linspace(0.0, 0.5, n1 + 1, dtype=torch.float64)[:-1],
        torch.linspace(0.5, 0.9, n2 + 1, dtype=torch.float64)[:-1],
        torch.linspace(0.9, 1.0, n3 + 1, dtype=torch.float64),
    ]
    return torch.cat(parts).to(device)


def _odd(x: list[torch.Tensor], dbm: DBM) -> dict[int, torch.Tensor]:
    return {l: x[l] for l in dbm.odd_layers()}


def ais_log_z(dbm: DBM, n_chains: int = 100, n_betas: int = 10000, generator: torch.Generator | None = None) -> AISResult:
    """Estimate log Z of ``dbm`` by AIS over its odd layers (module docstring)."""
    if not 1 <= n_chains <= MAX_CHAINS:
        raise ValueError(f"AIS chains must be between 1 and {MAX_CHAINS}, got {n_chains}")
    betas = annealing_schedule(n_betas).tolist()
    x = dbm.random_state(n_chains, generator)
    log_w = torch.zeros(n_chains, dtype=torch.float64, device=dbm.device)
    f_prev = dbm.log_unnormalized_odd(_odd(x, dbm), betas[0])
    for beta in betas[1:]:
        log_w += (dbm.log_unnormalized_odd(_odd(x, dbm), beta) - f_prev).to(torch.float64)
        for block in (dbm.even_layers(), dbm.odd_layers()):
            probs = {l: dbm.prob_layer(l, x, beta) for l in block}
            for l, p in probs.items():
                x[l] = torch.bernoulli(p, generator=generator)
        f_prev = dbm.log_unnormalized_odd(_odd(x, dbm), beta)
    log_z0 = log_z_uniform(dbm.sizes)
    log_mean = torch.logsumexp(log_w, 0).item() - math.log(n_chains)
    return AISResult(log_z0 + log_mean, _interval(log_w, log_z0), log_w.cpu(), n_chains, n_betas)


def _interval(log_w: torch.Tensor, log_z0: float) -> tuple[float, float]:
    """log(mean(w) -/+ 3 se(w)) + log Z_0, computed relative to the largest weight."""
    shift = log_w.max()
    w = (log_w - shift).exp()
    mean, se = w.mean().item(), (w.std().item() / math.sqrt(len(w)) if len(w) > 1 else 0.0)
    lo = math.log(mean - 3 * se) if mean - 3 * se > 0 else -math.inf
    return (log_z0 + shift.item() + lo, log_z0 + shift.item() + math.log(mean + 3 * se))


@dataclass(frozen=True)
class HeldOutBound:
    """The estimated lower bound on the mean test log P(v): mean(L(v, Q) + log Z) - log Z_AIS."""

    mean_bound: float
    """mean over the test set of L(v, Q) - log Z (nats per image)."""
    interval: tuple[float, float]
    """the same with log Z at the ends of its AIS interval (higher log Z -> lower bound)."""
    log_z: AISResult
    binarization: str
    n_images: int
    mf_iterations: int


def held_out_bound(dbm: DBM, v: torch.Tensor, log_z: AISResult, binarization: str, mf_iterations: int = 30) -> HeldOutBound:
    """Mean-field lower bound on log P(v), averaged over the rows of v, with AIS's log Z."""
    trace = dbm.mean_field(v, mf_iterations)
    unnorm = trace.bound[-1].to(torch.float64).mean().item()
    lo_z, hi_z = log_z.interval
    return HeldOutBound(unnorm - log_z.log_z, (unnorm - hi_z, unnorm - lo_z), log_z, binarization, v.shape[0], mf_iterations)
