"""The Gaussian-Bernoulli RBM trainer's update against autograd of the exact log-likelihood (book section 18.1).

A 3-visible, 4-hidden model with unequal precisions: h is enumerated and v integrated in closed form,
so log P(v) is exact. The trainer's negative phase is fed the exact model expectation through its own
code path (``RBMTrainer.apply_phases``): for each h, the two points v = b + Wh +- beta_v^(-1/2) with
weight P(h) / 2 reproduce E[v | h] and E[v_i^2 | h], all that -dE/dtheta needs.
"""

from __future__ import annotations

import math

import pytest
import torch

from engine.models.rbm import RBM, binary_states
from engine.models.rbm_training import PRECISION_LR_SCALE, RBMTrainer, TrainConfig

torch.set_num_threads(1)

N_VISIBLE, N_HIDDEN = 3, 4
LOG_PRECISION = (-0.7, 0.4, 1.3)  # beta_v = 0.50, 1.49, 3.67


def gaussian_rbm(learn_precision: bool = True) -> RBM:
    g = torch.Generator().manual_seed(0)
    rbm = RBM(N_VISIBLE, N_HIDDEN, "gaussian", learn_precision=learn_precision, dtype=torch.float64)
    rbm.W.copy_(0.6 * torch.randn(N_VISIBLE, N_HIDDEN, generator=g, dtype=torch.float64))
    rbm.b.copy_(torch.randn(N_VISIBLE, generator=g, dtype=torch.float64))
    rbm.c.copy_(0.5 * torch.randn(N_HIDDEN, generator=g, dtype=torch.float64))
    rbm.log_precision.copy_(torch.tensor(LOG_PRECISION, dtype=torch.float64))
    return rbm


def data_batch() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(6, N_VISIBLE, generator=g, dtype=torch.float64) * 1.5 + 0.3


def exact_log_likelihood(v, W, b, c, log_precision) -> torch.Tensor:
    """Mean log P(v) for E(v, h) = 1/2 sum_i beta_i (v_i - b_i)^2 - c'h - (beta * v)'Wh, written out here:
    log P(v) = log sum_h exp(-E(v, h)) - log Z, with the h sum factorised and, for each h, the Gaussian
    integral int exp(-E(v, h)) dv = exp(c'h + sum_i beta_i (b_i m_i + m_i^2 / 2)) prod_i sqrt(2 pi / beta_i), m = Wh."""
    beta = log_precision.exp()
    log_p_tilde = -0.5 * ((v - b) ** 2 * beta).sum(1) + torch.nn.functional.softplus(c + (v * beta) @ W).sum(1)
    h = next(binary_states(W.shape[1]))
    m = h @ W.T
    log_z = torch.logsumexp(h @ c + (beta * (b * m + 0.5 * m * m)).sum(1), 0) + 0.5 * torch.log(2 * math.pi / beta).sum()
    return (log_p_tilde - log_z).mean()


def autograd_gradient(rbm: RBM, v: torch.Tensor, hidden_offset=None, visible_offset=None) -> dict[str, torch.Tensor]:
    """d mean log P(v) / d (W, b, c, log beta_v); with offsets, with respect to the centred parameters
    (W, b~, c~, log beta_v) where b = b~ - W lambda and c = c~ - W' mu."""
    W, log_precision = rbm.W.clone().requires_grad_(), rbm.log_precision.clone().requires_grad_()
    if hidden_offset is None:
        b, c = rbm.b.clone().requires_grad_(), rbm.c.clone().requires_grad_()
        leaves = {"W": W, "b": b, "c": c, "log_precision": log_precision}
    else:
        b_centred = (rbm.b + rbm.W @ hidden_offset).requires_grad_()
        c_centred = (rbm.c + rbm.W.T @ visible_offset).requires_grad_()
        b, c = b_centred - W @ hidden_offset, c_centred - W.T @ visible_offset
        leaves = {"W": W, "b": b_centred, "c": c_centred, "log_precision": log_precision}
    grads = torch.autograd.grad(exact_log_likelihood(v, W, b, c, log_precision), list(leaves.values()))
    return dict(zip(leaves, grads))


