"""What the GSN pages share: the pretrained chains, the held-out digits, the pixel classifier, and pictures.

Pretrained models, data and the classifier are global ``st.cache_resource`` (read-only,
used under ``torch.no_grad``), so every page opens instantly after the first.
Clamped pictures are drawn in colour: clamped pixels in gray, the free (resampled)
pixels in amber on dark blue, so a student sees at once which part the chain invents.
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from engine.data import DataError, data_root
from engine.eval.inpainting import train_pixel_classifier
from engine.models.gsn import ChainModel, load_model
from engine.tasks.gsn import ASSETS, PRETRAINED, Split, load_split
from lab.drawing import canvas

FREE_BACKGROUND = np.array([22, 32, 80], dtype=np.float32)
FREE_INK = np.array([255, 214, 90], dtype=np.float32)


@st.cache_resource(show_spinner="Loading the pretrained chains ...")
def pretrained_models() -> tuple[dict[str, ChainModel], dict[str, str]]:
    """Every pretrained checkpoint present in assets/gsn by name (dae_walkback, ...), and each one's title from its checkpoint."""
    models, titles = {}, {}
    for name in PRETRAINED:
        if (ASSETS / f"{name}.safetensors").exists():
            model, extra = load_model(ASSETS / name)
            for p in model.parameters():
                p.requires_grad_(False)
            models[name], titles[name] = model, extra.get("title", name)
    return models, titles


@st.cache_resource(show_spinner="Loading MNIST ...")
def _split(root: str) -> Split:
    return load_split("mnist", root, download=False)


def mnist_split() -> Split | None:
    """MNIST train / held-out images (test images 0..7999 / 8000..9999), or None after saying why."""
    try:
        return _split(str(data_root()))
    except DataError as err:
        st.info(f"{err}\n\nThe GSN pages need MNIST's test files (set GENLAB_DATA to the folder holding mnist/).", icon=":material/cloud_off:")
        return None


def mnist_available() -> bool:
    """Whether MNIST's test files can be loaded (without showing anything)."""
    try:
        _split(str(data_root()))
        return True
    except DataError:
        return False


CANVAS_SIZE = 280
MASK_INK = "rgba(255, 214, 90, 0.75)"


def painted_mask(rgba: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A canvas's RGBA drawing as a boolean mask of ``shape`` (True = painted): the painted canvas pixels (alpha > 0)
    averaged over the block each mask pixel covers, a mask pixel painted when at least half of its block is."""
    painted = np.asarray(rgba)[..., 3] > 0
    h, w = shape
    bh, bw = painted.shape[0] // h, painted.shape[1] // w
    if bh < 1 or bw < 1:
        raise ValueError(f"the canvas ({painted.shape[0]}x{painted.shape[1]}) is smaller than the mask ({h}x{w})")
    cover = painted[: h * bh, : w * bw].reshape(h, bh, w, bw).mean(axis=(1, 3))
    return cover >= 0.5


def paint_mask(key: str, shape: tuple[int, int], under: np.ndarray | None = None) -> np.ndarray | None:
    """A canvas to paint the pixels to KEEP (clamp) on, over the digit ``under`` (H, W) in [0, 1] when given;
    the painted mask (True = kept), or None while nothing is painted (or without the canvas package, after saying so)."""
    st_canvas = canvas()
    if st_canvas is None:
        st.warning("Painting a mask needs the package streamlit-drawable-canvas (pip install streamlit-drawable-canvas).")
        return None
    background = None
    if under is not None:
        gray = (np.clip(under, 0, 1) * 255).astype(np.uint8)
        background = Image.fromarray(gray).resize((CANVAS_SIZE, CANVAS_SIZE), Image.NEAREST).convert("RGB")
    drawn = st_canvas(stroke_width=24, stroke_color=MASK_INK, background_color="", background_image=background, height=CANVAS_SIZE,
                      width=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True, key=key)  # fmt: skip
    if drawn.image_data is None:
        return None
    return painted_mask(drawn.image_data, shape)


@st.cache_resource(show_spinner="Training the pixel classifier (logistic regression) ...")
def _classifier(root: str):
    split = _split(root)
    return train_pixel_classifier(split.train, split.train_labels)


def pixel_classifier():
    """The logistic-regression digit classifier on pixels, trained once on the 8000 training images."""
    return _classifier(str(data_root()))


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
    f, n, h, w = film.shape
    rows = min(rows, n)
    ordered = film[:, :rows].transpose(1, 0, 2, 3).reshape(rows * f, h, w)
    return clamped_tiles(ordered, mask, ncols=f, scale=scale)
