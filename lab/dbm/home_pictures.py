"""Write the Home-page pictures of the DBM pages from the pretrained checkpoint:
``python -m lab.dbm.home_pictures`` (needs assets/dbm/mnist and MNIST on disk)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from engine.models.dbn import DBN
from engine.tasks.dbm import ROOT, load_images, load_pretrained
from lab import pictures
from lab.dbm.pictures import grid_shape

PICTURES = ROOT / "assets" / "pictures"


def _save(picture: np.ndarray, name: str) -> None:
    PICTURES.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(PICTURES / name)


def meanfield_picture(trained, images: torch.Tensor) -> np.ndarray:
    """Rows: three test digits; columns: v, then mu1 after 0, 1, 2, 5 and 30 sequential iterations."""
    dbm = trained.dbm
    rows, cols = grid_shape(dbm.sizes[1])
    tiles = []
    for i in (0, 3, 7):
        v = torch.bernoulli(images[i : i + 1], generator=torch.Generator().manual_seed(0))
        trace = dbm.mean_field(v, 30, init="uniform", record=True)
        tiles.append(np.pad(v[0].reshape(28, 28).numpy(), ((0, max(0, rows - 28)), (0, max(0, cols - 28)))))
        for k in (0, 1, 2, 5, 30):
            tiles.append(np.pad(trace.history[k][0][0].reshape(rows, cols).numpy(), ((0, max(0, 28 - rows)), (0, max(0, 28 - cols)))))
    side = max(28, rows, cols)
    tiles = [np.pad(t, ((0, side - t.shape[0]), (0, side - t.shape[1]))) for t in tiles]
    return pictures.upscale(pictures.tile_grid(np.stack(tiles), ncols=6, pad=2), 3)


def filters_picture(trained) -> np.ndarray:
    w = trained.dbm.W[0].T[:60].reshape(-1, 28, 28).numpy()
    return pictures.upscale(pictures.tile_grid(w, ncols=10, pad=1, contrast="per_tile"), 3)


def sampling_picture(trained) -> np.ndarray:
    """Left: DBM Gibbs samples after 500 sweeps; right: DBN ancestral samples (500 top-RBM steps)."""
    g = torch.Generator().manual_seed(0)
    x = trained.dbm.sample(16, 500, g)
    dbm_v = torch.sigmoid(trained.dbm.layer_input(0, x)).reshape(-1, 28, 28).numpy()
    dbn = DBN.from_stack(trained.stack)
    _, dbn_v = dbn.down_pass(dbn.sample_top(16, 500, torch.Generator().manual_seed(0)))
    left = pictures.tile_grid(dbm_v, ncols=4, pad=1)
    right = pictures.tile_grid(dbn_v.reshape(-1, 28, 28).numpy(), ncols=4, pad=1)
    gap = np.full((left.shape[0], 6), 255, np.uint8)
    return pictures.upscale(np.concatenate([left, gap, right], axis=1), 3)


def main() -> None:
    trained = load_pretrained()
    images = load_images("mnist").heldout
    with torch.no_grad():
        _save(meanfield_picture(trained, images), "dbm_meanfield.png")
        _save(filters_picture(trained), "dbm_training.png")
        _save(sampling_picture(trained), "dbm_sampling.png")


if __name__ == "__main__":
    main()
