"""Which KL? against exact answers: the quadrature KL against the closed form, the factorized and full Gaussian optima
of KL(q || p) and KL(p || q) for a Gaussian p (precisions 1 / Lambda_ii, marginal variances Sigma_ii, p itself), and
on the two-mode mixture the reverse fit staying on its mode and the forward fit matching the mixture's moments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from engine.device import configure_threads
from engine.inference import which_kl as kl
from engine.tasks.inference.kl import PARAMS, PRESETS, WhichKLTask, fit_q, make_target

configure_threads()  # GENLAB_THREADS=1 on the shared machine

GRID = kl.make_grid()


@pytest.fixture(scope="module")
def task() -> WhichKLTask:
    return WhichKLTask(GRID)


@pytest.mark.parametrize(("mean0", "cov0", "mean1", "cov1"), [
    ((0.3, -0.2), [[0.5, 0.1], [0.1, 0.8]], (0.0, 0.4), [[1.0, 0.7], [0.7, 1.0]]),
    ((1.0, 1.0), [[0.2, 0.0], [0.0, 0.3]], (-0.5, 0.2), [[1.0, -0.4], [-0.4, 0.6]]),
    ((0.0, 0.0), [[1.0, 0.9], [0.9, 1.0]], (0.0, 0.0), [[0.19, 0.0], [0.0, 0.19]]),
])  # fmt: skip
def test_quadrature_kl_of_two_gaussians_matches_the_closed_form(mean0, cov0, mean1, cov1):
    """Both directions by quadrature on the page's grid against 1/2 [tr + Mahalanobis - d + log det ratio], within 1e-6,
    for densities like the page's (variances at most 1, means within 1 of the origin: the grid [-7, 7]^2 holds their tails)."""
    mean0, cov0, mean1, cov1 = (np.array(a, float) for a in (mean0, cov0, mean1, cov1))
    p = kl.Target(np.ones(1), mean1[None], cov1[None])
    log_p = kl.target_log_density(p, GRID.points)
    theta = kl.theta_of(mean0, cov0, "full")
    values = {w: float(v) for w, v in kl.both_divergences(theta, log_p, GRID, "full").items()}
    assert values["reverse"] == pytest.approx(kl.gaussian_kl(mean0, cov0, mean1, cov1), abs=1e-6)
    assert values["forward"] == pytest.approx(kl.gaussian_kl(mean1, cov1, mean0, cov0), abs=1e-6)


def test_gaussian_kl_closed_form_against_numbers_by_hand():
    """KL(N(0, 1/4 I) || N((1, 0), I)) = 1/2 (1/2 + 1 - 2 + 2 log 4) = 1.136294..."""
    value = kl.gaussian_kl(np.zeros(2), 0.25 * np.eye(2), np.array([1.0, 0.0]), np.eye(2))
    assert value == pytest.approx(0.5 * (0.5 + 1.0 - 2.0 + 2.0 * np.log(4.0)), abs=1e-12)


def scipy_optimum(target: kl.Target, which: str, family: str, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimizer of the quadrature divergence by L-BFGS (gradient by autograd), independent of the page's steps."""
    log_p = kl.target_log_density(target, GRID.points)

    def value_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        values, grad = kl.divergences_and_gradient(torch.as_tensor(x, dtype=torch.float64), log_p, GRID, which, family)
        return values[which], grad.numpy()

    result = minimize(value_and_grad, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 500})
    mean, cov = kl.q_moments(torch.as_tensor(result.x, dtype=torch.float64), family)
    return mean.numpy(), cov.numpy()


GAUSSIAN_P = kl.correlated_gaussian(0.8, mean=(0.5, -0.3))
SIGMA = GAUSSIAN_P.covs[0]
LAMBDA = np.linalg.inv(SIGMA)
START = np.array([1.0, 0.5, np.log(0.7), np.log(0.9), 0.0])


def test_factorized_reverse_kl_optimum_has_p_diagonal_precisions_and_mean():
    """argmin over factorized q of KL(q || p) = N(mu, diag(1 / Lambda_ii)): here 1 - rho^2 = 0.36, not Sigma_ii = 1."""
    mean, cov = scipy_optimum(GAUSSIAN_P, "reverse", "factorized", START)
    np.testing.assert_allclose(mean, GAUSSIAN_P.means[0], atol=1e-6)
    np.testing.assert_allclose(np.diag(cov), 1.0 / np.diag(LAMBDA), atol=1e-6)
    np.testing.assert_allclose(np.diag(cov), 0.36, atol=1e-6)
    assert cov[0, 1] == 0.0


def test_factorized_forward_kl_optimum_has_p_marginal_variances_and_mean():
    mean, cov = scipy_optimum(GAUSSIAN_P, "forward", "factorized", START)
    np.testing.assert_allclose(mean, GAUSSIAN_P.means[0], atol=1e-6)
    np.testing.assert_allclose(np.diag(cov), np.diag(SIGMA), atol=1e-6)


