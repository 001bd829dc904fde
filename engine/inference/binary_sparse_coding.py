"""Mean field for binary sparse coding (book section 19.4.1), against the exact posterior by enumeration.

The model: p(h_i = 1) = σ(b_i) and p(v | h) = N(v; W h, β⁻¹), with a diagonal precision β (a vector here). The
factorial q(h | v) = Π_i ĥ_i^{h_i} (1 − ĥ_i)^{1 − h_i} gives the bound

    L(v, θ, q) = E_q[log p(h)] + E_q[log p(v | h)] + H(q)

in closed form (:func:`bound`): with A = Wᵀ β W and E_q[h_i h_j] = ĥ_i ĥ_j (i ≠ j), E_q[h_i²] = ĥ_i,
E_q[(v − W h)ᵀ β (v − W h)] = vᵀβv − 2 vᵀβWĥ + ĥᵀAĥ + Σ_i A_ii (ĥ_i − ĥ_i²).
Setting ∂L/∂ĥ_i = b_i − log(ĥ_i / (1 − ĥ_i)) + vᵀβW_{:,i} − ½ W_{:,i}ᵀβW_{:,i} − Σ_{j≠i} W_{:,j}ᵀβW_{:,i} ĥ_j to zero
gives the fixed-point update (eq. 19.44)

    ĥ_i = σ(b_i + vᵀβW_{:,i} − ½ W_{:,i}ᵀβW_{:,i} − Σ_{j≠i} W_{:,j}ᵀβW_{:,i} ĥ_j).

L is linear in ĥ_i apart from the concave entropy, so the update is ĥ_i's unique maximiser: updating the units one at
a time (:func:`sequential_sweep`) never lowers L. Updating them all at once (:func:`parallel_update`) can oscillate,
because units that explain the same part of v each react to the others' previous values (explaining away).
With few units the exact posterior p(h | v), log p(v) and KL(q || p(h | v)) are sums over the 2ⁿ states.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

EPS = 1e-12
"""ĥ is kept in [EPS, 1 − EPS] so that the entropy and the logit stay finite."""


@dataclass(frozen=True)
class BinarySparseCoding:
    """p(h_i = 1) = σ(b_i), p(v | h) = N(v; W h, diag(β)⁻¹): ``W`` (n_visible, n_hidden), ``b`` (n_hidden,), ``beta`` (n_visible,)."""

    W: np.ndarray
    b: np.ndarray
    beta: np.ndarray

    @property
    def n_hidden(self) -> int:
        return self.W.shape[1]

    @property
    def coupling(self) -> np.ndarray:
        """A = Wᵀ β W: A_ij = W_{:,i}ᵀ β W_{:,j}, how much features i and j overlap (what makes them explain each other away)."""
        return self.W.T @ (self.beta[:, None] * self.W)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def all_states(n_hidden: int) -> np.ndarray:
    """The 2ⁿ binary vectors h, one per row (float)."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=n_hidden)))


def log_joint(model: BinarySparseCoding, v: np.ndarray, h: np.ndarray) -> np.ndarray:
    """log p(h) + log p(v | h) for each row of ``h`` (eqs. 19.29-19.30 of the model)."""
    log_prior = h @ log_sigmoid(model.b) + (1.0 - h) @ log_sigmoid(-model.b)
    residual = v[None, :] - h @ model.W.T
    log_lik = 0.5 * np.sum(np.log(model.beta / (2.0 * np.pi))) - 0.5 * np.sum(model.beta * residual**2, axis=1)
    return log_prior + log_lik


def exact_log_evidence(model: BinarySparseCoding, v: np.ndarray) -> float:
    """log p(v) = log Σ_h p(h) p(v | h), by enumerating the 2ⁿ states."""
    return float(np.logaddexp.reduce(log_joint(model, v, all_states(model.n_hidden))))


