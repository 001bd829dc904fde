"""Pictures: tile layout, contrast mapping and nearest-neighbour upscaling, pixel for pixel."""

import numpy as np
import pytest

from lab import pictures


def test_tile_grid_places_each_image():
    imgs = np.stack([np.full((2, 3), v, np.uint8) for v in (10, 20, 30)])
    grid = pictures.tile_grid(imgs, ncols=2, pad=1, pad_value=0)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1)
    assert (grid[1:3, 1:4] == 10).all() and (grid[1:3, 5:8] == 20).all() and (grid[4:6, 1:4] == 30).all()
    assert (grid[4:6, 5:8] == 0).all()  # the empty fourth slot
    assert pictures.tile_grid(imgs, ncols=2, scale=3).shape == (21, 27)


def test_contrast_modes():
    x = np.array([[[0.0, 0.5], [1.0, 2.0]], [[-1.0, 0.0], [0.0, 1.0]]], dtype=np.float32)
    np.testing.assert_array_equal(pictures.to_uint8(x, "fixed")[0], [[0, 128], [255, 255]])
    per = pictures.to_uint8(x, "per_tile")
    assert per[0].min() == 0 and per[0].max() == 255 and per[1].min() == 0 and per[1].max() == 255
    sym = pictures.to_uint8(x, "symmetric")
    assert sym[1, 0, 1] == 128 and sym[0, 1, 1] == 255 and sym[1, 0, 0] == 64
    with pytest.raises(ValueError):
        pictures.to_uint8(x, "loud")


def test_upscale_is_nearest_neighbour():
    p = np.array([[1, 2]], np.uint8)
    np.testing.assert_array_equal(pictures.upscale(p, 2), [[1, 1, 2, 2], [1, 1, 2, 2]])
    assert pictures.fit_scale(28, 560) == 20


def test_strip_and_nan_safety():
    s = pictures.strip(np.array([0.0, 1.0, np.nan]), height=3)
    assert s.shape == (3, 3) and s[0].tolist() == [0, 255, 0]
