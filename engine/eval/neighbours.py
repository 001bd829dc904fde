"""Nearest training neighbours of generated samples: is the model copying its training set?

Book section 20.14: showing each sample beside its nearest training example (in
Euclidean pixel distance) is the usual check that a sampler is not memorising.
"""

from __future__ import annotations

import numpy as np
import torch


def nearest_neighbours(samples: np.ndarray | torch.Tensor, train: np.ndarray | torch.Tensor, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """For every sample (N, D), the index of its nearest training point (M, D) and the Euclidean distance to it."""
    s = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(len(samples), -1)
    t = torch.as_tensor(np.asarray(train, dtype=np.float32)).reshape(len(train), -1)
    if s.shape[1] != t.shape[1]:
        raise ValueError(f"samples have {s.shape[1]} pixels but the training images have {t.shape[1]}")
    idx, dist = [], []
    for i in range(0, len(s), batch):
        d = torch.cdist(s[i : i + batch], t)
        v, j = d.min(1)
        idx.append(j)
        dist.append(v)
    return torch.cat(idx).numpy(), torch.cat(dist).numpy()


def fraction_far(samples, train, threshold: float) -> float:
    """Fraction of samples farther than ``threshold`` (Euclidean) from every training point: a spurious-mode count."""
    _, dist = nearest_neighbours(samples, train)
    return float((dist > threshold).mean())
