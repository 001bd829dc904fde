"""Inpainting score: can a classifier read the digit the chain filled in?

A logistic-regression classifier on raw pixels (scikit-learn) is trained on the
training images. Each test image gets part of it clamped (e.g. its right half), the
chain resamples the rest (``clamp.sample_clamped``), and the classifier labels the
completed image; the score is its accuracy against the true labels. The same
classifier on the intact images gives the ceiling. The floor a method must beat is the
mean-image fill: the free part replaced by the mean training image, which needs no model
at all (on MNIST's right-half task it scores about 66%, where a blank fill scores 50%);
the blank (zero) fill is reported beside it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from engine.models.clamp import region_mask, sample_clamped


def train_pixel_classifier(images: np.ndarray, labels: np.ndarray, max_iter: int = 200, seed: int = 0) -> LogisticRegression:
    """Multinomial logistic regression on pixel intensities in [0, 1], images (N, D) or (N, H, W)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=0.05, max_iter=max_iter, random_state=seed).fit(x, np.asarray(labels))


def classify(classifier: LogisticRegression, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """Predicted labels of images (N, D) or (N, H, W)."""
    x = np.asarray(images, dtype=np.float32)
    return classifier.predict(x.reshape(len(x), -1))


def fill_baselines(classifier: LogisticRegression, images: np.ndarray, labels: np.ndarray, mask: np.ndarray, mean_image: np.ndarray) -> dict[str, float]:
    """Accuracy on the intact images (the ceiling), with the free pixels (where ``mask`` is False) set to the mean
    training image (the floor a method must beat) and set to 0 (the blank fill); images (N, D) or (N, H, W)."""
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    keep = np.asarray(mask, dtype=bool).reshape(-1)
    fill = np.asarray(mean_image, dtype=np.float32).reshape(-1)
    if fill.shape != keep.shape:
        raise ValueError(f"mean image has {fill.size} pixels, the images {keep.size}")
    labels = np.asarray(labels)

    def accuracy(completed: np.ndarray) -> float:
        return float((classify(classifier, completed) == labels).mean())

    return {"intact": accuracy(x), "mean_fill": accuracy(np.where(keep, x, fill)), "blank": accuracy(np.where(keep, x, 0.0))}


@dataclass(frozen=True)
class InpaintingScore:
    region: str
    accuracy: float
    intact_accuracy: float
    mean_fill_accuracy: float
    """The floor: the free part filled with the mean training image."""
    blank_accuracy: float
    n_images: int
    n_steps: int


@torch.no_grad()
def inpainting_score(
    model,
    classifier,
    images: np.ndarray,
    labels: np.ndarray,
    region: str,
    mean_image: np.ndarray,
    n_steps: int = 50,
    noise: float | None = None,
    seed: int = 0,
) -> InpaintingScore:
    """Accuracy of ``classifier`` on images completed by the clamped chain (the means of its last frame), with the
    baselines of :func:`fill_baselines` (``mean_image``: the mean training image)."""
    c = model.config
    mask = region_mask(region, c.height, c.width)
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    g = torch.Generator(device=model.b.device).manual_seed(seed)
    chain = sample_clamped(model, x, mask, n_steps, noise=noise, generator=g)
    completed = chain.means[-1].cpu().numpy()
    baselines = fill_baselines(classifier, x, labels, mask, mean_image)
    return InpaintingScore(
        region=region,
        accuracy=float((classify(classifier, completed) == np.asarray(labels)).mean()),
        intact_accuracy=baselines["intact"],
        mean_fill_accuracy=baselines["mean_fill"],
        blank_accuracy=baselines["blank"],
        n_images=len(x),
        n_steps=int(n_steps),
    )
