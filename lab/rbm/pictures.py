"""The RBM pages' pictures as uint8 arrays (NumPy only): filters, sample grids, hidden activations, a training example."""

from __future__ import annotations

import numpy as np

from engine.data import Split
from lab.pictures import tile_grid, to_uint8


def example_picture(data: Split, index: int) -> np.ndarray:
    """Training example ``index`` (wrapped around) as a uint8 picture."""
    row = data.train[index % len(data.train)][None]
    return tile_grid(data.to_image(row), ncols=1, pad=0)


def filter_picture(filters: np.ndarray, max_filters: int = 500) -> np.ndarray:
    """Columns of W as images, each stretched to its own range (per-filter contrast)."""
    f = filters[:max_filters]
    ncols = int(np.ceil(np.sqrt(len(f) * 1.6)))
    return tile_grid(f, ncols=ncols, contrast="per_tile", pad=1)


def image_grid(images: np.ndarray, ncols: int | None = None) -> np.ndarray:
    """Images in [0, 1] as one tile grid."""
    return tile_grid(images, ncols=ncols, contrast="fixed", pad=1)


def activation_picture(probs: np.ndarray, width: int = 480, height: int = 200) -> np.ndarray:
    """P(h|v) for a batch: one row per example, one column per hidden unit (black 0, white 1),
    stretched to about width x height pixels whatever the number of units."""
    probs = np.asarray(probs, dtype=np.float32)
    rows, units = probs.shape
    pic = to_uint8(probs[None], "fixed")[0]
    pic = np.repeat(pic, max(1, width // units), axis=1)
    return np.repeat(pic, max(1, height // rows), axis=0)
