"""Annealed importance sampling of a partition function (Neal 2001; Salakhutdinov & Murray 2008; book 18.7).

AIS moves chains through distributions p_0 (a base model with known Z_0) ... p_K (the target),
p_k proportional to p*_k, here a geometric path p*_k = p*_A^(1 - beta_k) p*_B^beta_k. Each chain
carries an importance weight (section 18.7.1)::

    log w = sum_k [log p*_k(x_k) - log p*_(k-1)(x_k)],       x_k ~ T_(k-1)(x_(k-1) -> .)

and Z_B / Z_A is estimated by the mean weight. ``ais`` runs any
:class:`AnnealingPath`; ``RBMAnnealing`` is the one for RBMs (binary or Gaussian visible
units) with a base-rate base model, and ``ais_log_z`` wraps both.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.models.rbm import RBM

Progress = Callable[[int, int], None]
"""progress(done, total): called about a hundred times while the chains anneal."""


class AnnealingPath(ABC):
    """A family of unnormalised distributions p*_beta from a base model (beta = 0) to the target (beta = 1).

    A model plugs into :func:`ais` by implementing these four methods; the chain state is
    whatever the model needs (a tensor, a tuple of layers ...), opaque to the AIS loop.
    """

    @abstractmethod
    def base_log_z(self) -> float:
        """log Z_0 of the base model, known exactly."""

    @abstractmethod
    def sample_base(self, n: int, generator: torch.Generator) -> Any:
        """n independent exact samples of the base model."""

    @abstractmethod
    def log_unnormalized(self, state: Any, beta: float) -> torch.Tensor:
        """log p*_beta(state), one value per chain."""

    @abstractmethod
    def transition(self, state: Any, beta: float, generator: torch.Generator) -> Any:
        """One MCMC step that leaves p_beta invariant."""

    def log_ratio(self, state: Any, beta_from: float, beta_to: float) -> torch.Tensor:
        """log p*_to(state) - log p*_from(state); override to compute the difference more accurately."""
        return self.log_unnormalized(state, beta_to) - self.log_unnormalized(state, beta_from)


@dataclass(frozen=True)
class AISResult:
    """An AIS estimate of log Z with an interval: log of (mean weight +- 3 standard errors)."""

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray
    base_log_z: float
    n_betas: int

    @property
    def n_chains(self) -> int:
        return len(self.log_weights)

    @property
    def degenerate(self) -> bool:
        """Whether a few chains carry almost all the weight (effective sample size under 10% of the chains):
        the estimate of log Z is then likely too low (AIS underestimates log Z in expectation)."""
        return self.effective_sample_size < 0.1 * self.n_chains

    @property
    def effective_sample_size(self) -> float:
        """(sum w)^2 / sum w^2: how many chains the weights are worth."""
        w = np.exp(self.log_weights - self.log_weights.max())
        return float(w.sum() ** 2 / (w**2).sum())


def default_betas(n_betas: int = 10000) -> np.ndarray:
    """Salakhutdinov & Murray's schedule, scaled to n_betas: uniform steps on [0, 0.5], [0.5, 0.9]
    and [0.9, 1] holding 1/29, 8/29 and 20/29 of the points (their 500 / 4000 / 10000)."""
    if n_betas < 10:
        raise ValueError(f"n_betas must be at least 10, got {n_betas}")
    n1 = max(2, round(n_betas / 29))
    n2 = max(2, round(8 * n_betas / 29))
    n3 = max(2, n_betas - n1 - n2)
    return np.concatenate([np.linspace(0, 0.5, n1, endpoint=False), np.linspace(0.5, 0.9, n2, endpoint=False), np.linspace(0.9, 1.0, n3)])


def ais(path: AnnealingPath, betas: np.ndarray, n_chains: int = 100, seed: int = 0, progress: Progress | None = None) -> AISResult:
    """Run n_chains annealing chains along ``betas`` (increasing from 0 to 1); estimate log Z of the target."""
    betas = np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) <= 0):
        raise ValueError("betas must increase strictly from 0 to 1")
    if n_chains < 2:
        raise ValueError(f"n_chains must be at least 2, got {n_chains}")
    generator = torch.Generator().manual_seed(seed)
    state = path.sample_base(n_chains, generator)
    log_w = torch.zeros(n_chains, dtype=torch.float64)
    K = len(betas) - 1
    every = max(1, K // 100)
    for k in range(1, K + 1):
        log_w += path.log_ratio(state, float(betas[k - 1]), float(betas[k])).double().cpu()
        if k < K:
            state = path.transition(state, float(betas[k]), generator)
        if progress is not None and (k % every == 0 or k == K):
            progress(k, K)
    return _estimate(log_w.numpy(), path.base_log_z(), len(betas))


def _estimate(log_w: np.ndarray, base_log_z: float, n_betas: int) -> AISResult:
    """log Z = log Z_0 + log mean w, with log(mean w +- 3 std(w) / sqrt(n)) as the interval."""
    shift = log_w.max()
    w = np.exp(log_w - shift)
    mean, sem = w.mean(), w.std(ddof=1) / math.sqrt(len(w))
    log_mean = base_log_z + shift + math.log(mean)
    low = base_log_z + shift + math.log(mean - 3 * sem) if mean - 3 * sem > 0 else -math.inf
    high = base_log_z + shift + math.log(mean + 3 * sem)
    return AISResult(log_mean, low, high, log_w, base_log_z, n_betas)


@dataclass
class _RBMState:
    v: torch.Tensor
    x: torch.Tensor
    """The target's hidden input c + v'W for these v (reused by the weight and the next transition)."""


class RBMAnnealing(AnnealingPath):
    """The geometric path from a base RBM A (W = 0, c = 0, visible bias b_A) to the target RBM B.

    log p*_beta(v) = (1 - beta) [-E_A,vis(v)] + beta [-E_B,vis(v)] + sum_j softplus(beta x_j(v)),
    with x = c + v'W (Salakhutdinov & Murray 2008, eq. 14-16, with the hidden units of A and B shared:
    at beta = 0 they contribute the factor 2^n_h of Z_A). A Gaussian RBM keeps its precisions along
    the path, so P_beta(v|h) stays Gaussian with mean (1 - beta) b_A + beta (b + Wh).
    """

    def __init__(self, rbm: RBM, base_bias: torch.Tensor | None = None):
        self.rbm = rbm
        if base_bias is None:
            base_bias = rbm.b.clone() if rbm.gaussian else torch.zeros_like(rbm.b)
        self.b_A = base_bias.to(rbm.b)

    def base_log_z(self) -> float:
        """Z_A = 2^n_h prod_i (1 + e^(b_A,i)) for binary units; 2^n_h prod_i sqrt(2 pi / beta_v,i) for Gaussian ones."""
        if self.rbm.gaussian:
            vis = 0.5 * torch.log(2 * math.pi / self.rbm.precision.double()).sum()
        else:
            vis = F.softplus(self.b_A.double()).sum()
        return float(vis) + self.rbm.n_hidden * math.log(2.0)

    def _visible_terms(self, v: torch.Tensor, beta: float) -> torch.Tensor:
        """(1 - beta) (-E_A,vis(v)) + beta (-E_B,vis(v)), computed in v's dtype."""
        rbm = self.rbm
        b_A, b_B = self.b_A.to(v.dtype), rbm.b.to(v.dtype)
        if rbm.gaussian:
            prec = rbm.precision.to(v.dtype)
            return -0.5 * (((1 - beta) * (v - b_A) ** 2 + beta * (v - b_B) ** 2) * prec).sum(-1)
        return v @ ((1 - beta) * b_A + beta * b_B)

    def log_unnormalized(self, state: _RBMState, beta: float) -> torch.Tensor:
        return self._visible_terms(state.v, beta) + F.softplus(beta * state.x).sum(-1)

    def log_ratio(self, state: _RBMState, beta_from: float, beta_to: float) -> torch.Tensor:
        """The difference term by term, so that float32 rounding does not accumulate over thousands of betas."""
        vis = self._visible_terms(state.v.double(), beta_to) - self._visible_terms(state.v.double(), beta_from)
        hid = (F.softplus(beta_to * state.x) - F.softplus(beta_from * state.x)).double().sum(-1)
        return vis + hid

    def sample_base(self, n: int, generator: torch.Generator) -> _RBMState:
        rbm = self.rbm
        shape = (n, rbm.n_visible)
        if rbm.gaussian:
            v = self.b_A + torch.randn(shape, generator=generator, dtype=rbm.dtype).to(rbm.device) * rbm.precision.rsqrt()
        else:
            v = (torch.rand(shape, generator=generator, dtype=rbm.dtype).to(rbm.device) < torch.sigmoid(self.b_A)).to(rbm.dtype)
        return _RBMState(v, rbm.hidden_input(v))

    def transition(self, state: _RBMState, beta: float, generator: torch.Generator) -> _RBMState:
        """h ~ P_beta(h|v), then v ~ P_beta(v|h): a block Gibbs step at this point of the path."""
        rbm = self.rbm
        h = (_uniform(state.x.shape, generator, state.x) < torch.sigmoid(beta * state.x)).to(rbm.dtype)
        mean = (1 - beta) * self.b_A + beta * rbm.visible_input(h)
        if rbm.gaussian:
            v = mean + torch.randn(mean.shape, generator=generator, dtype=rbm.dtype).to(rbm.device) * rbm.precision.rsqrt()
        else:
            v = (_uniform(mean.shape, generator, mean) < torch.sigmoid(mean)).to(rbm.dtype)
        return _RBMState(v, rbm.hidden_input(v))


