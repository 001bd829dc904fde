"""Mean field (book 19.4): binary sparse coding's bound and fixed-point updates (eq. 19.44) against enumeration of the
2ⁿ states, and continuous mean field on a 2-D Gaussian (eq. 19.56) against its analytic fixed point."""

from __future__ import annotations

import numpy as np
import pytest

from engine.inference import binary_sparse_coding as bsc
from engine.inference import gaussian_mean_field as gmf
from engine.tasks.inference.meanfield import run_preset


def a_model(kind: str, n: int, seed: int, beta: float = 4.0, bias: float = -1.0) -> bsc.BinarySparseCoding:
    W = bsc.make_dictionary(kind, n, seed)
    rng = np.random.default_rng(seed + 100)
    return bsc.BinarySparseCoding(W, bias + 0.5 * rng.standard_normal(n), beta * (0.5 + rng.random(W.shape[0])))


CASES = [(kind, n, seed, inp) for kind in bsc.DICTIONARIES for n, seed in ((2, 0), (4, 1), (6, 2)) for inp in ("feature 1", "sample")]


@pytest.mark.parametrize("kind,n,seed,inp", CASES)
def test_bound_is_log_evidence_minus_kl_by_enumeration(kind, n, seed, inp):
    model = a_model(kind, n, seed)
    v = bsc.make_input(model, inp, seed)
    log_pv = bsc.exact_log_evidence(model, v)
    rng = np.random.default_rng(seed)
    for h_hat in (rng.random(n), bsc.sigmoid(model.b), np.full(n, 0.5)):
        L = bsc.bound(model, v, h_hat)
        kl = bsc.kl_to_posterior(model, v, h_hat)
        assert L <= log_pv + 1e-12
        assert kl >= -1e-12
        assert abs(L - (log_pv - kl)) < 1e-10


@pytest.mark.parametrize("kind,n,seed,inp", CASES)
def test_sequential_updates_never_lower_the_bound(kind, n, seed, inp):
    model = a_model(kind, n, seed, beta=8.0)
    v = bsc.make_input(model, inp, seed)
    h_hat = np.random.default_rng(seed + 7).random(n)
    previous = bsc.bound(model, v, h_hat)
    for _ in range(40):
        for i in range(n):  # every single-unit update, not only whole sweeps
            h_hat = bsc.update_unit(model, v, h_hat, i)
            now = bsc.bound(model, v, h_hat)
            assert now >= previous - 1e-10
            previous = now


@pytest.mark.parametrize("kind,n,seed,inp", CASES)
def test_sequential_fixed_point_satisfies_eq_19_44(kind, n, seed, inp):
    model = a_model(kind, n, seed)
    v = bsc.make_input(model, inp, seed)
    h_hat = bsc.sigmoid(model.b)
    for _ in range(500):
        h_hat = bsc.sequential_sweep(model, v, h_hat)
    assert bsc.fixed_point_residual(model, v, h_hat) < 1e-10
    # a fixed point is a stationary point of L: each coordinate update maximizes L over that unit, so no nudge raises it
    L = bsc.bound(model, v, h_hat)
    for i in range(n):
        for delta in (-1e-4, 1e-4):
            nudged = h_hat.copy()
            nudged[i] = np.clip(nudged[i] + delta, 1e-9, 1 - 1e-9)
            assert bsc.bound(model, v, nudged) <= L + 1e-12


def test_update_unit_is_the_argmax_of_the_bound_over_that_unit():
    model = a_model("random", 4, 3)
    v = bsc.make_input(model, "sample", 3)
    h_hat = np.array([0.3, 0.8, 0.1, 0.6])
    for i in range(4):
        grid = np.linspace(1e-6, 1 - 1e-6, 4001)
        values = [bsc.bound(model, v, np.where(np.arange(4) == i, g, h_hat)) for g in grid]
        assert abs(grid[int(np.argmax(values))] - bsc.update_unit(model, v, h_hat, i)[i]) < 3e-4  # the grid spacing is 2.5e-4


@pytest.mark.parametrize("n,seed", [(2, 0), (3, 1), (5, 2), (8, 3)])
def test_orthogonal_features_mean_field_equals_exact_marginals(n, seed):
    """Orthonormal columns and a scalar β: A = β I, the posterior is factorial and mean field is exact."""
    W = bsc.make_dictionary("orthogonal", n, seed)
    model = bsc.BinarySparseCoding(W, np.linspace(-2, 1, n), np.full(W.shape[0], 3.0))
    v = bsc.make_input(model, "sample", seed)
    assert np.max(np.abs(model.coupling - 3.0 * np.eye(n))) < 1e-12
    h_hat = bsc.sequential_sweep(model, v, np.full(n, 0.5))
    assert np.max(np.abs(h_hat - bsc.exact_marginals(model, v))) < 1e-10
    assert abs(bsc.bound(model, v, h_hat) - bsc.exact_log_evidence(model, v)) < 1e-10


