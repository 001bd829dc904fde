"""GSN lab estimators: Parzen windows, nearest neighbours, the inpainting score."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.eval.inpainting import fill_baselines, inpainting_score, train_pixel_classifier
from engine.eval.neighbours import fraction_far, nearest_neighbours
from engine.eval.parzen import PARZEN_WARNING, choose_bandwidth, parzen_estimate, parzen_log_likelihoods
from engine.models.gsn import build_model
from engine.tasks.gsn import load_split

torch.set_num_threads(1)


def test_parzen_of_one_sample_is_the_gaussian_density():
    rng = np.random.default_rng(0)
    s, x, sigma = rng.normal(size=(1, 5)), rng.normal(size=(3, 5)), 0.7
    expected = -((x - s) ** 2).sum(1) / (2 * sigma**2) - 2.5 * math.log(2 * math.pi * sigma**2)
    assert np.allclose(parzen_log_likelihoods(s, x, sigma).numpy(), expected, atol=1e-10)


def test_parzen_of_two_samples_is_their_mixture():
    s = np.array([[0.0, 0.0], [3.0, 0.0]])
    x = np.array([[1.0, 0.0]])
    sigma = 1.0
    dens = 0.5 * (math.exp(-0.5) + math.exp(-2.0)) / (2 * math.pi)
    assert parzen_log_likelihoods(s, x, sigma).item() == pytest.approx(math.log(dens), abs=1e-12)


def test_bandwidth_chosen_on_validation_is_near_the_true_scale():
    rng = np.random.default_rng(1)
    samples, valid, test = (0.3 * rng.normal(size=(n, 2)) for n in (2000, 500, 500))
    sigma, scores = choose_bandwidth(samples, valid, sigmas=np.linspace(0.05, 0.6, 12))
    assert 0.05 < sigma < 0.3 and len(scores) == 12
    result = parzen_estimate(samples, valid, test, sigmas=np.linspace(0.05, 0.6, 12))
    true_ll = -math.log(2 * math.pi * 0.09) - 1.0  # mean log N(x; 0, 0.3^2 I) in 2-D
    assert result.log_likelihood == pytest.approx(true_ll, abs=0.15)
    assert "section 20.14" in PARZEN_WARNING


def test_parzen_refuses_bad_bandwidth_and_mismatched_dimensions():
    with pytest.raises(ValueError, match="sigma must be positive"):
        parzen_log_likelihoods(np.zeros((2, 3)), np.zeros((1, 3)), 0.0)
    with pytest.raises(ValueError, match="samples have 3 dimensions but the points have 4"):
        parzen_log_likelihoods(np.zeros((2, 3)), np.zeros((1, 4)), 1.0)


def test_nearest_neighbours_finds_the_closest_training_point():
    train = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    samples = np.array([[9.0, 1.0], [1.0, 1.0], [0.0, 7.0]])
    idx, dist = nearest_neighbours(samples, train)
    assert idx.tolist() == [1, 0, 2]
    assert np.allclose(dist, [math.sqrt(2), math.sqrt(2), 3.0])
    assert fraction_far(samples, train, 2.0) == pytest.approx(1 / 3)


def test_inpainting_score_on_digits_lies_between_blank_and_intact():
    split = load_split("digits")
    classifier = train_pixel_classifier(split.train, split.train_labels)
    g = torch.Generator().manual_seed(0)
    model = build_model("dae", 8, 8, g, n_hidden=64, noise=0.2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.as_tensor(split.train)
    for _ in range(300):
        batch = torch.bernoulli(x[torch.randint(len(x), (64,), generator=g)], generator=g)
        loss = model.walkback_losses(batch, g).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    score = inpainting_score(model, classifier, split.heldout, split.heldout_labels, "right", split.train.mean(0), n_steps=20)
    assert score.intact_accuracy > 0.9
    assert score.n_images == len(split.heldout)
    assert score.blank_accuracy < score.accuracy <= score.intact_accuracy


class _ThresholdClassifier:
    """Label 1 where pixel 3 (a free pixel below) is above 0.5: what each fill puts there decides the label."""

    def predict(self, x):
        return (np.asarray(x)[:, 3] > 0.5).astype(int)


def test_fill_baselines_fill_the_free_pixels_with_the_mean_image_and_with_zeros():
    images = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
    labels = np.array([1, 1, 0])
    keep = np.array([True, True, False, False])
    got = fill_baselines(_ThresholdClassifier(), images, labels, keep, mean_image=np.array([0.5, 0.5, 0.5, 0.9]))
    assert got == {"intact": 1 / 3, "mean_fill": 2 / 3, "blank": 1 / 3}
    with pytest.raises(ValueError, match="mean image has 3 pixels"):
        fill_baselines(_ThresholdClassifier(), images, labels, keep, mean_image=np.zeros(3))
