"""Write the Home-page pictures of the RBM pages from the pretrained MNIST checkpoint:
``python -m lab.rbm.home_pictures`` (needs only assets/rbm/mnist_pcd_500)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from engine.models.rbm import gibbs_step
from engine.tasks.rbm import ASSETS, load_pretrained
from lab.pictures import tile_grid, upscale

PICTURES = ASSETS.parent / "pictures"
SNAPSHOTS = (1, 4, 15, 30, 100, 300)


def filters_picture(W: torch.Tensor) -> np.ndarray:
    """The first 60 columns of W as 28 x 28 images, each with its own contrast."""
    return upscale(tile_grid(W.T[:60].reshape(-1, 28, 28).numpy(), ncols=10, pad=1, contrast="per_tile"), 3)


def chains_picture(rbm, n_chains: int = 5, seed: int = 0) -> np.ndarray:
    """Rows: chains started from uniform noise; columns: E[v | h] after each of SNAPSHOTS Gibbs steps."""
    g = torch.Generator().manual_seed(seed)
    v = torch.bernoulli(torch.full((n_chains, rbm.n_visible), 0.5), generator=g)
    columns = []
    for t in range(1, SNAPSHOTS[-1] + 1):
        v, h, _ = gibbs_step(rbm, v, 1.0, g)
        if t in SNAPSHOTS:
            columns.append(rbm.mean_v_given_h(h).reshape(n_chains, 28, 28))
    tiles = torch.stack(columns, dim=1).reshape(-1, 28, 28).numpy()
    return upscale(tile_grid(tiles, ncols=len(SNAPSHOTS), pad=2), 3)


def main() -> None:
    rbm, _ = load_pretrained("mnist")
    PICTURES.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        Image.fromarray(filters_picture(rbm.W)).save(PICTURES / "rbm.png")
        Image.fromarray(chains_picture(rbm)).save(PICTURES / "gibbs.png")


if __name__ == "__main__":
    main()
