"""EM for a Gaussian mixture as coordinate ascent on the evidence lower bound L(v, θ, q) (book section 19.2).

The model: a hidden class h in {1..K} with p(h = k) = π_k and p(v | h = k) = N(v; μ_k, Σ_k). For every data point
v⁽ⁱ⁾ a distribution q(h | v⁽ⁱ⁾) (a row of responsibilities) gives the bound

    L(v, θ, q) = log p(v; θ) − D_KL(q(h | v) ‖ p(h | v; θ))          (eq. 19.1)
               = E_{h~q}[log p(h, v; θ)] + H(q)                       (the end of the derivation, eqs. 19.2-19.6)

summed over the data. EM alternates (section 19.2):

- the E-step sets q(h | v⁽ⁱ⁾) = p(h | v⁽ⁱ⁾; θ): the KL gap becomes 0 and L equals log p(v; θ);
- the M-step maximises L over θ with q fixed: closed form for a Gaussian mixture.

A partial E-step (generalized EM, Neal & Hinton 1998) updates only some points' q: L still never falls.
Everything is float64 NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REG_COVAR = 1e-6
"""Added to the diagonal of every covariance the M-step makes (scikit-learn's ``reg_covar``), so a component that
shrinks onto a few points keeps an invertible covariance."""

INITS = ("k-means++", "random points", "bad")
LAYOUTS = ("three blobs", "overlapping", "stretched", "five blobs")


@dataclass(frozen=True)
class Mixture:
    """θ of a Gaussian mixture: weights π (K,), means μ (K, D), covariances Σ (K, D, D)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def k(self) -> int:
        return len(self.weights)


# --------------------------------------------------------------------------- data


_LAYOUT_CENTRES = {
    "three blobs": [(-2.5, -1.5), (2.5, -1.5), (0.0, 2.5)],
    "overlapping": [(-1.0, 0.0), (1.0, 0.3), (0.0, 1.4)],
    "stretched": [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)],
    "five blobs": [(-3.0, -2.5), (3.0, -2.5), (0.0, 0.0), (-3.0, 2.5), (3.0, 2.5)],
}
_LAYOUT_SCALES = {
    "three blobs": [((0.7, 0.0), (0.0, 0.7))] * 3,
    "overlapping": [((0.8, 0.0), (0.0, 0.5)), ((0.5, 0.3), (0.3, 0.8)), ((0.6, 0.0), (0.0, 0.6))],
    "stretched": [((1.6, 0.0), (1.2, 0.25)), ((1.6, 0.0), (-1.2, 0.25)), ((1.8, 0.0), (0.0, 0.2))],
    "five blobs": [((0.6, 0.0), (0.0, 0.6))] * 5,
}


def blob_data(layout: str, n_points: int, seed: int) -> np.ndarray:
    """``n_points`` 2-D points (n_points, 2) from a seeded layout of Gaussian blobs of equal size: each blob is
    centre + A z with z ~ N(0, I) and A the layout's shape matrix."""
    if layout not in _LAYOUT_CENTRES:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    rng = np.random.default_rng(seed)
    centres, shapes = np.array(_LAYOUT_CENTRES[layout], float), np.array(_LAYOUT_SCALES[layout], float)
    blob = np.arange(n_points) % len(centres)
    z = rng.standard_normal((n_points, 2))
    return centres[blob] + np.einsum("nij,nj->ni", shapes[blob], z)


# --------------------------------------------------------------------------- the model


def log_joint(v: np.ndarray, theta: Mixture) -> np.ndarray:
    """log p(v⁽ⁱ⁾, h = k; θ) = log π_k + log N(v⁽ⁱ⁾; μ_k, Σ_k), as an (N, K) array."""
    n, d = v.shape
    chol = np.linalg.cholesky(theta.covariances)  # (K, D, D), Σ_k = L_k L_kᵀ
    diff = v[None, :, :] - theta.means[:, None, :]  # (K, N, D)
    z = np.linalg.solve(chol, diff.transpose(0, 2, 1))  # L_k⁻¹ (v − μ_k): (K, D, N)
    mahalanobis = (z**2).sum(axis=1)  # (K, N)
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)  # (K,)
    log_normal = -0.5 * (d * np.log(2.0 * np.pi) + log_det[:, None] + mahalanobis)
    return (np.log(theta.weights)[:, None] + log_normal).T


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=1, keepdims=True)))[:, 0]


def log_likelihood(v: np.ndarray, theta: Mixture) -> float:
    """log p(v; θ) = Σ_i log Σ_k p(v⁽ⁱ⁾, h = k; θ), summed over the data."""
    return float(_logsumexp_rows(log_joint(v, theta)).sum())


def log_posterior(v: np.ndarray, theta: Mixture) -> np.ndarray:
    """log p(h = k | v⁽ⁱ⁾; θ), as an (N, K) array."""
    joint = log_joint(v, theta)
    return joint - _logsumexp_rows(joint)[:, None]


