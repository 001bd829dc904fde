"""What the GSN pages share: the pretrained chains, the held-out digits, the pixel classifier and the mask canvas.

Pretrained models, data and the classifier are global ``st.cache_resource`` (read-only,
used under ``torch.no_grad``), so every page opens instantly after the first. The pictures
themselves (NumPy and Pillow only) are in lab/gsn/pictures.py.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from engine.data import DataError, Split, data_root
from engine.eval.inpainting import train_pixel_classifier
from engine.models.gsn import ChainModel, load_model
from engine.tasks.gsn import ASSETS, PRETRAINED, load_split
from lab.drawing import CANVAS_SIZE, canvas


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


def mnist_split(notice: bool = True) -> Split | None:
    """MNIST train / held-out images (test images 0..7999 / 8000..9999), or None, after saying why (``notice``)."""
    try:
        return _split(str(data_root()))
    except DataError as err:
        if notice:
            st.info(f"{err}\n\nThe GSN pages need MNIST's test files (set GENLAB_DATA to the folder holding mnist/).", icon=":material/cloud_off:")
        return None


def mnist_available() -> bool:
    """Whether MNIST's test files can be loaded (without showing anything)."""
    try:
        _split(str(data_root()))
        return True
    except DataError:
        return False


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
