"""The a*b game and the Dirac-GAN against their closed-form dynamics."""

from __future__ import annotations

import numpy as np
import pytest

from engine.models.game import (
    RULES,
    DiracGAN,
    alternating_invariant,
    bilinear_eigenvalues,
    bilinear_trajectory,
    radius,
    spectral_radius,
    theory_radius,
)


@pytest.mark.parametrize("lr", [0.05, 0.2, 0.7])
def test_simultaneous_radius_grows_by_exactly_sqrt_1_plus_lr2(lr):
    traj = bilinear_trajectory(0.6, -0.8, lr, 40, "simultaneous")
    ratios = radius(traj)[1:] / radius(traj)[:-1]
    np.testing.assert_allclose(ratios, np.sqrt(1 + lr * lr), rtol=1e-12)
    assert radius(traj)[-1] == pytest.approx((1 + lr * lr) ** 20, rel=1e-10)


def test_alternating_is_bounded_and_conserves_its_invariant():
    lr = 0.3
    traj = bilinear_trajectory(1.0, 0.5, lr, 5000, "alternating")
    inv = alternating_invariant(traj, lr)
    assert np.ptp(inv) < 1e-10
    assert inv[0] == pytest.approx(1.0 + 0.25 - 0.15)
    assert radius(traj).max() < 1.5 and radius(traj).min() > 0.8


def test_extragradient_contracts_at_its_theoretical_rate():
    lr = 0.3
    traj = bilinear_trajectory(1.0, 0.0, lr, 100, "extragradient")
    ratios = radius(traj)[1:] / radius(traj)[:-1]
    np.testing.assert_allclose(ratios, np.sqrt(1 - lr**2 + lr**4), rtol=1e-12)
    assert radius(traj)[-1] < 0.1


def test_flow_stays_on_the_circle_and_is_the_exact_rotation():
    traj = bilinear_trajectory(0.6, 0.8, 0.01, 628, "flow")
    np.testing.assert_allclose(radius(traj), 1.0, atol=1e-12)
    t = 0.01 * np.arange(629)
    np.testing.assert_allclose(traj[:, 0], 0.6 * np.cos(t) - 0.8 * np.sin(t), atol=1e-10)
    np.testing.assert_allclose(traj[:, 1], 0.6 * np.sin(t) + 0.8 * np.cos(t), atol=1e-10)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("lr", [0.1, 0.5])
def test_eigenvalue_magnitudes_match_theory(rule, lr):
    # a repeated eigenvalue (optimistic at lr = 0.5) is found only to about sqrt(machine epsilon)
    assert spectral_radius(lr, rule) == pytest.approx(theory_radius(lr, rule), rel=1e-7)


def test_eigenvalues_in_closed_form():
    lr = 0.4
    np.testing.assert_allclose(np.sort_complex(bilinear_eigenvalues(lr, "simultaneous")), [1 - 0.4j, 1 + 0.4j], atol=1e-12)
    np.testing.assert_allclose(np.abs(bilinear_eigenvalues(lr, "alternating")), [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(bilinear_eigenvalues(lr, "consensus", gamma=1.0)), np.sqrt(0.36 + 0.16), atol=1e-12)


def test_optimistic_and_consensus_converge():
    for rule in ("optimistic", "consensus"):
        assert radius(bilinear_trajectory(1.0, 1.0, 0.2, 400, rule))[-1] < 1e-2


def test_bad_rule_and_lr_raise():
    with pytest.raises(ValueError, match="rule"):
        bilinear_trajectory(1, 0, 0.1, 3, "newton")
    with pytest.raises(ValueError, match="lr"):
        bilinear_trajectory(1, 0, 0.0, 3, "simultaneous")


# --------------------------------------------------------------------------- Dirac-GAN


def test_dirac_gan_unregularized_simultaneous_does_not_converge():
    traj = DiracGAN(loss="minimax", lr=0.1).trajectory(1.0, 1.0, 3000)
    assert radius(traj)[-1] > radius(traj)[0]
    assert radius(traj).min() > 1.0


def test_dirac_gan_with_r1_converges():
    traj = DiracGAN(loss="nonsaturating", lr=0.1, r1=1.0).trajectory(1.0, 1.0, 3000)
    assert radius(traj)[-1] < 1e-6


def test_dirac_gan_with_instance_noise_converges():
    traj = DiracGAN(loss="minimax", lr=0.1, noise=0.7).trajectory(1.0, 1.0, 3000)
    assert radius(traj)[-1] < 1e-3


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating"])
def test_dirac_jacobian_at_equilibrium_matches_theory(loss):
    """At (0, 0): J = [[1, lr f'], [-lr f', 1 - lr*gamma - lr*s^2/2]] with f' = sigma(0) = 1/2."""
    lr, gamma, s = 0.2, 0.5, 0.4
    np.testing.assert_allclose(DiracGAN(loss=loss, lr=lr).jacobian(), [[1, lr / 2], [-lr / 2, 1]], atol=1e-8)
    np.testing.assert_allclose(DiracGAN(loss=loss, lr=lr, r1=gamma).jacobian(), [[1, lr / 2], [-lr / 2, 1 - lr * gamma]], atol=1e-8)
    np.testing.assert_allclose(DiracGAN(loss=loss, lr=lr, noise=s).jacobian(), [[1, lr / 2], [-lr / 2, 1 - lr * s * s / 2]], atol=1e-6)
    assert np.abs(DiracGAN(loss=loss, lr=lr).eigenvalues()).max() == pytest.approx(np.sqrt(1 + lr * lr / 4), rel=1e-8)


def test_dirac_wgan_is_the_bilinear_game():
    g = DiracGAN(loss="wgan", lr=0.3)
    assert np.abs(g.eigenvalues()).max() == pytest.approx(np.sqrt(1 + 0.09), rel=1e-9)
    traj = g.trajectory(1.0, 0.0, 10)
    np.testing.assert_allclose(radius(traj)[1:] / radius(traj)[:-1], np.sqrt(1.09), rtol=1e-12)


def test_dirac_alternating_orbits():
    """Alternating unregularized WGAN steps: determinant 1, bounded orbit."""
    g = DiracGAN(loss="wgan", lr=0.3, rule="alternating")
    assert np.linalg.det(g.jacobian()) == pytest.approx(1.0, abs=1e-9)
    r = radius(g.trajectory(1.0, 0.0, 2000))
    assert 0.5 < r.min() and r.max() < 2.0


def test_dirac_bad_config_raises():
    with pytest.raises(ValueError, match="loss"):
        DiracGAN(loss="hinge")
    with pytest.raises(ValueError, match="r1"):
        DiracGAN(r1=-1.0)
