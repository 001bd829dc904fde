"""What the VAE pages share: pretrained checkpoints, data with a clear message, manifold pictures, image input.

Pictures only; the math lives in ``engine.models.vae`` and ``engine.eval``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from engine.data import DataError, Split
from engine.models.vae import VAE
from engine.tasks.vae import PRETRAINED, data_root, load_vae_data
from lab import views


@st.cache_resource(show_spinner="Loading the pretrained VAE ...")
def pretrained(dataset: str) -> tuple[VAE, dict[str, Any]] | None:
    """The pretrained N_z = 2 model for ``dataset`` (shared by every session, used under no_grad), or None."""
    path = PRETRAINED.get(dataset)
    if path is None or not path.with_suffix(".safetensors").exists():
        return None
    model, meta = VAE.load(path)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, meta


@st.cache_resource(show_spinner="Loading the data ...")
def _data(dataset: str, root: str | None) -> Split:
    return load_vae_data(dataset, root, download=False)


def vae_data(dataset: str) -> Split | None:
    """The dataset's train/test tensors, or None after showing why they are not available."""
    try:
        return _data(dataset, data_root())
    except DataError as err:
        st.info(f"{err}\n\nThe pretrained model still works; choose *8x8 digits* (always offline) to train here.", icon=":material/cloud_off:")
        return None


def manifold_width(shape: tuple[int, int], height: int) -> int:
    """The width in CSS pixels of a manifold picture (or of one of its tiles) of ``shape`` (rows, columns) shown ``height`` pixels tall."""
    return int(round(height * shape[1] / shape[0]))


def show_manifold(picture: np.ndarray, caption: str, height: int = 660) -> None:
    """A manifold picture about ``height`` pixels tall: sent at its own size, upscaled by the browser (see :func:`lab.views.crisp_pixels`)."""
    views.show_image(picture, caption, target_width=manifold_width(picture.shape, height))