def _uniform(shape: torch.Size, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=generator, dtype=like.dtype).to(like.device)


def base_rate_bias(rbm: RBM, data: torch.Tensor, smoothing: float = 0.05) -> torch.Tensor:
    """The base model's visible bias from the data: logit of smoothed pixel means (binary), or the means (Gaussian)."""
    data = data.to(rbm.b)
    if rbm.gaussian:
        return data.mean(0)
    n = data.shape[0]
    p = (data.sum(0) + smoothing) / (n + 2 * smoothing)
    return torch.log(p) - torch.log1p(-p)


def ais_log_z(
    rbm: RBM,
    n_chains: int = 100,
    n_betas: int = 10000,
    seed: int = 0,
    data: torch.Tensor | None = None,
    betas: np.ndarray | None = None,
    progress: Progress | None = None,
) -> AISResult:
    """AIS estimate of the RBM's log Z. With ``data``, the base model matches its marginals
    (the base-rate model of Salakhutdinov & Murray); ``betas`` overrides the default schedule."""
    base = base_rate_bias(rbm, data) if data is not None else None
    with torch.no_grad():
        return ais(RBMAnnealing(rbm, base), default_betas(n_betas) if betas is None else betas, n_chains, seed, progress)


@dataclass(frozen=True)
class LogLikelihood:
    """Average log-likelihood in nats per example, with the interval carried over from log Z."""

    mean: float
    low: float
    high: float
    scheme: str
    """How the test images were made binary (dynamic, fixed, threshold) or ``gray``/``real`` values."""
    n_examples: int


def average_log_likelihood(rbm: RBM, v: torch.Tensor, log_z: float, log_z_low: float, log_z_high: float, scheme: str) -> LogLikelihood:
    """mean log P(v) = -mean F(v) - log Z; a higher log Z gives the lower log-likelihood bound."""
    with torch.no_grad():
        neg_f = -float(rbm.free_energy(v.to(rbm.W)).double().mean())
    return LogLikelihood(neg_f - log_z, neg_f - log_z_high, neg_f - log_z_low, scheme, int(v.shape[0]))
