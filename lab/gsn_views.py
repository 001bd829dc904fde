"""What the GSN pages share: the pretrained chains, the held-out digits, the pixel classifier, and pictures.

Pretrained models, data and the classifier are global ``st.cache_resource`` (read-only,
used under ``torch.no_grad``), so every page opens instantly after the first.
Clamped pictures are drawn in colour: clamped pixels in gray, the free (resampled)
pixels in amber on dark blue, so a student sees at once which part the chain invents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from engine.data import DataError, data_root
from engine.eval.inpainting import train_pixel_classifier
from engine.models.gsn import ChainModel, load_model
from engine.tasks.gsn import Split, load_split

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "gsn"
PRETRAINED = {
    "dae_walkback": "DAE, walkback training (k = 4)",
    "dae_onestep": "DAE, one-step training",
    "gsn": "GSN, 2 hidden layers, walkback",
}
FREE_BACKGROUND = np.array([22, 32, 80], dtype=np.float32)
FREE_INK = np.array([255, 214, 90], dtype=np.float32)


@st.cache_resource(show_spinner="Loading the pretrained chains ...")
def pretrained_models() -> dict[str, ChainModel]:
    """Every pretrained checkpoint present in assets/gsn, by its display name."""
    models = {}
    for name, label in PRETRAINED.items():
        if (ASSETS / f"{name}.safetensors").exists():
            model, _ = load_model(ASSETS / name)
            for p in model.parameters():
                p.requires_grad_(False)
            models[label] = model
    return models


@st.cache_resource(show_spinner="Loading MNIST ...")
def _split(root: str) -> Split:
    return load_split("mnist", root)


def mnist_split() -> Split | None:
    """MNIST train / held-out images (test images 0..7999 / 8000..9999), or None after saying why."""
    try:
        return _split(str(data_root()))
    except DataError as err:
        st.error(f"{err}\n\nThe GSN pages need MNIST's test files (set GENLAB_DATA to the folder holding mnist/).", icon=":material/cloud_off:")
        return None


def mnist_available() -> bool:
    """Whether MNIST's test files can be loaded (without showing anything)."""
    try:
        _split(str(data_root()))
        return True
    except DataError:
        return False


@st.cache_resource(show_spinner="Training the pixel classifier (logistic regression) ...")
def _classifier(root: str):
    split = _split(root)
    return train_pixel_classifier(split.train, split.train_labels)


def pixel_classifier():
    """The logistic-regression digit classifier on pixels, trained once on the 8000 training images."""
    return _classifier(str(data_root()))


# --------------------------------------------------------------------------- pictures


def clamped_tiles(images: np.ndarray, mask: np.ndarray | None, ncols: int, pad: int = 2, scale: int = 4) -> np.ndarray:
    """RGB tile grid of (N, H, W) images in [0, 1]: clamped pixels gray, free pixels amber on dark blue."""
    n, h, w = images.shape
    v = np.clip(images, 0, 1)[..., None].astype(np.float32)
    gray = np.repeat(v * 255.0, 3, axis=-1)
    if mask is not None:
        tinted = FREE_BACKGROUND * (1 - v) + FREE_INK * v
        gray = np.where(mask[None, :, :, None], gray, tinted)
    tiles = gray.astype(np.uint8)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = tiles[i]
    return np.repeat(np.repeat(out, scale, axis=0), scale, axis=1)


def filmstrip(film: np.ndarray, mask: np.ndarray | None, rows: int, scale: int = 3) -> np.ndarray:
    """Frames (F, N, H, W) laid out with one example per row and time running left to right."""
    f, n, h, w = film.shape
    rows = min(rows, n)
    ordered = film[:, :rows].transpose(1, 0, 2, 3).reshape(rows * f, h, w)
    return clamped_tiles(ordered, mask, ncols=f, scale=scale)
