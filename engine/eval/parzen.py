"""Parzen-window (kernel density) log-likelihood of a model's samples (book section 20.14).

An isotropic Gaussian kernel of bandwidth sigma is put on every generated sample s_j;
the density of a test point x is the mixture

    p(x) = 1/M sum_j N(x; s_j, sigma^2 I),
    log p(x) = logsumexp_j(-||x - s_j||^2 / (2 sigma^2)) - log M - (D/2) log(2 pi sigma^2).

sigma is chosen to maximise the mean log-likelihood of a validation set, then the
estimate is reported on a separate test set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

PARZEN_WARNING = (
    "Read this number with care (book section 20.14; Theis, van den Oord and Bethge 2016): a Parzen-window "
    "estimate in hundreds of dimensions is dominated by the bandwidth and by the nearest sample, it can rank "
    "models in the wrong order, and it can be beaten by a model that memorises the training set or by a "
    "k-means of it. It is not a likelihood of the model; it is a likelihood of a kernel density fitted to the "
    "model's samples."
)

DEFAULT_BANDWIDTHS = tuple(float(s) for s in np.logspace(-1, 0, 10))


@dataclass(frozen=True)
class ParzenResult:
    """Mean log-likelihood (nats per example) of the test points, its standard error, and the bandwidth used."""

    log_likelihood: float
    std_error: float
    sigma: float
    validation_log_likelihood: dict[float, float]


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float64) if not isinstance(x, torch.Tensor) else x).double()
    return t.reshape(len(t), -1)


def parzen_log_likelihoods(samples: np.ndarray | torch.Tensor, points: np.ndarray | torch.Tensor, sigma: float, batch: int = 256) -> torch.Tensor:
    """log p(x) of every point under the Gaussian Parzen window on ``samples`` (see the module docstring)."""
    if sigma <= 0:
        raise ValueError(f"Parzen bandwidth sigma must be positive, got {sigma}")
    s, x = _as_tensor(samples), _as_tensor(points)
    if s.shape[1] != x.shape[1]:
        raise ValueError(f"samples have {s.shape[1]} dimensions but the points have {x.shape[1]}")
    m, d = s.shape
    const = -math.log(m) - 0.5 * d * math.log(2 * math.pi * sigma**2)
    s_sq = (s * s).sum(1)
    out = []
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        sq = (xb * xb).sum(1)[:, None] - 2 * xb @ s.t() + s_sq[None, :]
        out.append(torch.logsumexp(-sq.clamp_min(0) / (2 * sigma**2), dim=1) + const)
    return torch.cat(out)


def choose_bandwidth(samples, validation, sigmas=DEFAULT_BANDWIDTHS) -> tuple[float, dict[float, float]]:
    """The sigma among ``sigmas`` with the highest mean validation log-likelihood, and every score."""
    scores = {float(s): float(parzen_log_likelihoods(samples, validation, s).mean()) for s in sigmas}
    return max(scores, key=scores.get), scores


def parzen_estimate(samples, validation, test, sigmas=DEFAULT_BANDWIDTHS) -> ParzenResult:
    """Choose sigma on ``validation``, report the mean log-likelihood of ``test`` with its standard error."""
    sigma, scores = choose_bandwidth(samples, validation, sigmas)
    ll = parzen_log_likelihoods(samples, test, sigma)
    return ParzenResult(float(ll.mean()), float(ll.std() / math.sqrt(len(ll))), sigma, scores)
