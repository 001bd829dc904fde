"""Pictures of the GSN pages in NumPy and Pillow only (no Streamlit: the bench and the Home-picture script use them).

Clamped pictures are drawn in colour: clamped pixels in gray, the free (resampled) pixels in
amber on dark blue, so a student sees at once which part the chain invents.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

FREE_BACKGROUND = np.array([22, 32, 80], dtype=np.float32)
FREE_INK = np.array([255, 214, 90], dtype=np.float32)

# --------------------------------------------------------------------------- pictures
# A picture is a palette PNG: indices 0..127 are grays (clamped or plain pixels), 128..255 the
# amber-on-blue ramp of free pixels. One byte per pixel and a fast zlib level keep a 64-chain
# frame plus its filmstrip well under the 40 ms a 25 fps animation allows (see `genlab bench gsn`).

LEVELS = 128
PAD_INDEX = LEVELS - 1  # white


def _palette() -> list[int]:
    v = np.linspace(0.0, 1.0, LEVELS)[:, None]
    grays = np.repeat(v * 255.0, 3, axis=1)
    free = FREE_BACKGROUND * (1 - v) + FREE_INK * v
    return np.round(np.concatenate([grays, free])).astype(np.uint8).ravel().tolist()


PALETTE = _palette()
PALETTE_RGB = np.asarray(PALETTE, dtype=np.uint8).reshape(-1, 3)


def picture_indices(images: np.ndarray, mask: np.ndarray | None, ncols: int, pad: int = 2, scale: int = 4) -> np.ndarray:
    """Palette indices of a tile grid of (N, H, W) images in [0, 1]; free pixels (mask False) in the amber ramp."""
    q = (np.clip(np.asarray(images, dtype=np.float32), 0, 1) * (LEVELS - 1) + 0.5).astype(np.uint8)
    if mask is not None:
        q += np.where(mask, 0, LEVELS).astype(np.uint8)[None]
    return _upscale(_grid(q, min(ncols, len(q)), pad), scale)


def _grid(tiles: np.ndarray, ncols: int, pad: int) -> np.ndarray:
    """Tiles (N, h, w) laid out ``ncols`` per row with ``pad`` pixels of PAD_INDEX around each, without a Python loop."""
    n, h, w = tiles.shape
    nrows = -(-n // ncols)
    cells = np.full((nrows * ncols, h + pad, w + pad), PAD_INDEX, dtype=np.uint8)
    cells[:n, pad:, pad:] = tiles
    body = cells.reshape(nrows, ncols, h + pad, w + pad).transpose(0, 2, 1, 3).reshape(nrows * (h + pad), ncols * (w + pad))
    return np.pad(body, ((0, pad), (0, pad)), constant_values=PAD_INDEX)


def _upscale(picture: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by broadcasting (one copy instead of two ``np.repeat``)."""
    h, w = picture.shape
    return np.broadcast_to(picture[:, None, :, None], (h, factor, w, factor)).reshape(h * factor, w * factor)


def colour(indices: np.ndarray) -> np.ndarray:
    """Palette indices as an RGB picture (H, W, 3) uint8, for the browser's canvas (lab.frames)."""
    return PALETTE_RGB[indices]


def colour_tiles(images: np.ndarray, mask: np.ndarray | None, ncols: int, pad: int = 2) -> np.ndarray:
    """The tile grid of :func:`clamped_tiles` as RGB at its own size (the browser upscales it)."""
    return colour(picture_indices(images, mask, ncols, pad, scale=1))


def tiles_width(ncols: int, width: int, pad: int = 2) -> int:
    """The width in pixels of a tile grid of ``ncols`` images ``width`` pixels wide (:func:`picture_indices` at scale 1)."""
    return ncols * (width + pad) + pad


def colour_filmstrip(film: np.ndarray, mask: np.ndarray | None, rows: int) -> np.ndarray:
    """The filmstrip of :func:`filmstrip` as RGB at its own size."""
    return colour(picture_indices(_film_order(film, rows), mask, ncols=film.shape[0], scale=1))


def png_bytes(indices: np.ndarray) -> bytes:
    """Encode palette indices as a PNG (zlib level 1: ~4x faster than Pillow's default, a little larger)."""
    image = Image.fromarray(indices, mode="P")
    image.putpalette(PALETTE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def clamped_tiles(images: np.ndarray, mask: np.ndarray | None, ncols: int, pad: int = 2, scale: int = 4) -> bytes:
    """PNG of a tile grid: clamped (or all, when mask is None) pixels gray, free pixels amber on dark blue."""
    return png_bytes(picture_indices(images, mask, ncols, pad, scale))


def filmstrip(film: np.ndarray, mask: np.ndarray | None, rows: int, scale: int = 3) -> bytes:
    """PNG of frames (F, N, H, W) with one example per row and time running left to right."""
    return clamped_tiles(_film_order(film, rows), mask, ncols=film.shape[0], scale=scale)


def _film_order(film: np.ndarray, rows: int) -> np.ndarray:
    """Frames (F, N, H, W) as tiles, the first ``rows`` examples one per row, time running left to right."""
    f, n, h, w = film.shape
    rows = min(rows, n)
    return film[:, :rows].transpose(1, 0, 2, 3).reshape(rows * f, h, w)
