"""Sparse coding: MAP inference of a sparse code and learning of the dictionary (book section 19.3, and 13.4).

The model is a Laplace prior on the code, p(h_i) = λ/2 exp(−λ |h_i|), and a Gaussian decoder
p(x | h) = N(x; W h, I) (book section 19.3). MAP inference, h* = argmax_h p(h | x) (eq. 19.11), is then

    h* = argmin_h  J(h; x, W) = ½ ||x − W h||² + λ ||h||₁,

a convex problem without a closed form, solved here by proximal gradient descent: ISTA takes a gradient step
on the squared error and shrinks every entry towards zero by the soft threshold; FISTA (Beck & Teboulle 2009)
adds Nesterov momentum and reaches the optimum at rate O(1/t²) instead of O(1/t). Learning alternates this
inference with a gradient step on the dictionary W at fixed codes (the "alternating" minimisation of
section 19.3), with the columns of W kept in the unit ball: without it ``W h = (c W)(h / c)`` lets
||h||₁ shrink to zero while W grows.

Shapes: a batch of signals ``x`` is (n, d), the dictionary ``W`` is (d, k) (column j is atom j, a filter),
the codes ``h`` are (n, k); the reconstruction of the batch is ``h @ W.T``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


def reconstruction_error(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """½ ||x − W h||² per signal, shape (n,)."""
    return 0.5 * ((x - h @ w.T) ** 2).sum(dim=1)


def objective(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor, lam: float) -> torch.Tensor:
    """J(h; x, W) = ½ ||x − W h||² + λ ||h||₁ per signal, shape (n,): −log p(x, h) up to a constant (section 19.3)."""
    return reconstruction_error(x, w, h) + lam * h.abs().sum(dim=1)


def mean_objective(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor, lam: float) -> float:
    """The batch's mean of :func:`objective`."""
    return float(objective(x, w, h, lam).mean())


def lipschitz(w: torch.Tensor) -> float:
    """L, the largest eigenvalue of WᵀW: the Lipschitz constant of the squared error's gradient in h; ISTA's step is 1/L."""
    return float(torch.linalg.eigvalsh(w.T @ w)[-1])


def soft_threshold(z: torch.Tensor, threshold: float) -> torch.Tensor:
    """The proximal operator of threshold · ||·||₁: sign(z) max(|z| − threshold, 0), entrywise."""
    return torch.sign(z) * torch.clamp(z.abs() - threshold, min=0.0)


def ista_step(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor, lam: float, step: float) -> torch.Tensor:
    """One ISTA iteration: h ← S_{λ t}(h − t Wᵀ(W h − x)) with step t ≤ 1/L; J never increases."""
    gradient = (h @ w.T - x) @ w
    return soft_threshold(h - step * gradient, lam * step)


@dataclass
class FistaState:
    """FISTA's iterate ``h``, its extrapolated point ``y`` and the momentum sequence ``t`` (t₁ = 1)."""

    h: torch.Tensor
    y: torch.Tensor
    t: float = 1.0

    @classmethod
    def start(cls, h: torch.Tensor) -> FistaState:
        return cls(h.clone(), h.clone(), 1.0)


def fista_step(x: torch.Tensor, w: torch.Tensor, state: FistaState, lam: float, step: float) -> FistaState:
    """One FISTA iteration (Beck & Teboulle 2009): an ISTA step from the extrapolated point y, then
    t' = (1 + √(1 + 4t²)) / 2 and y' = h' + ((t − 1) / t')(h' − h)."""
    h_next = ista_step(x, w, state.y, lam, step)
    t_next = (1.0 + (1.0 + 4.0 * state.t**2) ** 0.5) / 2.0
    y_next = h_next + ((state.t - 1.0) / t_next) * (h_next - state.h)
    return FistaState(h_next, y_next, t_next)


SOLVERS = ("ista", "fista")


def infer_codes(
    x: torch.Tensor,
    w: torch.Tensor,
    lam: float,
    n_iter: int,
    solver: str = "ista",
    h0: torch.Tensor | None = None,
    trace: Callable[[torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """MAP codes h* = argmin_h J(h; x, W) (eq. 19.11) after ``n_iter`` ISTA or FISTA iterations with step 1/L,
    from ``h0`` (zeros when None). ``trace`` sees the codes after every iteration."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    h = torch.zeros(x.shape[0], w.shape[1], dtype=x.dtype) if h0 is None else h0.clone()
    step = 1.0 / lipschitz(w)
    state = FistaState.start(h)
    for _ in range(n_iter):
        if solver == "ista":
            h = ista_step(x, w, h, lam, step)
        else:
            state = fista_step(x, w, state, lam, step)
            h = state.h
        if trace is not None:
            trace(h)
    return h


def objective_trace(x: torch.Tensor, w: torch.Tensor, lam: float, n_iter: int, solver: str, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The mean objective before the first iteration and after each of ``n_iter`` iterations, shape (n_iter + 1,)."""
    start = torch.zeros(x.shape[0], w.shape[1], dtype=x.dtype) if h0 is None else h0
    values = [objective(x, w, start, lam).mean()]
    infer_codes(x, w, lam, n_iter, solver, start, trace=lambda h: values.append(objective(x, w, h, lam).mean()))
    return torch.stack(values)


def normalize_columns(w: torch.Tensor) -> torch.Tensor:
    """W with every column scaled to unit Euclidean norm (a random dictionary's start)."""
    return w / w.norm(dim=0, keepdim=True).clamp_min(1e-12)


def project_columns(w: torch.Tensor) -> torch.Tensor:
    """The projection onto {W : ||W_:,j|| ≤ 1 for every j}: columns longer than 1 are scaled back to unit norm."""
    return w / w.norm(dim=0, keepdim=True).clamp_min(1.0)


def dictionary_gradient(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """∂/∂W of the batch's mean ½ ||x − W h||²: −(1/n) Σ (x − W h) hᵀ, shape (d, k)."""
    return -(x - h @ w.T).T @ h / x.shape[0]


def dictionary_step(x: torch.Tensor, w: torch.Tensor, h: torch.Tensor, rate: float = 1.0) -> torch.Tensor:
    """One projected gradient step on W at fixed codes: W ← Π(W − (rate / L_h) ∇_W), with L_h the largest eigenvalue
    of hᵀh / n (the gradient's Lipschitz constant in W) and Π :func:`project_columns`. With rate ≤ 1 the step
    never raises the mean objective (a projected gradient step on a convex set with step ≤ 1/L)."""
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be in (0, 1], got {rate!r}")
    curvature = float(torch.linalg.eigvalsh(h.T @ h / x.shape[0])[-1])
    if curvature <= 0.0:  # every code is zero: the squared error does not depend on W
        return w.clone()
    return project_columns(w - (rate / curvature) * dictionary_gradient(x, w, h))


def random_dictionary(d: int, k: int, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """k atoms of dimension d drawn from a Gaussian and scaled to unit norm."""
    return normalize_columns(torch.randn(d, k, generator=generator, dtype=dtype))


def code_sparsity(h: torch.Tensor) -> tuple[float, float]:
    """The fraction of code entries that are exactly zero, and the mean ||h||₁ per signal."""
    return float((h == 0).double().mean()), float(h.abs().sum(dim=1).mean())
