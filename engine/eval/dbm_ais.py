"""Annealed importance sampling for a DBM's log Z, over the odd layers (Salakhutdinov & Murray 2008;
Salakhutdinov & Hinton 2009), and the resulting estimated lower bound on test log P(v).

The AIS loop, the schedule of temperatures and the estimate with its interval are the RBM
lab's (``engine.eval.ais``); this module only supplies the DBM's annealing path.

The intermediate distributions are the DBM at inverse temperature beta, P_beta proportional to
exp(-beta E), marginalised over the even layers (v, h2): their units are summed out analytically,

    f_beta(h1, h3) = log sum_{v, h2} exp(-beta E) = beta (c1'h1 + c3'h3) + sum_even softplus(beta * input),

so the chains only carry the odd layers. The base model (beta = 0) is uniform over the even
layers and factorial Bernoulli(sigmoid(a_l)) over each odd layer l, with ``a`` either zero (all
uniform) or the "base rates" of the odd layers' mean-field activities on data (Salakhutdinov &
Murray 2008 use the data's base rates for the visible layer; here the visible layer is summed out,
so the odd hidden layers carry them). Along the geometric path

    log p*_beta(h_odd) = (1 - beta) sum_l a_l'h_l + f_beta(h_odd),
    log Z_0 = (even units) log 2 + sum_l sum_j softplus(a_l,j).

The transition at beta samples the even layers given the odd ones, then the odd given the even,
P(h_l = 1 | even) = sigmoid(beta * input + (1 - beta) a_l): a Gibbs sweep of p_beta.

The test bound is  log P(v) >= [L(v, Q) + log Z] - log Z  with Q from mean field: the bracket comes
from :meth:`engine.models.dbm.DBM.variational_bound`, log Z from AIS.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
import torch
import torch.nn.functional as F

from engine.eval.ais import AISResult, AnnealingPath, Progress, ais, default_betas
from engine.models.dbm import DBM

MAX_CHAINS = 10000
MAX_BETAS = 200000


class DBMAnnealing(AnnealingPath):
    """The path P_beta proportional to exp(-beta E) from the uniform distribution (beta = 0) to the DBM,
    over the odd layers (a chain state is a dict layer -> (n, n_l) tensor of the odd layers)."""

    def __init__(self, dbm: DBM, base_bias: dict[int, torch.Tensor] | None = None):
        self.dbm = dbm
        zeros = {l: torch.zeros(dbm.sizes[l], dtype=dbm.dtype, device=dbm.device) for l in dbm.odd_layers()}
        self.a = {l: (base_bias or zeros)[l].to(dbm.W[0]) for l in dbm.odd_layers()}

    def base_log_z(self) -> float:
        even = sum(self.dbm.sizes[l] for l in self.dbm.even_layers())
        return even * math.log(2.0) + sum(float(F.softplus(a.double()).sum()) for a in self.a.values())

    def _base_terms(self, state: dict[int, torch.Tensor]) -> torch.Tensor:
        return sum(state[l] @ self.a[l] for l in state)

    def sample_base(self, n: int, generator: torch.Generator) -> dict[int, torch.Tensor]:
        return {l: self._bernoulli(torch.sigmoid(a).expand(n, -1), generator) for l, a in self.a.items()}

    def log_unnormalized(self, state: dict[int, torch.Tensor], beta: float) -> torch.Tensor:
        return (1.0 - beta) * self._base_terms(state) + self.dbm.log_unnormalized_odd(state, beta)

    def log_ratio(self, state: dict[int, torch.Tensor], beta_from: float, beta_to: float) -> torch.Tensor:
        """log p*_to - log p*_from term by term, so that float32 rounding does not pile up over thousands of betas."""
        total = (beta_to - beta_from) * (self.dbm.odd_linear_terms(state) - self._base_terms(state)).double()
        for a in self.dbm.even_inputs(state).values():
            total = total + (F.softplus(beta_to * a) - F.softplus(beta_from * a)).double().sum(-1)
        return total

    def transition(self, state: dict[int, torch.Tensor], beta: float, generator: torch.Generator) -> dict[int, torch.Tensor]:
        """Even layers ~ P_beta(even | odd), then odd layers ~ P_beta(odd | even) (eqs. 20.26-20.27 at beta)."""
        dbm = self.dbm
        x: list[torch.Tensor | None] = [None] * len(dbm.sizes)
        for l, a in dbm.even_inputs(state).items():
            x[l] = self._bernoulli(torch.sigmoid(beta * a), generator)
        for l in dbm.odd_layers():
            x[l] = state[l]
        return {l: self._bernoulli(torch.sigmoid(beta * dbm.layer_input(l, x) + (1.0 - beta) * self.a[l]), generator) for l in dbm.odd_layers()}

    @staticmethod
    def _bernoulli(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Bernoulli(p) from the CPU generator the AIS loop owns, whatever device p is on."""
        return (torch.rand(p.shape, generator=generator, dtype=p.dtype).to(p.device) < p).to(p.dtype)


