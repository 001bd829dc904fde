"""The GSN bench's NumPy peer runs the same chain as the engine: the same means from the same state when the chain
is deterministic, and the same distribution of means under each corruption and under the GSN's hidden noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.dae import ChainState
from engine.models.gsn import build_model
from lab.gsn.bench import NumpyChain

torch.set_num_threads(1)


def model(kind: str, corruption: str = "salt_pepper", noise: float = 0.3, hidden_noise: float = 1.0, seed: int = 0):
    extra = {"n_hidden": 32} if kind == "dae" else {"n_hidden1": 32, "n_hidden2": 16, "hidden_noise": hidden_noise}
    m = build_model(kind, 6, 5, torch.Generator().manual_seed(seed), corruption=corruption, noise=noise, **extra)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # sharper weights and biases than the initial ones, so that a wrong chain shows
        for p in m.parameters():
            p.copy_(3 * torch.randn(p.shape, generator=g) / p.shape[0] ** 0.5 if p.ndim == 2 else torch.randn(p.shape, generator=g))
    return m


def binary(n: int, d: int, seed: int) -> torch.Tensor:
    return (torch.rand(n, d, generator=torch.Generator().manual_seed(seed)) < 0.5).float()


@pytest.mark.parametrize("kind", ["dae", "gsn"])
def test_without_noise_the_peer_gives_the_engines_means_and_carried_state(kind):
    m = model(kind, noise=0.0, hidden_noise=0.0)
    peer = NumpyChain(m)
    x = binary(7, 30, 2)
    h = None if kind == "dae" else torch.rand(7, 16, generator=torch.Generator().manual_seed(3))
    state = m.chain_step(ChainState(x=x, mean=x, h=h))
    sample, mean, h_next = peer.step(x.numpy(), None if h is None else h.numpy())
    np.testing.assert_allclose(mean, state.mean.numpy(), atol=1e-5)
    assert set(np.unique(sample)) <= {0.0, 1.0} and sample.shape == (7, 30)
    if kind == "dae":
        assert h_next is None and peer.init_h(7) is None
    else:
        np.testing.assert_allclose(h_next, state.h.numpy(), atol=1e-5)
        assert peer.init_h(7).shape == (7, 16) and not peer.init_h(7).any()


def compare(m, peer: NumpyChain, n: int = 20000) -> tuple[float, float]:
    """One step of engine and peer from n copies of one image: the largest gap between their average Bernoulli
    means over the 30 pixels, and 5 standard errors of that gap (the largest over the pixels)."""
    x = binary(1, 30, 5).repeat(n, 1)
    engine = m.chain_step(m.init_chain(x), torch.Generator().manual_seed(4)).mean.numpy().astype(np.float64)
    _, peer_mean, _ = peer.step(x.numpy(), peer.init_h(n))
    peer_mean = peer_mean.astype(np.float64)
    gap = np.abs(engine.mean(0) - peer_mean.mean(0)).max()
    return float(gap), float(5 * np.sqrt((engine.var(0) + peer_mean.var(0)) / n).max())


@pytest.mark.parametrize(("kind", "corruption", "noise"), [("dae", "salt_pepper", 0.5), ("dae", "masking", 0.5), ("dae", "gaussian", 0.8),
                                                           ("gsn", "salt_pepper", 0.5), ("gsn", "masking", 0.5)])  # fmt: skip
def test_the_peer_corrupts_and_injects_noise_as_the_engine_does(kind, corruption, noise):
    m = model(kind, corruption, noise)
    gap, tolerance = compare(m, NumpyChain(m))
    assert tolerance < 0.03 and gap < tolerance


@pytest.mark.parametrize(("kind", "wrong"), [("dae", {"corruption": "salt_pepper"}), ("dae", {"corruption": "gaussian"}),
                                             ("gsn", {"corruption": "salt_pepper"}), ("gsn", {"hidden_noise": 0.0})])  # fmt: skip
def test_the_comparison_above_sees_a_peer_running_another_chain(kind, wrong):
    m = model(kind, "masking", 0.5)
    peer = NumpyChain(m)
    for name, value in wrong.items():
        setattr(peer, name, value)
    gap, tolerance = compare(m, peer)
    assert gap > 3 * tolerance


def test_the_peer_refuses_a_model_it_does_not_know():
    class Other:
        kind = "rbm"
        config = model("dae").config

        def tensors(self):
            return {}

    with pytest.raises(ValueError, match="dae or a gsn chain"):
        NumpyChain(Other())
