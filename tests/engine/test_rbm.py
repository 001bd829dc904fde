"""RBM math against exact answers: brute-force sums over tiny models, quadrature, exact Markov chains."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.checkpoint import CheckpointError
from engine.models.rbm import RBM, binary_states, gibbs_step

torch.set_num_threads(1)


def random_rbm(nv: int, nh: int, scale: float = 1.0, visible: str = "bernoulli", seed: int = 0, dtype=torch.float64) -> RBM:
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(nv, nh, visible, dtype=dtype)
    rbm.W.copy_(scale * torch.randn(nv, nh, generator=g, dtype=dtype))
    rbm.b.copy_(scale * torch.randn(nv, generator=g, dtype=dtype))
    rbm.c.copy_(scale * torch.randn(nh, generator=g, dtype=dtype))
    if visible == "gaussian":
        rbm.log_precision.copy_(0.5 * torch.randn(nv, generator=g, dtype=dtype))
    return rbm


def all_states(n: int) -> torch.Tensor:
    return torch.cat(list(binary_states(n)))


def joint_log_table(rbm: RBM, beta: float = 1.0) -> torch.Tensor:
    """-beta E(v, h) for every (v, h) pair of a binary RBM: (2^nv, 2^nh)."""
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    vv = V.repeat_interleave(len(H), 0)
    hh = H.repeat(len(V), 1)
    return (-beta * rbm.energy(vv, hh)).reshape(len(V), len(H))


@pytest.mark.parametrize("beta", [1.0, 0.4])
def test_free_energy_is_minus_log_sum_over_h(beta):
    rbm = random_rbm(5, 4, scale=1.5)
    table = joint_log_table(rbm, beta)
    brute = -torch.logsumexp(table, 1) / beta
    assert torch.allclose(rbm.free_energy(all_states(5), beta), brute, atol=1e-10)


def test_gaussian_free_energy_is_minus_log_sum_over_h():
    rbm = random_rbm(3, 4, scale=0.7, visible="gaussian")
    v = torch.randn(6, 3, dtype=torch.float64)
    H = all_states(4)
    energies = torch.stack([rbm.energy(v[i].expand(len(H), -1), H) for i in range(len(v))])
    assert torch.allclose(rbm.free_energy(v), -torch.logsumexp(-energies, 1), atol=1e-10)


def test_conditionals_match_the_joint():
    rbm = random_rbm(5, 4, scale=1.2, seed=1)
    beta = 0.8
    p = torch.softmax(joint_log_table(rbm, beta).flatten(), 0).reshape(32, 16)
    V, H = all_states(5), all_states(4)
    p_h_given_v = p / p.sum(1, keepdim=True)  # (v, h)
    assert torch.allclose(p_h_given_v @ H, rbm.prob_h_given_v(V, beta), atol=1e-12)
    p_v_given_h = (p / p.sum(0, keepdim=True)).T  # (h, v)
    assert torch.allclose(p_v_given_h @ V, rbm.mean_v_given_h(H, beta), atol=1e-12)


def test_gaussian_conditional_is_the_normal_of_section_20_5_1():
    rbm = random_rbm(3, 2, scale=0.8, visible="gaussian", seed=2)
    h = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    v1, v2 = torch.randn(2, 1, 3, dtype=torch.float64)
    mean, prec = rbm.mean_v_given_h(h), rbm.precision

    def log_normal(v):
        return (-0.5 * prec * (v - mean) ** 2).sum()

    # E(v, h) differences over v for fixed h are minus log-density differences of N(b + Wh, 1/beta_v)
    assert float(rbm.energy(v2, h) - rbm.energy(v1, h)) == pytest.approx(float(log_normal(v1) - log_normal(v2)), abs=1e-10)


@pytest.mark.parametrize("nv,nh", [(6, 4), (4, 7)])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_exact_log_z_matches_full_enumeration(nv, nh, beta):
    rbm = random_rbm(nv, nh, scale=2.0, seed=nv)
    assert rbm.exact_log_z(beta) == pytest.approx(float(torch.logsumexp(joint_log_table(rbm, beta).flatten(), 0)), abs=1e-9)


def test_gaussian_exact_log_z_matches_quadrature():
    rbm = random_rbm(2, 3, scale=0.6, visible="gaussian", seed=3)
    grid = torch.linspace(-12, 12, 1201, dtype=torch.float64)
    v = torch.cartesian_prod(grid, grid)
    log_density = -rbm.free_energy(v)
    cell = float(grid[1] - grid[0]) ** 2
    quadrature = float(torch.logsumexp(log_density, 0)) + math.log(cell)
    assert rbm.exact_log_z() == pytest.approx(quadrature, abs=1e-6)


def test_exact_log_z_refuses_large_layers():
    with pytest.raises(ValueError, match="at most 24"):
        RBM(30, 30).exact_log_z()


def test_long_gibbs_chain_reproduces_the_exact_marginal():
    rbm = random_rbm(6, 4, scale=1.0, seed=4, dtype=torch.float32)
    exact = torch.softmax(-rbm.to(dtype=torch.float64).free_energy(all_states(6)), 0).numpy()
    g = torch.Generator().manual_seed(0)
    v = torch.bernoulli(torch.full((500, 6), 0.5), generator=g)
    counts = np.zeros(64)
    codes = 2 ** torch.arange(5, -1, -1, dtype=torch.float32)
    for t in range(400):
        v, _, _ = gibbs_step(rbm, v, generator=g)
        if t >= 50:
            counts += np.bincount((v @ codes).long().numpy(), minlength=64)
    tv = 0.5 * np.abs(counts / counts.sum() - exact).sum()
    assert tv < 0.02


def test_clamped_units_stay_put_in_a_gibbs_step():
    rbm = random_rbm(8, 5, seed=5, dtype=torch.float32)
    v = torch.bernoulli(torch.full((50, 8), 0.5))
    clamp = torch.zeros(8, dtype=torch.bool)
    clamp[:3] = True
    out, _, _ = gibbs_step(rbm, v, clamp=clamp)
    assert torch.equal(out[:, :3], v[:, :3])


def test_checkpoint_round_trip(tmp_path):
    rbm = random_rbm(7, 3, visible="gaussian", dtype=torch.float32)
    rbm.save(tmp_path / "m", extra={"dataset": "frey"})
    back, extra = RBM.load(tmp_path / "m")
    assert extra == {"dataset": "frey"} and back.config == rbm.config
    assert max(float((a - back.parameters()[k]).abs().max()) for k, a in rbm.parameters().items()) == 0.0


def test_wrong_shape_or_corrupt_checkpoint_names_the_file_and_leaves_the_model(tmp_path):
    random_rbm(7, 3, dtype=torch.float32).save(tmp_path / "small")
    running = random_rbm(7, 5, seed=9, dtype=torch.float32)
    before = running.W.clone()
    with pytest.raises(CheckpointError, match="small.safetensors"):
        running.load_into(tmp_path / "small")
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "bad.json").write_text('{"family": "rbm", "config": {"n_visible": 7, "n_hidden": 5}, "extra": {}}')
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        running.load_into(tmp_path / "bad")
    assert float((running.W - before).abs().max()) == 0.0
