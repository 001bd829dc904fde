"""The DBM pages' pictures as uint8 arrays (NumPy only): layer activations, images with their observed pixels, sample and filter grids."""

from __future__ import annotations

import math

import numpy as np

from lab.pictures import fit_scale, tile_grid, to_uint8, upscale


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols = n as square as possible (500 -> 20 x 25), for a layer shown as an image."""
    rows = int(math.isqrt(n))
    while n % rows:
        rows -= 1
    return rows, n // rows


def layer_picture(values: np.ndarray, target_width: int = 260) -> np.ndarray:
    """One layer's unit values in [0, 1] as a near-square grey image (one pixel per unit), upscaled."""
    values = np.asarray(values, dtype=np.float32).ravel()
    rows, cols = grid_shape(len(values))
    if rows == 1 and len(values) > 16:  # a prime count: lay it out in a padded square
        cols = int(math.ceil(math.sqrt(len(values))))
        rows = int(math.ceil(len(values) / cols))
        values = np.concatenate([values, np.full(rows * cols - len(values), 0.5, np.float32)])
    pic = to_uint8(values.reshape(1, rows, cols))[0]
    return upscale(pic, fit_scale(cols, target_width))


def image_picture(v: np.ndarray, shape: tuple[int, int], target_width: int = 260, observed: np.ndarray | None = None) -> np.ndarray:
    """A visible vector as an image; free (unclamped) pixels tinted blue when ``observed`` is given."""
    gray = to_uint8(np.asarray(v, dtype=np.float32).reshape(1, *shape))[0]
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    if observed is not None:
        free = ~np.asarray(observed, dtype=bool).reshape(shape)
        rgb[free] = (0.55 * rgb[free] + 0.45 * np.array([40, 110, 230])).astype(np.uint8)
    return upscale(rgb, fit_scale(shape[1], target_width))


def samples_grid(v: np.ndarray, shape: tuple[int, int], ncols: int = 8, target_width: int = 520) -> np.ndarray:
    pic = tile_grid(np.asarray(v).reshape(-1, *shape), ncols=ncols)
    return upscale(pic, fit_scale(pic.shape[1], target_width))


def filter_grid(filters: np.ndarray, shape: tuple[int, int], ncols: int = 8) -> np.ndarray:
    """Filters (one row per unit) as image tiles, each stretched to its own range (black = its most negative weight, white = its most positive)."""
    return tile_grid(np.asarray(filters).reshape(-1, *shape), ncols=ncols, contrast="per_tile")


def units_picture(rows: np.ndarray, target_width: int = 520, height: int = 2) -> np.ndarray:
    """Binary states of a layer for several chains: one strip per chain."""
    rows = np.asarray(rows, dtype=np.float32)
    pic = np.repeat(to_uint8(rows[None])[0], height, axis=0)
    return upscale(pic, max(1, target_width // max(1, rows.shape[1])))
