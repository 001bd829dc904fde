"""DBM math against exact answers: mean-field fixed points and monotone bound, enumeration of tiny DBMs,
AIS against exact log Z, the two-block Gibbs sampler against the exact joint."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from engine import checkpoint
from engine.device import configure_threads
from engine.eval.dbm_ais import ais_log_z, held_out_bound
from engine.models.dbm import DBM, check_mean_field


configure_threads()  # GENLAB_THREADS=1 on the shared machine


def tiny_dbm(sizes=(4, 3, 2), seed=0, std=1.0, dtype=torch.float64) -> DBM:
    g = torch.Generator().manual_seed(seed)
    m = DBM(sizes, dtype=dtype)
    for t in m.parameters().values():
        t.copy_(std * torch.randn(t.shape, generator=g, dtype=dtype))
    return m


def all_joint_states(sizes):
    n = sum(sizes)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)
    out, start = [], 0
    for s in sizes:
        out.append(states[:, start : start + s])
        start += s
    return out


def brute_log_z(m: DBM) -> float:
    return torch.logsumexp(-m.energy(all_joint_states(m.sizes)), 0).item()


@pytest.mark.parametrize("sizes", [(4, 3, 2), (3, 2, 3, 2)])
def test_exact_log_z_matches_brute_force(sizes):
    m = tiny_dbm(sizes)
    assert m.exact_log_z() == pytest.approx(brute_log_z(m), abs=1e-9)
    assert m.exact_log_z(beta=0.3) == pytest.approx(torch.logsumexp(-0.3 * m.energy(all_joint_states(sizes)), 0).item(), abs=1e-9)


@pytest.mark.parametrize("sizes", [(4, 3, 2), (3, 2, 3, 2)])
def test_exact_log_prob_matches_brute_force(sizes):
    m = tiny_dbm(sizes, seed=1)
    x = all_joint_states(sizes)
    log_joint = -m.energy(x) - brute_log_z(m)
    v = torch.tensor([[1.0, 0, 1] + [0] * (sizes[0] - 3)], dtype=torch.float64)
    mask = (x[0] == v).all(-1)
    assert m.exact_log_prob(v).item() == pytest.approx(torch.logsumexp(log_joint[mask], 0).item(), abs=1e-9)
    every_v = torch.tensor(list(itertools.product([0.0, 1.0], repeat=sizes[0])), dtype=torch.float64)
    assert torch.logsumexp(m.exact_log_prob(every_v), 0).item() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("sizes", [(6, 5, 4), (5, 4, 3, 2)])
def test_mean_field_fixed_point_satisfies_eqs_20_33_20_34(sizes):
    m = tiny_dbm(sizes, seed=2, std=0.5)
    v = torch.bernoulli(torch.full((8, sizes[0]), 0.5, dtype=torch.float64), generator=torch.Generator().manual_seed(0))
    trace = m.mean_field(v, 200)
    assert m.fixed_point_residual(v, trace.mu).max().item() < 1e-6
    # eq. 20.33 and 20.34 written out for the 2-layer case
    if len(sizes) == 3:
        mu1, mu2 = trace.mu
        eq_20_33 = torch.sigmoid(v @ m.W[0] + mu2 @ m.W[1].T + m.bias[1])
        eq_20_34 = torch.sigmoid(mu1 @ m.W[1] + m.bias[2])
        assert (mu1 - eq_20_33).abs().max().item() < 1e-6
        assert (mu2 - eq_20_34).abs().max().item() < 1e-6
    assert trace.change[-1].max().item() < 1e-6


@pytest.mark.parametrize("damping", [0.0, 0.5])
@pytest.mark.parametrize("sizes", [(6, 5, 4), (5, 4, 3, 2)])
def test_sequential_mean_field_bound_never_decreases(sizes, damping):
    m = tiny_dbm(sizes, seed=3, std=2.0)
    v = torch.bernoulli(torch.full((16, sizes[0]), 0.5, dtype=torch.float64), generator=torch.Generator().manual_seed(1))
    for init in ("uniform", "zeros", "bottom_up"):
        trace = m.mean_field(v, 30, damping=damping, init=init)
        steps = trace.bound[1:] - trace.bound[:-1]
        assert steps.min().item() >= -1e-10


def test_parallel_mean_field_can_oscillate():
    """Two strongly coupled hidden layers: the parallel update flips both layers every iteration."""
    m = DBM((1, 1, 1), dtype=torch.float64)
    m.W[1].fill_(10.0)
    m.bias[1].fill_(-5.0)
    m.bias[2].fill_(-5.0)
    v = torch.zeros(1, 1, dtype=torch.float64)
    par = m.mean_field(v, 20, schedule="parallel", init=[torch.ones(1, 1), torch.zeros(1, 1)])
    seq = m.mean_field(v, 20, schedule="sequential", init=[torch.ones(1, 1), torch.zeros(1, 1)])
    assert par.change[-1].item() > 0.9
    assert seq.change[-1].item() < 1e-6


def test_mean_field_bound_below_exact_log_prob():
    m = tiny_dbm((5, 4, 3), seed=4)
    v = torch.tensor(list(itertools.product([0.0, 1.0], repeat=5)), dtype=torch.float64)
    exact = m.exact_log_prob(v)
    for n_iter in (0, 1, 5, 50):
        bound = m.mean_field(v, n_iter).bound[-1] - m.exact_log_z()
        gap = exact - bound
        assert gap.min().item() >= -1e-9
    assert gap.mean().item() < 1.0  # and close: mean field is a good posterior here


def test_bound_equals_log_prob_minus_kl_for_exact_posterior_one_hidden_unit_each():
    """With a single odd and no even hidden coupling, Q can be exact; the bound then hits log P(v)."""
    m = tiny_dbm((3, 2, 1), seed=5)
    m.W[1].zero_()  # h2 independent of h1: the posterior factorises, so mean field is exact
    v = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    bound = m.mean_field(v, 10).bound[-1] - m.exact_log_z()
    assert (bound - m.exact_log_prob(v)).abs().max().item() < 1e-9


def test_ais_matches_exact_log_z():
    m = tiny_dbm((6, 5, 4), seed=6, std=0.8, dtype=torch.float32)
    exact = m.exact_log_z()
    est = ais_log_z(m, n_chains=200, n_betas=1000, seed=0)
    assert abs(est.log_z - exact) < 0.1
    assert est.log_z_low <= est.log_z <= est.log_z_high


def test_ais_with_base_rates_matches_exact_log_z():
    m = tiny_dbm((6, 5, 4), seed=13, std=0.8, dtype=torch.float32)
    data = torch.bernoulli(torch.full((50, 6), 0.3), generator=torch.Generator().manual_seed(6))
    est = ais_log_z(m, n_chains=200, n_betas=1000, seed=2, data=data)
    assert abs(est.log_z - m.exact_log_z()) < 0.1
    assert est.base_log_z != pytest.approx(15 * math.log(2.0))


def test_ais_three_layers_matches_exact_log_z():
    m = tiny_dbm((4, 4, 3, 3), seed=7, std=0.8, dtype=torch.float32)
    est = ais_log_z(m, n_chains=200, n_betas=1000, seed=1)
    assert abs(est.log_z - m.exact_log_z()) < 0.1


def test_held_out_bound_uses_mean_field_and_ais():
    m = tiny_dbm((5, 4, 3), seed=8, std=0.7, dtype=torch.float32)
    v = torch.bernoulli(torch.full((20, 5), 0.5), generator=torch.Generator().manual_seed(2))
    est = ais_log_z(m, n_chains=100, n_betas=500, seed=3)
    bound = held_out_bound(m, v, est, "fixed", mf_iterations=20)
    expected = (m.mean_field(v, 20).bound[-1].double().mean() - est.log_z).item()
    assert bound.mean == pytest.approx(expected, abs=1e-5)
    assert bound.mean <= m.exact_log_prob(v).mean().item() + 0.1
    assert bound.low <= bound.mean <= bound.high
    assert bound.scheme == "fixed"


def _tv_distance(samples: list[torch.Tensor], m: DBM) -> float:
    sizes = m.sizes
    x = all_joint_states(sizes)
    p = torch.softmax(-m.to(dtype=torch.float64).energy(x), 0)
    weights = 2 ** torch.arange(sum(sizes) - 1, -1, -1, dtype=torch.float64)
    codes = (torch.cat(samples, -1).double() @ weights).long()
    counts = torch.bincount(codes, minlength=len(p)).double()
    return 0.5 * (counts / counts.sum() - p).abs().sum().item()


@pytest.mark.parametrize("sizes", [(3, 2, 2), (2, 2, 2, 2)])
def test_two_block_gibbs_reproduces_exact_joint(sizes):
    m = tiny_dbm(sizes, seed=9, std=0.8, dtype=torch.float32)
    g = torch.Generator().manual_seed(4)
    x = m.sample(2000, sweeps=30, generator=g)
    collected = []
    for _ in range(20):
        x = m.gibbs_sweep(x, generator=g)
        collected.append(x)
    samples = [torch.cat([c[l] for c in collected]) for l in range(len(sizes))]
    assert _tv_distance(samples, m) < 0.03


def test_clamped_gibbs_samples_the_posterior():
    m = tiny_dbm((3, 2, 2), seed=10, std=0.8, dtype=torch.float32)
    v = torch.tensor([[1.0, 0.0, 1.0]]).repeat(4000, 1)
    g = torch.Generator().manual_seed(5)
    x = [v, *m.random_state(4000, g)[1:]]
    for _ in range(30):
        x = m.gibbs_sweep(x, generator=g, clamp_visible=True)
    assert torch.equal(x[0], v)
    joint = all_joint_states(m.sizes)
    mask = (joint[0] == v[0].double()).all(-1)
    post = torch.softmax(-m.to(dtype=torch.float64).energy(joint)[mask], 0)
    exact_mean_h1 = (post[:, None] * joint[1][mask]).sum(0)
    assert (x[1].mean(0).double() - exact_mean_h1).abs().max().item() < 0.04


def test_energy_matches_book_formula():
    m = tiny_dbm((4, 3, 2), seed=11)
    x = all_joint_states(m.sizes)
    v, h1, h2 = x
    book = -(v @ m.bias[0]) - h1 @ m.bias[1] - h2 @ m.bias[2] - ((v @ m.W[0]) * h1).sum(-1) - ((h1 @ m.W[1]) * h2).sum(-1)
    assert (m.energy(x) - book).abs().max().item() < 1e-12


def test_bad_sizes_and_mean_field_settings_are_refused():
    with pytest.raises(ValueError, match="hidden layers"):
        DBM((4, 3))
    with pytest.raises(ValueError, match="n2"):
        DBM((4, 3, 0))
    with pytest.raises(ValueError, match="damping"):
        check_mean_field(10, 1.0, "sequential")
    with pytest.raises(ValueError, match="iterations"):
        check_mean_field(-1, 0.0, "sequential")
    with pytest.raises(ValueError, match="schedule"):
        check_mean_field(10, 0.0, "random")
    with pytest.raises(ValueError, match="at most"):
        DBM((4, 30, 2)).exact_log_z()


def test_checkpoint_roundtrip(tmp_path):
    m = tiny_dbm((6, 5, 4), seed=12, dtype=torch.float32)
    m.save(tmp_path / "d", extra={"note": "x"})
    back, extra = DBM.load(tmp_path / "d")
    assert extra == {"note": "x"}
    assert checkpoint.read(tmp_path / "d", "dbm").config == {"sizes": [6, 5, 4], "image_shape": None}
    assert max((a - b).abs().max().item() for a, b in zip(m.parameters().values(), back.parameters().values())) == 0.0
    (tmp_path / "d.json").write_text('{"family": "dbm", "config": {"sizes": [6, 5]}, "extra": {}}')
    with pytest.raises(checkpoint.CheckpointError, match=r"d\.json: not a DBM config \(a DBM has 2 or 3 hidden layers"):
        DBM.load(tmp_path / "d")
    (tmp_path / "d.json").write_text('{"model": "dbm", "sizes": [6, 5, 4]}')  # the schema before the one checkpoint schema
    with pytest.raises(checkpoint.CheckpointError, match=r"d\.json: not in the checkpoint schema"):
        DBM.load(tmp_path / "d")