def exact_posterior(model: BinarySparseCoding, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The states (2ⁿ, n) and p(h | v) for each, by enumeration."""
    states = all_states(model.n_hidden)
    logp = log_joint(model, v, states)
    return states, np.exp(logp - np.logaddexp.reduce(logp))


def exact_marginals(model: BinarySparseCoding, v: np.ndarray) -> np.ndarray:
    """p(h_i = 1 | v) for each unit, by enumeration."""
    states, p = exact_posterior(model, v)
    return p @ states


def exact_pair_marginal(model: BinarySparseCoding, v: np.ndarray, i: int = 0, j: int = 1) -> np.ndarray:
    """p(h_i = a, h_j = b | v) as a 2x2 table [a, b], by enumeration: where explaining away shows (mass on (1, 0) and (0, 1))."""
    states, p = exact_posterior(model, v)
    table = np.zeros((2, 2))
    np.add.at(table, (states[:, i].astype(int), states[:, j].astype(int)), p)
    return table


def factorial_pair(h_hat: np.ndarray, i: int = 0, j: int = 1) -> np.ndarray:
    """q(h_i = a) q(h_j = b) as a 2x2 table [a, b]: a factorial q can only hold a product."""
    return np.outer([1.0 - h_hat[i], h_hat[i]], [1.0 - h_hat[j], h_hat[j]])


def _clip(h_hat: np.ndarray) -> np.ndarray:
    return np.clip(h_hat, EPS, 1.0 - EPS)


def bernoulli_entropy(h_hat: np.ndarray) -> float:
    """H(q) = −Σ_i [ĥ_i log ĥ_i + (1 − ĥ_i) log(1 − ĥ_i)]."""
    h = _clip(h_hat)
    return float(-np.sum(h * np.log(h) + (1.0 - h) * np.log1p(-h)))


def bound(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray) -> float:
    """L(v, θ, q) = E_q[log p(h)] + E_q[log p(v | h)] + H(q) for the factorial q with means ``h_hat``, in closed form
    (section 19.4.1): a lower bound on log p(v), equal to log p(v) − KL(q || p(h | v))."""
    h = _clip(h_hat)
    A = model.coupling
    prior = float(h @ log_sigmoid(model.b) + (1.0 - h) @ log_sigmoid(-model.b))
    quadratic = float(v @ (model.beta * v) - 2.0 * v @ (model.beta[:, None] * model.W) @ h + h @ A @ h + np.diag(A) @ (h - h**2))
    likelihood = 0.5 * float(np.sum(np.log(model.beta / (2.0 * np.pi)))) - 0.5 * quadratic
    return prior + likelihood + bernoulli_entropy(h)


def kl_to_posterior(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray) -> float:
    """KL(q || p(h | v)) = Σ_h q(h) [log q(h) − log p(h | v)], by enumeration (independent of :func:`bound`)."""
    states, p = exact_posterior(model, v)
    h = _clip(h_hat)
    log_q = states @ np.log(h) + (1.0 - states) @ np.log1p(-h)
    return float(np.sum(np.exp(log_q) * (log_q - np.log(p))))


def unit_inputs(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray) -> np.ndarray:
    """The argument of σ in eq. 19.44 for every unit at once: b_i + vᵀβW_{:,i} − ½ A_ii − Σ_{j≠i} A_ij ĥ_j."""
    A = model.coupling
    return model.b + model.W.T @ (model.beta * v) - 0.5 * np.diag(A) - (A @ h_hat - np.diag(A) * h_hat)


def update_unit(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray, i: int) -> np.ndarray:
    """A copy of ``h_hat`` with unit i set by eq. 19.44 (the others held): the maximiser of L over ĥ_i."""
    out = h_hat.copy()
    out[i] = _clip(sigmoid(unit_inputs(model, v, h_hat)[i]))
    return out


def sequential_sweep(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray) -> np.ndarray:
    """One sweep of eq. 19.44 over the units in order, each seeing the others' newest values: L never falls."""
    for i in range(model.n_hidden):
        h_hat = update_unit(model, v, h_hat, i)
    return h_hat


def parallel_update(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray, damping: float = 0.0) -> np.ndarray:
    """Every unit by eq. 19.44 from the same previous ĥ, damped: ĥ ← d ĥ + (1 − d) σ(·). Undamped it can oscillate."""
    target = sigmoid(unit_inputs(model, v, h_hat))
    return _clip(damping * h_hat + (1.0 - damping) * target)


def fixed_point_residual(model: BinarySparseCoding, v: np.ndarray, h_hat: np.ndarray) -> float:
    """max_i |ĥ_i − σ(input_i)|: zero exactly at a fixed point of eq. 19.44."""
    return float(np.max(np.abs(h_hat - sigmoid(unit_inputs(model, v, h_hat)))))


# --------------------------------------------------------------------------- the lesson's dictionaries


DICTIONARIES = ("similar pair", "orthogonal", "random")
"""``similar pair``: features 1 and 2 nearly the same direction (cosine ≈ 0.96), the rest random; ``orthogonal``:
orthonormal columns, for which A is diagonal and the posterior factorial; ``random``: Gaussian columns of unit norm."""
N_VISIBLE = 8


def make_dictionary(kind: str, n_hidden: int, seed: int, n_visible: int = N_VISIBLE) -> np.ndarray:
    """W (n_visible, n_hidden) with unit-norm columns, as :data:`DICTIONARIES` describes."""
    if kind not in DICTIONARIES:
        raise ValueError(f"dictionary must be one of {', '.join(DICTIONARIES)}, got {kind!r}")
    if n_hidden > n_visible:
        raise ValueError(f"n_hidden must be at most {n_visible}, got {n_hidden}")
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n_visible, n_hidden))
    if kind == "orthogonal":
        Q, _ = np.linalg.qr(G)
        return Q
    W = G / np.linalg.norm(G, axis=0)
    if kind == "similar pair" and n_hidden >= 2:
        Q, _ = np.linalg.qr(G[:, :2])
        W[:, 0] = Q[:, 0]
        W[:, 1] = np.cos(0.28) * Q[:, 0] + np.sin(0.28) * Q[:, 1]
    return W


def make_input(model: BinarySparseCoding, kind: str, seed: int) -> np.ndarray:
    """v to explain: ``feature 1`` is W_{:,1} itself (explained by feature 1 alone, or almost as well by feature 2 when
    they are a similar pair); ``sample`` is h ~ p(h), v ~ p(v | h) drawn with ``seed``."""
    if kind == "feature 1":
        return model.W[:, 0].copy()
    if kind == "sample":
        rng = np.random.default_rng(seed + 1)
        h = (rng.random(model.n_hidden) < sigmoid(model.b)).astype(float)
        return model.W @ h + rng.standard_normal(model.W.shape[0]) / np.sqrt(model.beta)
    raise ValueError(f"input must be 'feature 1' or 'sample', got {kind!r}")
