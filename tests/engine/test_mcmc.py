"""Chain diagnostics (engine.eval.mcmc) against exact answers: enumeration, an AR(1) process, a hand-computed TV."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from engine.eval.mcmc import autocorrelation, exact_visible_distribution, total_variation
from engine.models.rbm import RBM


def test_the_exact_visible_distribution_sums_exp_minus_energy_over_every_v_and_h():
    g = torch.Generator().manual_seed(3)
    rbm = RBM(4, 3, dtype=torch.float64)
    rbm.W.copy_(torch.randn(4, 3, generator=g, dtype=torch.float64))
    rbm.b.copy_(torch.randn(4, generator=g, dtype=torch.float64))
    rbm.c.copy_(torch.randn(3, generator=g, dtype=torch.float64))
    weight = np.zeros(16)
    for k, v in enumerate(itertools.product((0.0, 1.0), repeat=4)):
        for h in itertools.product((0.0, 1.0), repeat=3):
            weight[k] += float(torch.exp(-rbm.energy(torch.tensor([v], dtype=torch.float64), torch.tensor([h], dtype=torch.float64))))
    np.testing.assert_allclose(exact_visible_distribution(rbm).numpy(), weight / weight.sum(), rtol=1e-12)
    with pytest.raises(ValueError, match="n_visible=21 is above 20"):
        exact_visible_distribution(RBM(21, 2))


def test_autocorrelation_of_an_ar1_process_is_its_coefficient_to_the_lag():
    rng = np.random.default_rng(0)
    x = np.zeros((20, 5000))
    for t in range(1, 5000):
        x[:, t] = 0.8 * x[:, t - 1] + rng.standard_normal(20)
    acf = autocorrelation(x, 3)
    assert acf[0] == pytest.approx(1.0) and acf[1] == pytest.approx(0.8, abs=0.02) and acf[2] == pytest.approx(0.64, abs=0.03)
    assert autocorrelation(np.ones((3, 50)), 5).tolist() == [1.0]


def test_total_variation_is_half_the_l1_distance_for_arrays_and_tensors():
    assert total_variation(np.array([0.5, 0.5, 0.0]), np.array([0.0, 0.5, 0.5])) == 0.5
    assert total_variation(torch.tensor([1.0, 0.0]), np.array([0.25, 0.75])) == 0.75
