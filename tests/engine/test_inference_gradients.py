"""Gradient estimators (K&W section 2.3-2.4) against exact answers: closed forms, Gauss-Hermite quadrature and the
1/L law of the variance of a mean; on the pretrained MNIST VAE, reparameterization against the score function."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from engine.inference.gradient_estimators import (
    ESTIMATORS,
    FUNCTIONS,
    closed_form_gradient,
    estimates,
    expected_value,
    f_gradient,
    f_value,
    loglog_slope,
    quadrature_gradient,
    single_sample_moments,
    variance_against_samples,
)
from engine.run import Run
from engine.tasks.inference.gradients import PARAMS, PRESETS, SAMPLE_COUNTS, GradientsTask, component_index

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
MU, SIGMA = np.array([0.3, -0.2]), np.array([0.8, 1.2])
SEEDS = (0, 1, 2, 3)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dim", (1, 2))
def test_the_gradient_of_f_matches_central_differences(name, dim):
    z = np.random.default_rng(0).standard_normal((50, dim))
    h = 1e-6
    numeric = np.stack([(f_value(name, z + h * e) - f_value(name, z - h * e)) / (2 * h) for e in np.eye(dim)], -1)
    assert np.abs(f_gradient(name, z) - numeric).max() < 1e-6


@pytest.mark.parametrize("name", ("quadratic", "sinusoid"))
@pytest.mark.parametrize("dim", (1, 2))
def test_quadrature_reproduces_the_closed_form_gradient(name, dim):
    mu, sigma = MU[:dim], SIGMA[:dim]
    assert np.abs(quadrature_gradient(name, mu, sigma) - closed_form_gradient(name, mu, sigma)).max() < 1e-10


def test_quadrature_of_the_score_function_integrand_agrees_with_the_reparameterized_one():
    """E[f s] = E[grad f (1, eps)] (Stein's lemma): two different integrands, one gradient, for the bumpy f too
    (within 1e-7), and both within 1e-7 of 300 nodes per dimension."""
    from engine.inference.gradient_estimators import gaussian_expectation, score

    for name in FUNCTIONS:
        reference = quadrature_gradient(name, MU, SIGMA, nodes=300)
        via_score = gaussian_expectation(lambda e, n=name: f_value(n, MU + SIGMA * e)[:, None] * score(SIGMA, e), 2)
        assert np.abs(via_score - reference).max() < 1e-7
        assert np.abs(quadrature_gradient(name, MU, SIGMA) - reference).max() < 1e-7


def test_expected_value_of_the_sinusoid_is_its_closed_form():
    closed = float((np.sin(3.0 * MU) * np.exp(-4.5 * SIGMA**2)).sum())
    assert abs(expected_value("sinusoid", MU, SIGMA) - closed) < 1e-12


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dim", (1, 2))
def test_all_three_estimators_are_unbiased_for_a_quadratic(seed, dim):
    """Mean over 4000 estimates (L = 4) within 4 standard errors of the analytic gradient, every component."""
    mu, sigma = MU[:dim], SIGMA[:dim]
    truth = closed_form_gradient("quadratic", mu, sigma)
    eps = np.random.default_rng(seed).standard_normal((4000, 4, dim))
    for name, est in estimates("quadratic", mu, sigma, eps, baseline=2.0).items():
        se = est.std(0, ddof=1) / np.sqrt(len(est))
        assert np.all(np.abs(est.mean(0) - truth) < 4 * se), name


@pytest.mark.parametrize("seed", SEEDS)
def test_the_measured_variances_match_the_exact_ones_and_order_as_claimed(seed):
    """Quadratic, mu = 0, sigma = 1 (D = 1): exact Var_1 of d/dmu are 30 (score), 18 (b = E f = 2) and 4 (reparam).
    Measured on 200000 single-sample estimates within 8% (the sample variance's relative sd, sqrt((kurtosis - 1) / n)
    with the exact kurtosis 42, 70 and 3, is 1.4%, 1.9% and 0.3%: at least 4 sd of margin); the
    baseline lowers the score function's variance by at least 30% and reparameterization is at least 5x below it."""
    mu, sigma = np.zeros(1), np.ones(1)
    moments = single_sample_moments("quadratic", mu, sigma)
    b = expected_value("quadratic", mu, sigma)
    exact = {e: moments.variance(e, b)[0] for e in ESTIMATORS}
    assert exact == pytest.approx({"score": 30.0, "baseline": 18.0, "reparam": 4.0}, rel=1e-10)
    eps = np.random.default_rng(seed).standard_normal((200000, 1, 1))
    measured = {e: float(v[:, 0].var(ddof=1)) for e, v in estimates("quadratic", mu, sigma, eps, b).items()}
    for e in ESTIMATORS:
        assert measured[e] == pytest.approx(exact[e], rel=0.08), e
    assert measured["baseline"] < 0.7 * measured["score"]
    assert measured["reparam"] < measured["score"] / 5


@pytest.mark.parametrize("seed", SEEDS)
def test_the_variance_falls_as_one_over_l(seed):
    """Log-log slope of the measured variance against L = 1 .. 256 within 0.1 of -1, every estimator and component."""
    curve = variance_against_samples("quadratic", MU, SIGMA, SAMPLE_COUNTS, 1000, 2.0, np.random.default_rng(seed))
    for i in range(len(ESTIMATORS)):
        for j in range(curve.shape[2]):
            assert abs(loglog_slope(SAMPLE_COUNTS, curve[:, i, j]) + 1.0) < 0.1


def test_a_far_constant_baseline_raises_the_variance():
    """b = -5 on the quadratic at mu = 0, sigma = 1: exact Var_1 95 > 30 for the plain score function."""
    m = single_sample_moments("quadratic", np.zeros(1), np.ones(1))
    assert m.variance("baseline", -5.0)[0] == pytest.approx(95.0, rel=1e-10)
    assert m.variance("score")[0] == pytest.approx(30.0, rel=1e-10)


def test_on_the_fast_sinusoid_the_score_function_beats_reparameterization():
    """The preset's claim: at mu = 0.5, sigma = 1, Var_1 of d/dmu is 4.5 (reparam) against 0.5 (score)."""
    m = single_sample_moments("sinusoid", np.array([0.5]), np.ones(1))
    assert m.variance("reparam")[0] == pytest.approx(4.5, abs=0.01)
    assert m.variance("score")[0] == pytest.approx(0.5, abs=0.01)


def test_the_task_converges_to_the_truth_and_its_running_baseline_is_e_f():
    run = Run(GradientsTask(), {**PARAMS.defaults(), "n_estimates": 2000})
    snap = run.step(10)
    run.close()
    a = snap.arrays
    assert np.array_equal(a["truth"], np.array([-2.0, 2.0]))
    exact_se = np.sqrt(a["exact_variance"] / int(a["estimates_drawn"]))
    assert np.all(np.abs(a["running_mean"] - a["truth"]) < 4 * exact_se)
    assert abs(float(a["batch_baseline"]) - 2.0) < 0.1  # E_q[(z - 1)^2] = 2, from 100 + 9 x 8000 samples
    assert np.all(np.abs(a["variance_slopes"] + 1.0) < 0.25)  # 300 estimates per L: a looser margin than the test above
    assert snap.latest("reparam_mu1") == pytest.approx(float(a["running_mean"][2, 0]))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_runs(preset):
    params = {**PARAMS.defaults(), **PRESETS[preset], "n_estimates": 100}
    run = Run(GradientsTask(), params)
    snap = run.step(1)
    run.close()
    assert snap.status != "failed"
    assert np.isfinite(snap.arrays["estimates"]).all()


def test_a_second_component_needs_two_dimensions():
    assert component_index("sigma2", 2) == 3
    with pytest.raises(ValueError, match="2-D"):
        component_index("mu2", 1)


# --------------------------------------------------------------------------- the pretrained MNIST VAE


@pytest.fixture
def mnist_vae(monkeypatch):
    from engine.data import DataError
    from engine.models.vae import VAE
    from engine.tasks.vae import PRETRAINED, heldout_rows, load_vae_data

    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    try:
        data = load_vae_data("mnist", str(SHARED), download=False)
    except DataError:
        pytest.skip("needs MNIST in ../shared/data")
    model, _ = VAE.load(PRETRAINED["mnist"])
    return model, heldout_rows(data)


def test_on_the_vae_reparameterization_has_far_lower_variance(mnist_vae):
    """Held-out images 0-3, L = 1, 2000 estimates: measured ratios 3,100x-28,000x per component; asserted >= 300x.
    Both estimators' means lie within 4 standard errors of the quadrature gradient."""
    from engine.tasks.inference.gradients import mnist_vae_gradients

    model, heldout = mnist_vae
    for image in range(4):
        r = mnist_vae_gradients(model, heldout, image, samples=1)
        assert np.all(r.score_variance > 300 * r.reparam_variance)
        for est in (r.score, r.reparam):
            assert np.all(np.abs(est.mean(0) - r.truth) < 4 * est.std(0, ddof=1) / np.sqrt(len(est)))