def base_rate_bias(dbm: DBM, v: torch.Tensor, mf_iterations: int = 30, smoothing: float = 0.05) -> dict[int, torch.Tensor]:
    """a_l = logit of the smoothed mean of mu_l over the rows of v (mean field), for every odd layer l."""
    with torch.no_grad():
        mu = dbm.mean_field(v.to(dbm.W[0]), mf_iterations).mu
    n = v.shape[0]
    out = {}
    for l in dbm.odd_layers():
        p = (mu[l - 1].sum(0) + smoothing) / (n + 2 * smoothing)
        out[l] = torch.log(p) - torch.log1p(-p)
    return out


def ais_log_z(
    dbm: DBM,
    n_chains: int = 100,
    n_betas: int = 10000,
    seed: int = 0,
    progress: Progress | None = None,
    betas: np.ndarray | None = None,
    data: torch.Tensor | None = None,
) -> AISResult:
    """AIS estimate of log Z of ``dbm`` over its odd layers (module docstring); with ``data``, the
    base model carries the odd layers' base rates on that data, else it is uniform."""
    if not 2 <= n_chains <= MAX_CHAINS:
        raise ValueError(f"AIS chains must be between 2 and {MAX_CHAINS}, got {n_chains}")
    if not 10 <= n_betas <= MAX_BETAS:
        raise ValueError(f"AIS temperatures must be between 10 and {MAX_BETAS}, got {n_betas}")
    base = base_rate_bias(dbm, data) if data is not None else None
    with torch.no_grad():
        return ais(DBMAnnealing(dbm, base), default_betas(n_betas) if betas is None else betas, n_chains, seed, progress)


@dataclass(frozen=True)
class HeldOutBound:
    """The estimated lower bound on the mean test log P(v): mean(L(v, Q) + log Z) - log Z_AIS."""

    mean: float
    """mean over the test images of L(v, Q) - log Z (nats per image)."""
    low: float
    high: float
    """the same with log Z at the ends of its AIS interval (the higher log Z gives the lower value)."""
    log_z: AISResult
    scheme: str
    """how the test images were made binary (``engine.data.SCHEMES``)."""
    n_examples: int
    mf_iterations: int


def held_out_bound(dbm: DBM, v: torch.Tensor, log_z: AISResult, scheme: str, mf_iterations: int = 30) -> HeldOutBound:
    """Mean-field lower bound on log P(v), averaged over the rows of v, with AIS's log Z."""
    with torch.no_grad():
        unnorm = dbm.mean_field(v.to(dbm.W[0]), mf_iterations).bound[-1].double().mean().item()
    return HeldOutBound(unnorm - log_z.log_z, unnorm - log_z.log_z_high, unnorm - log_z.log_z_low, log_z, scheme, int(v.shape[0]), mf_iterations)