def exact_model_rows(rbm: RBM, n_data: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(V, H, weight): rows whose weighted sum is n_data times the model expectation of any function
    of (v, h) that is at most quadratic in each v_i with no v_i v_k products: -dE/dtheta for every theta."""
    h = next(binary_states(rbm.n_hidden))
    p_h = torch.softmax(rbm.log_unnormalized_hidden(h), 0)
    mean, std = rbm.mean_v_given_h(h), rbm.precision.rsqrt()
    V = torch.cat([mean + std, mean - std])
    H = torch.cat([h, h])
    return V, H, n_data * torch.cat([p_h, p_h]) / 2


def trainer_update(rbm: RBM, v: torch.Tensor, centering: bool = False, offsets=None) -> dict[str, torch.Tensor]:
    """The trainer's update at lr = 1, momentum 0, no decay, from the exact phases: the gradient it follows."""
    trainer = RBMTrainer(rbm.copy())
    if offsets is not None:
        trainer.mu, trainer.lam = offsets[0].clone(), offsets[1].clone()
    V_model, H_model, weight = exact_model_rows(rbm, len(v))
    V = torch.cat([v, V_model])
    H = torch.cat([rbm.prob_h_given_v(v), H_model])
    config = TrainConfig(lr=1.0, momentum=0.0, weight_decay=0.0, centering=centering)
    trainer.apply_phases(V, H, len(v), weight, config)
    update = {name: t.clone() for name, t in trainer.velocity.items()}
    update["log_precision"] /= PRECISION_LR_SCALE
    return update


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_exact_phases_give_the_exact_log_likelihood_gradient():
    rbm, v = gaussian_rbm(), data_batch()
    exact = autograd_gradient(rbm, v)
    update = trainer_update(rbm, v)
    for name in ("W", "b", "c", "log_precision"):
        assert relative_error(update[name], exact[name]) < 1e-10, name
    # the precisions matter here: <v h'>_data - <v h'>_model without beta_v (the old update) is far off
    beta_free = update["W"] / rbm.precision[:, None]
    assert relative_error(beta_free, exact["W"]) > 0.3


def test_fixed_precision_leaves_it_untouched_and_w_b_c_exact():
    rbm, v = gaussian_rbm(learn_precision=False), data_batch()
    exact = autograd_gradient(rbm, v)
    update = trainer_update(rbm, v)
    for name in ("W", "b", "c"):
        assert relative_error(update[name], exact[name]) < 1e-10, name
    assert torch.count_nonzero(update["log_precision"]) == 0


def test_centred_update_is_the_gradient_in_centred_coordinates():
    """Montavon & Mueller's centring with Gaussian units: the update is the exact gradient with respect to
    (W, b~, c~, log beta_v), mapped to the book's parameters by b = b~ - W lambda, c = c~ - W' mu."""
    rbm, v = gaussian_rbm(), data_batch()
    g = torch.Generator().manual_seed(2)
    mu = torch.randn(N_VISIBLE, generator=g, dtype=torch.float64)  # an offset of beta_v * v
    lam = torch.rand(N_HIDDEN, generator=g, dtype=torch.float64)
    centred = autograd_gradient(rbm, v, hidden_offset=lam, visible_offset=mu)
    update = trainer_update(rbm, v, centering=True, offsets=(mu, lam))
    expected = {
        "W": centred["W"],
        "b": centred["b"] - centred["W"] @ lam,
        "c": centred["c"] - centred["W"].T @ mu,
        "log_precision": centred["log_precision"],
    }
    for name, value in expected.items():
        assert relative_error(update[name], value) < 1e-10, name
    assert relative_error(update["b"], autograd_gradient(rbm, v)["b"]) > 0.05  # centring does change the step


def test_a_pcd_step_from_model_samples_averages_to_the_exact_gradient():
    """The whole stochastic step (hidden inputs, Gibbs sampling, statistics) on 40,000 chains that start
    at exact model samples: its update is the exact gradient up to Monte Carlo error (measured at most 0.6%
    relative over ten seeds; the margin is 2%, where leaving beta_v out of the W and b statistics is 73% off)."""
    rbm, v = gaussian_rbm(), data_batch()
    n = 40_000
    g = torch.Generator().manual_seed(3)
    h = next(binary_states(N_HIDDEN))
    h = h[torch.multinomial(torch.softmax(rbm.log_unnormalized_hidden(h), 0), n, replacement=True, generator=g)]
    model_samples, _ = rbm.sample_v_given_h(h, generator=g)
    trainer = RBMTrainer(rbm.copy(), g)
    trainer.reset_chains(model_samples)
    trainer.step(v.repeat(n // len(v) + 1, 1)[:n], TrainConfig(method="pcd", k=1, lr=1.0, momentum=0.0, weight_decay=0.0))
    exact = autograd_gradient(rbm, v.repeat(n // len(v) + 1, 1)[:n])
    trainer.velocity["log_precision"] /= PRECISION_LR_SCALE
    errors = {name: relative_error(trainer.velocity[name], exact[name]) for name in exact}
    assert all(e < 0.02 for e in errors.values()), errors
