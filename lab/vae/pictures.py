"""The VAE pages' pictures as uint8 arrays (NumPy and the decoder, no Streamlit): the manifold and tile grids."""

from __future__ import annotations

import numpy as np
import torch

from engine.models.vae import latent_grid
from lab.pictures import tile_grid


@torch.no_grad()
def manifold_picture(decoder: torch.nn.Module, image_shape: tuple[int, int], n: int) -> np.ndarray:
    """Decoder means at an n x n grid of Gaussian quantiles (K&W Figure 4), tiled edge to edge as one uint8 picture."""
    means = decoder.mean(latent_grid(n)).reshape(n * n, *image_shape).numpy()
    return tile_grid(means, ncols=n, pad=0)


def tiles(images: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """A uint8 tile grid of images in [0, 1] (N, H, W)."""
    return tile_grid(np.asarray(images, dtype=np.float32), ncols=ncols, pad=pad, pad_value=255)
