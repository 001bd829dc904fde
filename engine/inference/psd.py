"""Predictive sparse decomposition: a parametric encoder f(x) that predicts the sparse codes in one pass
(book sections 14.8 and 19.5; Kavukcuoglu, Ranzato & LeCun 2008).

PSD trains a sparse coding model together with an encoder by minimising
||x − g(h)||² + λ|h|₁ + γ||h − f(x)||² (eq. 14.19). Here the dictionary is the one sparse coding learned
(engine.inference.sparse_coding) and the codes h are its MAP codes, so the encoder regresses onto ISTA's
codes: the learned approximate inference of section 19.5, one encoder pass in place of iterating ISTA.

The encoder is one shrinkage layer, f(x) = S_θ(B x + c) (soft threshold S, per unit threshold θ ≥ 0). Started
at B = Wᵀ/L, c = 0, θ = λ/L it *is* one ISTA iteration from h = 0; training then makes its single pass
predict the converged codes (Gregor & LeCun 2010 unroll more such layers).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.inference.sparse_coding import infer_codes, lipschitz, mean_objective, objective_trace


@dataclass
class ShrinkageEncoder:
    """f(x) = S_θ(B x + c): ``weight`` B is (k, d), ``bias`` c and ``threshold`` θ are (k,)."""

    weight: torch.Tensor
    bias: torch.Tensor
    threshold: torch.Tensor

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The codes of a batch x (n, d) in one pass, shape (n, k)."""
        z = x @ self.weight.T + self.bias
        return torch.sign(z) * torch.relu(z.abs() - self.threshold)


def one_ista_step_encoder(w: torch.Tensor, lam: float) -> ShrinkageEncoder:
    """The encoder equal to one ISTA iteration from h = 0 on dictionary W: B = Wᵀ/L, c = 0, θ = λ/L."""
    step = 1.0 / lipschitz(w)
    k = w.shape[1]
    return ShrinkageEncoder(w.T.clone() * step, torch.zeros(k, dtype=w.dtype), torch.full((k,), lam * step, dtype=w.dtype))


def train_encoder(encoder: ShrinkageEncoder, x: torch.Tensor, codes: torch.Tensor, n_steps: int, lr: float = 1e-2) -> tuple[ShrinkageEncoder, list[float]]:
    """Fit f(x) to ``codes`` by Adam on the mean ||f(x) − h||² (the γ term of eq. 14.19), full batch, θ kept ≥ 0.
    Returns the trained encoder and the loss before each step."""
    params = [t.clone().requires_grad_(True) for t in (encoder.weight, encoder.bias, encoder.threshold)]
    optimizer = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = ((ShrinkageEncoder(*params).encode(x) - codes) ** 2).sum(dim=1).mean()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            params[2].clamp_(min=0.0)
        losses.append(loss.item())
    weight, bias, threshold = (p.detach() for p in params)
    return ShrinkageEncoder(weight, bias, threshold), losses


@dataclass(frozen=True)
class EncoderComparison:
    """Objectives J = ½||x − W h||² + λ||h||₁ (mean over held-out signals) of the encoder's one pass against ISTA's
    iterations from h = 0: ``ista[k]`` after k iterations, ``optimum`` after many FISTA iterations."""

    encoder: float
    untrained_encoder: float
    ista: tuple[float, ...]
    optimum: float
    fit_losses: tuple[float, ...]

    @property
    def ista_iterations_matched(self) -> int | None:
        """The fewest ISTA iterations whose objective is at most the encoder's (None: more than were run)."""
        return next((k for k, value in enumerate(self.ista) if value <= self.encoder), None)

    @property
    def excess_ratio(self) -> float:
        """(J(f(x)) − J*) / (J(one ISTA step) − J*): how much of the first step's gap to the optimum is left."""
        return (self.encoder - self.optimum) / max(self.ista[1] - self.optimum, 1e-300)


OPTIMUM_ITERATIONS = 2000
"""FISTA iterations taken as converged (the optimum of the comparison and the codes the encoder is fitted to)."""


def compare_encoder_with_ista(
    x_train: torch.Tensor, x_test: torch.Tensor, w: torch.Tensor, lam: float, n_steps: int = 300, n_ista: int = 200, lr: float = 1e-2
) -> EncoderComparison:
    """Fit the encoder to the converged codes of ``x_train`` on dictionary W, then measure on ``x_test`` (never fitted):
    its one pass, the untrained encoder (= one ISTA step), ISTA after 0..``n_ista`` iterations and the optimum."""
    codes = infer_codes(x_train, w, lam, OPTIMUM_ITERATIONS, "fista")
    start = one_ista_step_encoder(w, lam)
    trained, losses = train_encoder(start, x_train, codes, n_steps, lr)
    optimum_codes = infer_codes(x_test, w, lam, OPTIMUM_ITERATIONS, "fista")
    ista = objective_trace(x_test, w, lam, n_ista, "ista")
    return EncoderComparison(
        encoder=mean_objective(x_test, w, trained.encode(x_test), lam),
        untrained_encoder=mean_objective(x_test, w, start.encode(x_test), lam),
        ista=tuple(float(v) for v in ista),
        optimum=mean_objective(x_test, w, optimum_codes, lam),
        fit_losses=tuple(losses),
    )

