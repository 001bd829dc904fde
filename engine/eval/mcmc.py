"""Markov chain diagnostics against exact answers: the exact P(v) of a small RBM by enumeration, the
total-variation distance of the chains' empirical distribution from it, and the autocorrelation of a
statistic along the chains (how many Gibbs steps until a sample is nearly independent, book 17.3-17.4)."""

from __future__ import annotations

import numpy as np
import torch

from engine.models.rbm import RBM, binary_states

MAX_ENUMERATED_VISIBLE = 20


def exact_visible_distribution(rbm: RBM) -> torch.Tensor:
    """P(v) = exp(-F(v)) / Z for every binary visible state (row k = binary code of k), by enumerating
    all 2^n_visible states in float64 (eq. 16.7 with the free energy F of eq. 20.16's RBM)."""
    if rbm.n_visible > MAX_ENUMERATED_VISIBLE:
        raise ValueError(f"the exact distribution enumerates 2^n_visible states; n_visible={rbm.n_visible} is above {MAX_ENUMERATED_VISIBLE}")
    m = rbm.to(dtype=torch.float64)
    log_p = torch.cat([-m.free_energy(v) for v in binary_states(m.n_visible)])
    return torch.softmax(log_p, 0)


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 0..max_lag of each row of x (chains, time), pooled over the chains
    that vary: sum over chains of the lag-l autocovariance over the sum of their variances."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(1, keepdims=True)
    length = x.shape[1]
    max_lag = min(max_lag, length - 1)
    var = (x * x).mean(1)
    varying = var > 1e-12
    if not varying.any() or max_lag < 1:
        return np.ones(1)
    return np.array([(x[varying, : length - lag] * x[varying, lag:]).mean(1).mean() / var[varying].mean() for lag in range(max_lag + 1)])


def total_variation(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """TV(p, q) = 1/2 sum_x |p(x) - q(x)| between two distributions over the same finite set."""
    return 0.5 * float(np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64)).sum())