def bound(v: np.ndarray, theta: Mixture, q: np.ndarray) -> float:
    """L(v, θ, q) = Σ_i E_{h~q(h|v⁽ⁱ⁾)}[log p(h, v⁽ⁱ⁾; θ)] + H(q(h | v⁽ⁱ⁾)) (eq. 19.1 rewritten, eqs. 19.2-19.6),
    summed term by term as q (log p(h, v) − log q), with 0 log 0 = 0."""
    joint = log_joint(v, theta)
    log_q = np.log(np.where(q > 0, q, 1.0))
    return float(np.where(q > 0, q * (joint - log_q), 0.0).sum())


def gap(v: np.ndarray, theta: Mixture, q: np.ndarray) -> float:
    """Σ_i D_KL(q(h | v⁽ⁱ⁾) ‖ p(h | v⁽ⁱ⁾; θ)), computed from q and the posterior directly (not as log p − L)."""
    log_q = np.log(np.where(q > 0, q, 1.0))
    return float(np.where(q > 0, q * (log_q - log_posterior(v, theta)), 0.0).sum())


# --------------------------------------------------------------------------- EM's two half-steps


def e_step(v: np.ndarray, theta: Mixture) -> np.ndarray:
    """The E-step of section 19.2: q(h | v⁽ⁱ⁾) = p(h | v⁽ⁱ⁾; θ) (the responsibilities), (N, K). It maximises L over q."""
    return np.exp(log_posterior(v, theta))


def partial_e_step(v: np.ndarray, theta: Mixture, q: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Generalized EM's partial E-step: a random ``fraction`` of the points (at least one) get q(h | v⁽ⁱ⁾) = p(h | v⁽ⁱ⁾; θ),
    the others keep theirs. L is a sum over points, each point's term is maximised by its posterior, so L never falls.
    Returns the new q and the boolean mask of the points updated."""
    n = len(v)
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.choice(n, size=max(1, int(round(fraction * n))), replace=False)] = True
    new = q.copy()
    new[chosen] = e_step(v[chosen], theta)
    return new, chosen


def m_step(v: np.ndarray, q: np.ndarray, reg_covar: float = REG_COVAR) -> Mixture:
    """The M-step: argmax over θ of L(v, θ, q) with q fixed (θ enters only E_q[log p(h, v; θ)]). With N_k = Σ_i q_ik:
    π_k = N_k / N, μ_k = Σ_i q_ik v⁽ⁱ⁾ / N_k, Σ_k = Σ_i q_ik (v⁽ⁱ⁾ − μ_k)(v⁽ⁱ⁾ − μ_k)ᵀ / N_k (+ ``reg_covar`` I)."""
    n, d = v.shape
    nk = q.sum(axis=0)
    means = (q.T @ v) / nk[:, None]
    diff = v[None, :, :] - means[:, None, :]  # (K, N, D)
    covariances = np.einsum("nk,kni,knj->kij", q, diff, diff) / nk[:, None, None] + reg_covar * np.eye(d)
    return Mixture(nk / n, means, covariances)


# --------------------------------------------------------------------------- initialisation


def initial_mixture(v: np.ndarray, k: int, init: str, rng: np.random.Generator, reg_covar: float = REG_COVAR) -> Mixture:
    """θ⁽⁰⁾, with equal weights:

    - ``k-means++``: means seeded by k-means++ (each next mean a data point drawn with probability ∝ its squared distance
      to the nearest mean so far), every covariance the data's covariance;
    - ``random points``: K distinct data points drawn uniformly, every covariance the data's covariance;
    - ``bad``: the K data points nearest to one random point, all in one corner of the data, with covariances 1/100 of
      the data's: a start from which EM climbs to a local optimum.
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    n, d = v.shape
    if not 1 <= k <= n:
        raise ValueError(f"the number of components must be between 1 and the number of points {n}, got {k}")
    spread = np.cov(v.T, bias=True).reshape(d, d) + reg_covar * np.eye(d)
    if init == "k-means++":
        chosen = [int(rng.integers(n))]
        for _ in range(1, k):
            nearest = ((v[:, None, :] - v[chosen][None, :, :]) ** 2).sum(axis=2).min(axis=1)
            chosen.append(int(rng.choice(n, p=nearest / nearest.sum())))
        means, scale = v[chosen], 1.0
    elif init == "random points":
        means, scale = v[rng.choice(n, size=k, replace=False)], 1.0
    else:
        corner = v.min(axis=0) if rng.integers(2) else v.max(axis=0)
        seed_point = v[np.argmin(((v - corner) ** 2).sum(axis=1))]
        means, scale = v[np.argsort(((v - seed_point) ** 2).sum(axis=1))[:k]], 0.01
    return Mixture(np.full(k, 1.0 / k), means.copy(), np.repeat(scale * spread[None], k, axis=0))


def run_em(v: np.ndarray, theta: Mixture, tol: float = 1e-13, max_iter: int = 20000, reg_covar: float = REG_COVAR) -> tuple[Mixture, list[float]]:
    """Full EM from θ⁽⁰⁾ until log p(v; θ) changes by less than ``tol`` (relative) between iterations: the fixed point θ*
    and the log-likelihood after every M-step (the first entry is θ⁽⁰⁾'s)."""
    trace = [log_likelihood(v, theta)]
    for _ in range(max_iter):
        theta = m_step(v, e_step(v, theta), reg_covar)
        trace.append(log_likelihood(v, theta))
        if abs(trace[-1] - trace[-2]) <= tol * abs(trace[-1]):
            break
    return theta, trace