def test_explaining_away_one_feature_takes_the_input():
    task = run_preset("Explaining away", 30)
    a = task.arrays()
    h, exact = a["h_hat"], a["exact"]
    assert h[0] > 0.9 and h[1] < 0.05  # mean field picks feature 1 and explains feature 2 away
    assert 0.3 < exact[0] < 0.7 and 0.3 < exact[1] < 0.7  # the exact posterior shares the explanation
    assert exact[0] + exact[1] == pytest.approx(1.0, abs=0.05)
    assert np.all(np.diff(a["bounds"]) >= -1e-10)
    assert a["bounds"][-1] <= float(a["log_pv"])


def test_parallel_updates_oscillate_and_damping_converges():
    undamped = run_preset("Parallel updates oscillate", 60).arrays()
    b = undamped["bounds"]
    assert np.sum(np.diff(b[20:]) < -1e-3) >= 10  # the bound keeps falling at every other iteration
    damped = run_preset("Damped parallel updates converge", 60)
    sequential = run_preset("Explaining away", 60)
    assert np.max(np.abs(damped.h_hat - sequential.h_hat)) < 1e-8
    assert bsc.fixed_point_residual(damped.model, damped.v, damped.h_hat) < 1e-8


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.5, 0.8, 0.95])
def test_gaussian_mean_field_converges_to_the_analytic_fixed_point(rho):
    p = gmf.correlated_posterior(rho, mean=(1.0, 0.5), std=(1.0, 0.7))
    q = gmf.FactorialGaussian(np.array([-1.5, 2.0]), np.ones(2))
    for t in range(2000):
        q = gmf.update_factor(p, q, t % 2)
    target = gmf.fixed_point(p)
    assert np.max(np.abs(q.means - p.mean)) < 1e-8
    assert np.max(np.abs(q.variances - 1.0 / np.diag(p.precision))) < 1e-12
    assert np.max(np.abs(target.variances - (1 - rho**2) * np.array([1.0, 0.49]))) < 1e-12
    # at the fixed point KL(q || p) = -½ log(1 − ρ²) (log det of the correlation matrix), the gap a factorial q cannot close
    assert gmf.kl_to_posterior(q, p) == pytest.approx(-0.5 * np.log(1 - rho**2), abs=1e-10)


def test_gaussian_factor_update_minimises_kl_over_that_factor():
    p = gmf.correlated_posterior(0.7)
    q = gmf.FactorialGaussian(np.array([-1.0, 2.0]), np.array([0.5, 2.0]))
    best = gmf.update_factor(p, q, 0)
    kl = gmf.kl_to_posterior(best, p)
    for dm, ds in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
        other = gmf.FactorialGaussian(best.means + np.array([dm, 0.0]), best.variances + np.array([ds, 0.0]))
        assert gmf.kl_to_posterior(other, p) > kl
    # the closed-form KL against quadrature of q log(q/p) on a grid
    x = np.linspace(-14, 16, 1501)
    X, Y = np.meshgrid(x, x, indexing="ij")
    H = np.stack([X, Y], -1)
    log_q = sum(-0.5 * (H[..., i] - best.means[i]) ** 2 / best.variances[i] - 0.5 * np.log(2 * np.pi * best.variances[i]) for i in range(2))
    d = H - p.mean
    log_p = -0.5 * np.einsum("...i,ij,...j->...", d, p.precision, d) - np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(p.precision)[1]
    quad = float(np.sum(np.exp(log_q) * (log_q - log_p)) * (x[1] - x[0]) ** 2)
    assert quad == pytest.approx(kl, abs=1e-6)


def test_gaussian_task_alternates_factors_and_reaches_the_fixed_point():
    task = run_preset("Gaussian mean field", 1)
    assert task.arrays()["q_means"][1] == pytest.approx(2.0)  # step 1 updated q(h1) only
    task = run_preset("Gaussian mean field", 200)
    a = task.arrays()
    assert np.max(np.abs(a["q_means"] - a["mean"])) < 1e-8
    assert np.all(np.diff(a["kls"]) <= 1e-12)


@pytest.mark.parametrize("kind,n,seed", [("similar pair", 2, 0), ("random", 4, 1), ("orthogonal", 5, 2)])
def test_pair_marginal_sums_the_enumerated_posterior(kind, n, seed):
    model = a_model(kind, n, seed)
    v = bsc.make_input(model, "sample", seed)
    table = bsc.exact_pair_marginal(model, v, 0, 1)
    marginals = bsc.exact_marginals(model, v)
    assert table.sum() == pytest.approx(1.0, abs=1e-12)
    assert table[1].sum() == pytest.approx(marginals[0], abs=1e-12)
    assert table[:, 1].sum() == pytest.approx(marginals[1], abs=1e-12)
    q = bsc.factorial_pair(np.array([0.3, 0.8]))
    assert q[1, 0] == pytest.approx(0.3 * 0.2, abs=1e-15) and q.sum() == pytest.approx(1.0, abs=1e-15)


def test_explaining_away_puts_the_exact_joint_on_one_feature_or_the_other():
    a = run_preset("Explaining away", 30).arrays()
    exact, q = a["exact_pair_12"], a["q_pair_12"]
    assert exact[1, 0] + exact[0, 1] > 0.95  # exactly one of the two similar features explains v
    assert q[1, 0] > 0.9  # mean field chose feature 1
