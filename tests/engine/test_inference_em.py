"""EM for a Gaussian mixture (book section 19.2) against exact answers: the bound's two forms (eq. 19.1 and
eqs. 19.2-19.6) agree, the E-step closes the gap, the M-step never lowers L, log p never falls, a partial E-step
never lowers L, and the fixed point is scikit-learn's GaussianMixture from the same start."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from engine.inference import em
from engine.params import Params
from engine.tasks.inference.em import E_STEP, M_STEP, PRESETS, EMTask, falls
from lab.inference.em_check import climb_checks, partial_e_step_checks, sklearn_differences

CASES = [("three blobs", 3, "k-means++", 0), ("overlapping", 3, "random points", 1), ("five blobs", 5, "bad", 2), ("stretched", 4, "k-means++", 3)]


def setup(layout: str, k: int, init: str, seed: int, n: int = 120) -> tuple[np.ndarray, em.Mixture]:
    v = em.blob_data(layout, n, seed)
    return v, em.initial_mixture(v, k, init, np.random.default_rng(seed))


def test_log_joint_is_scipy_s_log_density_plus_log_weight():
    v, theta = setup("overlapping", 3, "random points", 4, n=30)
    theta = em.m_step(v, np.random.default_rng(0).dirichlet(np.ones(3), size=len(v)))  # full, distinct covariances
    expected = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(v) for w, m, c in zip(theta.weights, theta.means, theta.covariances)], axis=1)
    np.testing.assert_allclose(em.log_joint(v, theta), expected, rtol=1e-12, atol=1e-12)


def test_the_bound_is_log_p_minus_the_kl_gap_for_any_q():
    """eq. 19.1 = eqs. 19.2-19.6: E_q[log p(h, v)] + H(q) = log p(v) − KL(q ‖ p(h|v)), for random q, some entries 0."""
    v, theta = setup("three blobs", 3, "k-means++", 5, n=40)
    q = np.random.default_rng(1).dirichlet(np.ones(3) * 0.5, size=len(v))
    q[:5, 0] = 0.0
    q /= q.sum(axis=1, keepdims=True)
    assert em.gap(v, theta, q) > 0.1
    assert abs(em.bound(v, theta, q) - (em.log_likelihood(v, theta) - em.gap(v, theta, q))) <= 1e-10 * len(v)


@pytest.mark.parametrize("layout,k,init,seed", CASES)
def test_em_climbs_and_every_e_step_closes_the_gap(layout, k, init, seed):
    v, theta = setup(layout, k, init, seed)
    c = climb_checks(v, theta, 30)
    assert c["log_p_falls"] == 0 and c["max_relative_log_p_fall"] <= 1e-9
    assert c["max_gap_after_e_step_per_point"] <= 1e-10
    assert c["max_abs_bound_minus_log_p_after_e_step_per_point"] <= 1e-10
    assert c["max_bound_fall_at_m_step_per_point"] <= 1e-10


def test_the_m_step_is_the_maximum_of_l_over_theta():
    """Moving any of the M-step's π, μ, Σ a little lowers L (q fixed; no reg_covar, so the M-step is the exact argmax)."""
    v, theta = setup("overlapping", 3, "random points", 6)
    q = em.e_step(v, theta)
    best = em.m_step(v, q, reg_covar=0.0)
    top = em.bound(v, best, q)
    rng = np.random.default_rng(2)
    for _ in range(20):
        w = best.weights * np.exp(0.01 * rng.standard_normal(3))
        a = 0.01 * rng.standard_normal((3, 2, 2))
        moved = em.Mixture(w / w.sum(), best.means + 0.01 * rng.standard_normal((3, 2)), best.covariances + a @ a.transpose(0, 2, 1))
        assert em.bound(v, moved, q) < top


@pytest.mark.parametrize("layout,k,init,seed", CASES)
def test_the_fixed_point_is_scikit_learns(layout, k, init, seed):
    v, theta = setup(layout, k, init, seed)
    d = sklearn_differences(v, theta)
    assert d["max_abs_mean_difference"] <= 1e-6
    assert d["max_abs_covariance_difference"] <= 1e-6
    assert d["max_abs_weight_difference"] <= 1e-6
    assert d["abs_log_p_difference"] <= 1e-6


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_a_partial_e_step_never_lowers_l_and_leaves_a_gap(fraction):
    v, theta = setup("overlapping", 3, "k-means++", 7)
    c = partial_e_step_checks(v, theta, fraction, 20, np.random.default_rng(3))
    assert c["max_bound_fall"] <= 1e-10 * len(v)
    assert c["min_gap_after_partial_e_step"] > 1e-6


def test_a_partial_e_step_of_everything_is_the_e_step():
    v, theta = setup("three blobs", 3, "k-means++", 8)
    q, chosen = em.partial_e_step(v, theta, np.full((len(v), 3), 1 / 3), 1.0, np.random.default_rng(0))
    assert chosen.all()
    np.testing.assert_allclose(q, em.e_step(v, theta), rtol=0, atol=1e-15)


def test_initialisations_are_valid_and_seeded():
    v = em.blob_data("five blobs", 100, 0)
    for init in em.INITS:
        a, b = (em.initial_mixture(v, 5, init, np.random.default_rng(9)) for _ in range(2))
        np.testing.assert_array_equal(a.means, b.means)
        assert np.isclose(a.weights.sum(), 1.0) and len({tuple(m) for m in a.means}) == 5
        assert (np.linalg.eigvalsh(a.covariances) > 0).all()
    with pytest.raises(ValueError, match="init must be one of"):
        em.initial_mixture(v, 2, "nonsense", np.random.default_rng(0))


def test_the_bad_preset_stops_on_a_lower_hill_than_k_means_plus_plus():
    """The page's run (EMTask) from the preset, and from k-means++ on the same data, each to convergence."""
    finals = {}
    for init in ("bad", "k-means++"):
        task, p = EMTask(), EMTask.PARAMS.complete({**PRESETS["A bad start finds a local optimum"], "init": init, "n_iter": 200})
        task.reset(p)
        for _ in range(400):
            task.step(p)
        finals[init] = float(task.arrays()["log_p"][-1])
    assert finals["bad"] < finals["k-means++"] - 0.2  # measured: -3.535 against -3.205 nats per point


def test_the_task_alternates_half_steps_and_stops_after_n_iter():
    assert isinstance(EMTask.PARAMS, Params)
    task = EMTask()
    p = EMTask.PARAMS.complete({"n_points": 60, "n_iter": 3})
    task.reset(p)
    metrics = [task.step(p) for _ in range(8)]
    a = task.arrays()
    assert list(a["kinds"][1:]) == [E_STEP, M_STEP] * 3 and int(a["iteration"]) == 3 and metrics[-1] == {}
    assert np.all(np.abs(a["gap"][1::2]) <= 1e-12)  # after each E-step
    assert np.all(np.diff(a["bound"]) >= -1e-12)
    np.testing.assert_allclose(a["log_p"] - a["bound"], a["gap"], atol=1e-12)



def test_falls_counts_only_falls_beyond_rounding():
    assert falls(np.array([-10.0, -9.0, -9.0 - 1e-13, -9.5, -8.0, -8.1])) == 2


def test_every_preset_run_never_lowers_l():
    for preset in PRESETS.values():
        task, p = EMTask(), EMTask.PARAMS.complete({**preset, "n_iter": 25})
        task.reset(p)
        for _ in range(50):
            task.step(p)
        assert int(task.arrays()["bound_falls"]) == 0
