"""Inpainting score: can a classifier read the digit the chain filled in?

A logistic-regression classifier on raw pixels (scikit-learn) is trained on the
training images. Each test image gets part of it clamped (e.g. its right half), the
chain resamples the rest (``clamp.sample_clamped``), and the classifier labels the
completed image; the score is its accuracy against the true labels. The same
classifier on the intact images gives the ceiling, and on images whose free part is
blank the floor.
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


@dataclass(frozen=True)
class InpaintingScore:
    region: str
    accuracy: float
    intact_accuracy: float
    blank_accuracy: float
    n_images: int
    n_steps: int


@torch.no_grad()
def inpainting_score(
    model, classifier, images: np.ndarray, labels: np.ndarray, region: str, n_steps: int = 50, noise: float | None = None, seed: int = 0
) -> InpaintingScore:
    """Accuracy of ``classifier`` on images completed by the clamped chain (the means of its last frame)."""
    c = model.config
    mask = region_mask(region, c.height, c.width)
    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    g = torch.Generator(device=model.b.device).manual_seed(seed)
    chain = sample_clamped(model, x, mask, n_steps, noise=noise, generator=g)
    completed = chain.means[-1].cpu().numpy()
    blank = np.where(mask.reshape(-1), x, 0.0)
    labels = np.asarray(labels)
    return InpaintingScore(
        region=region,
        accuracy=float((classify(classifier, completed) == labels).mean()),
        intact_accuracy=float((classify(classifier, x) == labels).mean()),
        blank_accuracy=float((classify(classifier, blank) == labels).mean()),
        n_images=len(x),
        n_steps=int(n_steps),
    )
