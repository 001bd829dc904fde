"""RBM training and estimation against exact answers: AIS vs exact log Z, CD-k vs the exact gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data import load
from engine.eval.ais import AISResult, ais_log_z, average_log_likelihood, default_betas
from engine.eval.rbm_monitor import free_energy_gap, hidden_stats, pseudo_log_likelihood, reconstruction_error, update_ratio
from engine.models.rbm import RBM, binary_states
from engine.models.rbm_training import RBMTrainer, TrainConfig

torch.set_num_threads(1)


def random_rbm(nv, nh, scale, visible="bernoulli", seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(nv, nh, visible, dtype=dtype)
    rbm.W.copy_(scale * torch.randn(nv, nh, generator=g))
    rbm.b.copy_(scale * torch.randn(nv, generator=g))
    rbm.c.copy_(scale * torch.randn(nh, generator=g))
    return rbm


def bars_and_stripes() -> torch.Tensor:
    return torch.from_numpy(load("bars-stripes").as_float())


def exact_mean_log_likelihood(rbm: RBM, v: torch.Tensor) -> float:
    m = rbm.to(dtype=torch.float64)
    return float(-m.free_energy(v.double()).mean()) - m.exact_log_z()


def train(rbm: RBM, data: torch.Tensor, config: TrainConfig, updates: int, batch: int, seed: int = 0) -> RBMTrainer:
    g = torch.Generator().manual_seed(seed)
    trainer = RBMTrainer(rbm, g, data_mean=data.mean(0))
    for _ in range(updates):
        idx = torch.randint(len(data), (batch,), generator=g)
        trainer.step(data[idx], config)
    return trainer


@pytest.mark.parametrize("scale", [0.1, 0.5, 1.0])
def test_ais_is_within_a_tenth_of_a_nat_of_exact_log_z(scale):
    rbm = random_rbm(30, 12, scale, seed=int(10 * scale))
    result = ais_log_z(rbm, n_chains=100, n_betas=3000, seed=1)
    exact = rbm.exact_log_z()
    assert abs(result.log_z - exact) < 0.1
    assert result.log_z_low <= result.log_z <= result.log_z_high


def test_ais_on_a_trained_rbm_with_a_base_rate_model():
    data = torch.from_numpy(load("digits", "train").as_float())
    data = (data > 0.5).float()
    rbm = RBM(64, 16).init_random(torch.Generator().manual_seed(0)).init_visible_from_data(data)
    train(rbm, data, TrainConfig(method="pcd", k=1, lr=0.05, momentum=0.5), updates=400, batch=50)
    result = ais_log_z(rbm, n_chains=100, n_betas=3000, data=data)
    exact = rbm.exact_log_z()
    assert abs(result.log_z - exact) < 0.1
    ll = average_log_likelihood(rbm, data, result.log_z, result.log_z_low, result.log_z_high, "threshold")
    assert ll.mean == pytest.approx(exact_mean_log_likelihood(rbm, data), abs=0.1)
    assert ll.low <= ll.mean <= ll.high and ll.scheme == "threshold"


def test_ais_on_a_gaussian_rbm():
    rbm = random_rbm(10, 8, 0.3, visible="gaussian", seed=3)
    rbm.log_precision.fill_(0.5)
    result = ais_log_z(rbm, n_chains=100, n_betas=2000)
    assert abs(result.log_z - rbm.exact_log_z()) < 0.1


def test_default_betas_run_from_zero_to_one():
    betas = default_betas(1000)
    assert (len(betas), betas[0], betas[-1], float(np.diff(betas).min() > 0)) == (1000, 0.0, 1.0, 1.0)


def exact_gradient_W(rbm: RBM, data_dist: torch.Tensor, k: int | None) -> torch.Tensor:
    """<v P(h|v)'>_data - <v P(h|v)'>_neg, the negative phase after k exact Gibbs steps from the data
    (CD-k, as the trainer computes it) or under the model itself (k=None: the maximum-likelihood gradient)."""
    m = rbm.to(dtype=torch.float64)
    V, H = torch.cat(list(binary_states(m.n_visible))), torch.cat(list(binary_states(m.n_hidden)))
    ph = m.prob_h_given_v(V)  # (nv states, nh)
    stats = V[:, :, None] * ph[:, None, :]  # E[v h' | v] for every visible state
    p_h_v = torch.exp(torch.log(ph)[:, None, :] @ H.T[None] + torch.log1p(-ph)[:, None, :] @ (1 - H).T[None])[:, 0]  # P(h|v)
    pv = m.mean_v_given_h(H)
    p_v_h = torch.exp(torch.log(pv) @ V.T + torch.log1p(-pv) @ (1 - V).T)  # P(v|h)
    T = p_h_v @ p_v_h  # one Gibbs step v -> v'
    if k is None:
        neg_dist = torch.softmax(-m.free_energy(V), 0)
    else:
        neg_dist = data_dist @ torch.linalg.matrix_power(T, k)
    return torch.einsum("s,sij->ij", data_dist - neg_dist, stats)


def test_cd_k_gradient_approaches_the_maximum_likelihood_gradient():
    rbm = random_rbm(6, 4, 1.0, seed=7)
    V = torch.cat(list(binary_states(6)))
    data_dist = torch.zeros(64, dtype=torch.float64)
    data_dist[[3, 12, 48, 63, 21]] = 0.2
    ml = exact_gradient_W(rbm, data_dist, None)
    errors = [float((exact_gradient_W(rbm, data_dist, k) - ml).norm() / ml.norm()) for k in (1, 3, 10, 100)]
    assert errors[0] > 0.05 and all(a > b for a, b in zip(errors, errors[1:])) and errors[-1] < 1e-3

    # the trainer's CD-k update, averaged over a large batch, is that exact CD-k gradient
    data = V[data_dist > 0].float().repeat(20000, 1)
    for k in (1, 10):
        model = rbm.copy()
        trainer = RBMTrainer(model, torch.Generator().manual_seed(k))
        trainer.step(data, TrainConfig(method="cd", k=k, lr=1e-3, momentum=0.0, weight_decay=0.0))
        estimate = trainer.update.double() / 1e-3
        exact = exact_gradient_W(rbm, data_dist, k)
        assert float((estimate - exact).norm() / exact.norm()) < 0.05


@pytest.mark.parametrize("method,centering", [("cd", False), ("pcd", False), ("pcd", True)])
def test_training_raises_the_exact_log_likelihood_of_bars_and_stripes(method, centering):
    data = bars_and_stripes()
    rbm = RBM(16, 16).init_random(torch.Generator().manual_seed(0)).init_visible_from_data(data)
    before = exact_mean_log_likelihood(rbm, data)
    train(rbm, data, TrainConfig(method=method, k=1, lr=0.05, momentum=0.5, weight_decay=0.0, centering=centering), updates=1500, batch=30)
    after = exact_mean_log_likelihood(rbm, data)
    # uniform over the 30 patterns would be log(1/30) = -3.4 nats
    assert after > before + 2.0


def test_gaussian_rbm_with_learned_precision_raises_the_exact_log_likelihood():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 10, generator=g) * 2
    data = centers[torch.randint(3, (3000,), generator=g)] + 0.3 * torch.randn(3000, 10, generator=g)
    rbm = RBM(10, 6, "gaussian", learn_precision=True).init_random(g).init_visible_from_data(data)
    before = exact_mean_log_likelihood(rbm, data)
    train(rbm, data, TrainConfig(method="pcd", k=1, lr=0.003, momentum=0.5, weight_decay=0.0), updates=3000, batch=50)
    after = exact_mean_log_likelihood(rbm, data)
    assert after > before + 3.0


def test_pseudo_likelihood_matches_its_definition():
    rbm = random_rbm(7, 5, 1.0, seed=2, dtype=torch.float64)
    v = torch.bernoulli(torch.full((9, 7), 0.5, dtype=torch.float64))
    brute = 0.0
    for i in range(7):
        flipped = v.clone()
        flipped[:, i] = 1 - flipped[:, i]
        brute += torch.nn.functional.logsigmoid(rbm.free_energy(flipped) - rbm.free_energy(v)).mean()
    assert pseudo_log_likelihood(rbm, v) == pytest.approx(float(brute), abs=1e-10)


def test_monitors_give_their_numbers():
    rbm = random_rbm(16, 8, 0.5, seed=3)
    data = bars_and_stripes()
    recon = rbm.mean_v_given_h(rbm.prob_h_given_v(data))
    assert reconstruction_error(rbm, data) == pytest.approx(float(((data - recon) ** 2).sum(1).mean()), rel=1e-6)
    assert free_energy_gap(rbm, data, data) == 0.0
    assert update_ratio(0.001 * rbm.W, rbm.W) == pytest.approx(0.001, rel=1e-5)
    stats = hidden_stats(rbm, data)
    assert stats.mean_activation == pytest.approx(float(rbm.prob_h_given_v(data).mean()), rel=1e-6)


def test_effective_sample_size_and_degeneracy_of_ais_weights():
    def result(log_w):
        return AISResult(0.0, 0.0, 0.0, np.asarray(log_w, dtype=np.float64), 0.0, 10)

    equal = result(np.zeros(100))
    assert equal.effective_sample_size == pytest.approx(100.0) and not equal.degenerate
    one_dominates = result([50.0] + [0.0] * 99)  # one weight e^50 times the others: ESS = (1 + 99e^-50)^2 / (1 + 99e^-100) ~ 1
    assert one_dominates.effective_sample_size == pytest.approx(1.0) and one_dominates.degenerate
    ten_equal = result([0.0] * 10 + [-1000.0] * 90)  # ten equal weights, the rest 0: ESS = 10, exactly at the 10% line
    assert ten_equal.effective_sample_size == pytest.approx(10.0) and not ten_equal.degenerate
