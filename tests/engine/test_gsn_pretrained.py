"""The shipped MNIST checkpoints: walkback leaves fewer chain samples far from every training digit.

Measured on the pretrained DAEs in assets/gsn (trained with `genlab train gsn`, see
assets/README.md): 300 chains run 50 steps from coin-flip noise; a sample is "far" when
its Euclidean distance to the nearest training digit exceeds the 95th percentile of the
same distance for held-out digits. Skips when MNIST (../shared/data) or the assets are absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data import DataError
from engine.eval.neighbours import nearest_neighbours
from engine.models.gsn import load_model
from engine.tasks.gsn import load_split

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
ASSETS = ROOT / "assets" / "gsn"


@pytest.fixture(scope="module")
def mnist():
    try:
        return load_split("mnist", str(DATA))
    except DataError:
        pytest.skip("MNIST test files not in ../shared/data")


def far_fraction(model, split, threshold: float) -> float:
    g = torch.Generator().manual_seed(0)
    state = model.init_chain(torch.bernoulli(torch.full((300, model.config.n_visible), 0.5), generator=g))
    for _ in range(50):
        state = model.chain_step(state, g)
    _, dist = nearest_neighbours(state.mean.numpy(), split.train)
    return float((dist > threshold).mean())


def test_walkback_dae_leaves_fewer_spurious_samples_than_one_step(mnist):
    paths = {name: ASSETS / name for name in ("dae_walkback", "dae_onestep")}
    if not all(p.with_suffix(".safetensors").exists() for p in paths.values()):
        pytest.skip("pretrained DAEs not in assets/gsn")
    _, reference = nearest_neighbours(mnist.heldout[:500], mnist.train)
    threshold = float(np.quantile(reference, 0.95))
    far = {name: far_fraction(load_model(p)[0], mnist, threshold) for name, p in paths.items()}
    assert far["dae_walkback"] < 0.05
    assert far["dae_onestep"] > 2 * far["dae_walkback"] + 0.05
