"""Write the Home-page pictures of the GSN pages from the pretrained DAE: ``python -m lab.gsn.home_pictures``.

Needs MNIST's test files (``--data-root`` or $GENLAB_DATA) and assets/gsn/dae_walkback.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from engine.models.clamp import region_mask, sample_clamped
from engine.models.corruption import corrupt
from engine.models.gsn import load_model
from engine.tasks.gsn import ASSETS, load_split
from lab.gsn.pictures import clamped_tiles

PICTURES = ASSETS.parent / "pictures"


@torch.no_grad()
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model, _ = load_model(ASSETS / "dae_walkback")
    split = load_split("mnist", args.data_root)
    g = torch.Generator().manual_seed(0)
    mask = region_mask("right", 28, 28)
    chain = sample_clamped(model, split.heldout[:12], mask, 30, generator=g)
    (PICTURES / "gsn_clamped.png").write_bytes(clamped_tiles(chain.means[-1].numpy().reshape(-1, 28, 28), mask, 6, scale=4))
    state = model.init_chain(torch.bernoulli(torch.full((12, 784), 0.5), generator=g))
    for _ in range(60):
        state = model.chain_step(state, g)
    (PICTURES / "gsn_chain.png").write_bytes(clamped_tiles(state.mean.numpy().reshape(-1, 28, 28), None, 6, scale=4))
    x = torch.bernoulli(torch.as_tensor(split.heldout[:6]), generator=g)
    x_tilde = corrupt(x, "salt_pepper", 0.3, g)
    rows = np.concatenate([t.numpy().reshape(-1, 28, 28) for t in (x, x_tilde, torch.sigmoid(model.reconstruct_logits(x_tilde)))])
    (PICTURES / "gsn_training.png").write_bytes(clamped_tiles(rows, None, 6, scale=4))


if __name__ == "__main__":
    main()