@pytest.mark.parametrize("which", kl.DIVERGENCES)
def test_full_covariance_q_is_p_under_either_kl(which):
    mean, cov = scipy_optimum(GAUSSIAN_P, which, "full", START)
    np.testing.assert_allclose(mean, GAUSSIAN_P.means[0], atol=1e-6)
    np.testing.assert_allclose(cov, SIGMA, atol=1e-6)


@pytest.mark.parametrize(("which", "family"), [(w, f) for w in kl.DIVERGENCES for f in kl.FAMILIES])
def test_closed_form_optimum_of_a_gaussian_p(which, family):
    mean, cov = kl.closed_form_optimum(GAUSSIAN_P, which, family)
    expected = SIGMA if family == "full" else np.diag(1.0 / np.diag(LAMBDA)) if which == "reverse" else np.diag(np.diag(SIGMA))
    np.testing.assert_allclose(mean, (0.5, -0.3), atol=1e-15)
    np.testing.assert_allclose(cov, expected, atol=1e-15)


def test_mixture_moments_by_hand():
    """Means +-(d/2)(1, 1)/sqrt 2, std 0.6: mean 0, covariance 0.36 I + (d^2 / 8) [[1, 1], [1, 1]]."""
    mean, cov = kl.target_moments(kl.two_mode_mixture(4.0))
    np.testing.assert_allclose(mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(cov, [[2.36, 2.0], [2.0, 2.36]], atol=1e-12)
    assert kl.closed_form_optimum(kl.two_mode_mixture(4.0), "reverse", "full") is None


@pytest.mark.parametrize("rho", [-0.6, 0.9])
def test_page_gradient_steps_reach_the_mean_field_optimum(task, rho):
    """The page's own projected gradient steps (eta = 0.1, 400 steps) end on N(0, (1 - rho^2) I) within 1e-6, and the
    minimized KL never rises."""
    mean, cov, curve = fit_q({**PRESETS["Mean field under-estimates variance"], "rho": rho}, 400, task)
    np.testing.assert_allclose(mean, 0.0, atol=1e-6)
    np.testing.assert_allclose(cov, (1.0 - rho**2) * np.eye(2), atol=1e-6)
    assert int(np.sum(np.diff(curve) > 1e-12)) == 0
    assert curve[-1] == pytest.approx(kl.gaussian_kl(np.zeros(2), (1 - rho**2) * np.eye(2), np.zeros(2), make_target({"target": "gaussian", "rho": rho, "separation": 0}).covs[0]), abs=1e-6)


def test_page_full_covariance_fit_is_exact_for_a_gaussian_p(task):
    mean, cov, curve = fit_q(PRESETS["Full covariance q is exact for a Gaussian p"], 400, task)
    np.testing.assert_allclose(mean, 0.0, atol=1e-6)
    np.testing.assert_allclose(cov, [[1.0, 0.9], [0.9, 1.0]], atol=1e-6)
    assert abs(curve[-1]) < 1e-6


def test_forward_kl_on_the_mixture_matches_its_moments(task):
    """KL(p || q) covers both modes: q's mean is the mixture's mean and its covariance the mixture's, within 1e-4."""
    mean, cov, _ = fit_q(PRESETS["Forward KL covers both modes"], 600, task)
    m, s = kl.target_moments(kl.two_mode_mixture(4.0))
    np.testing.assert_allclose(mean, m, atol=1e-4)
    np.testing.assert_allclose(cov, s, atol=1e-4)


@pytest.mark.parametrize("start", [(1.5, 0.5), (-2.0, 0.0)])
def test_reverse_kl_on_the_mixture_stays_on_the_nearest_mode(task, start):
    """KL(q || p) from a start near one mode settles on it: mean within 0.02 of that mode, variances within 0.01 of the
    mode's 0.36 (the other mode is 4 apart), and KL within 0.01 of log 2 (q covers half of p's mass)."""
    params = {**PRESETS["Reverse KL picks one mode"], "start_x1": start[0], "start_x2": start[1]}
    mean, cov, curve = fit_q(params, 500, task)
    modes = kl.two_mode_mixture(4.0).means
    nearest = modes[np.argmin(np.linalg.norm(modes - np.array(start), axis=1))]
    assert np.linalg.norm(mean - nearest) < 0.02
    np.testing.assert_allclose(np.diag(cov), 0.36, atol=0.01)
    assert curve[-1] == pytest.approx(np.log(2.0), abs=0.01)


def test_every_preset_is_a_valid_setup_and_runs():
    for name, preset in PRESETS.items():
        full = PARAMS.complete(preset)
        t = WhichKLTask(kl.make_grid(7.0, 81))
        t.reset(full)
        metrics = t.step(full)
        assert set(metrics) >= {"kl_reverse", "kl_forward"}, name
        arrays = t.arrays()
        assert arrays["q_ellipses"].shape == (2, 97, 2)
        assert np.isfinite(arrays["p_density"]).all()


def test_covariance_ellipse_has_the_right_mahalanobis_radius():
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    points = kl.covariance_ellipse(np.array([1.0, -1.0]), cov, 2.0)
    d = points - np.array([1.0, -1.0])
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4.0, atol=1e-12)
