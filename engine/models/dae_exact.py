"""The DAE Markov chain on a space small enough to enumerate: exact transition matrices.

Bengio et al. 2013, "Generalized denoising auto-encoders as generative models", the
consistency result: if the reconstruction distribution P(x | x~) is the *true*
denoising distribution of the data,

    P(x | x~) = p_data(x) C(x~ | x) / sum_x' p_data(x') C(x~ | x'),

then the chain x -> x~ ~ C(x~ | x) -> x' ~ P(x' | x~) has transition matrix
T[x, x'] = sum_x~ C(x~ | x) P(x' | x~), and p_data is its stationary distribution:
sum_x p_data(x) T[x, x'] = sum_x~ p(x~) P(x' | x~) = p_data(x'). These functions build
T for d-bit vectors (2**d states) exactly, for the true denoiser and for a trained DAE.
"""

from __future__ import annotations

import torch

from engine.models.corruption import corruption_log_prob

MAX_BITS = 12


def all_binary_vectors(d: int) -> torch.Tensor:
    """Every d-bit vector, (2**d, d) float64, row i is i written in binary (most significant bit first)."""
    if not 1 <= d <= MAX_BITS:
        raise ValueError(f"enumeration needs 1 <= d <= {MAX_BITS} bits, got {d}")
    i = torch.arange(2**d)
    return ((i[:, None] >> torch.arange(d - 1, -1, -1)) & 1).double()


def corruption_matrix(d: int, kind: str, level: float) -> torch.Tensor:
    """C[x, x~] = C(x~ | x) over all 2**d states (rows sum to one)."""
    states = all_binary_vectors(d)
    return torch.exp(corruption_log_prob(states[None, :, :], states[:, None, :], kind, level))


def true_denoising_matrix(p_data: torch.Tensor, corruption: torch.Tensor) -> torch.Tensor:
    """P[x~, x] = P(x | x~) = p_data(x) C(x~ | x) / p(x~), the Bayes-optimal denoiser.

    A corrupted state that no data point can produce (p(x~) = 0) gets the data distribution
    itself as its row, so that every row is a distribution.
    """
    joint = p_data.double()[:, None] * corruption  # [x, x~]
    evidence = joint.sum(0)  # p(x~)
    rows = joint.t() / evidence.clamp_min(1e-300)[:, None]
    return torch.where((evidence > 0)[:, None], rows, p_data.double()[None, :])


@torch.no_grad()
def model_denoising_matrix(model, states: torch.Tensor) -> torch.Tensor:
    """P[x~, x] = p_theta(x | f(x~)) of a DAE with a factorial Bernoulli reconstruction, for every pair of states."""
    logits = model.reconstruct_logits(states.to(model.b.dtype)).double()
    log_on, log_off = torch.nn.functional.logsigmoid(logits), torch.nn.functional.logsigmoid(-logits)
    return torch.exp(log_on @ states.t() + log_off @ (1 - states).t())


def transition_matrix(corruption: torch.Tensor, denoising: torch.Tensor) -> torch.Tensor:
    """T[x, x'] = sum_x~ C(x~ | x) P(x' | x~): one step of the DAE chain."""
    return corruption @ denoising


def stationary_distribution(transition: torch.Tensor) -> torch.Tensor:
    """The pi with pi T = pi, sum pi = 1, solved as a linear system (exact for an ergodic chain)."""
    n = transition.shape[0]
    a = transition.double().t() - torch.eye(n, dtype=torch.float64)
    a[-1] = 1.0
    rhs = torch.zeros(n, dtype=torch.float64)
    rhs[-1] = 1.0
    return torch.linalg.solve(a, rhs)


def total_variation(p: torch.Tensor, q: torch.Tensor) -> float:
    """TV(p, q) = 1/2 sum |p - q|."""
    return 0.5 * float((p.double() - q.double()).abs().sum())
