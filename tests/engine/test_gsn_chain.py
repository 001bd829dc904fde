"""The DAE / GSN Markov chain: corruption, clamping, the exact consistency result, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.checkpoint import CheckpointError
from engine.models.clamp import region_mask, sample_clamped
from engine.models.corruption import corrupt, corruption_log_prob
from engine.models.dae_exact import (
    all_binary_vectors,
    corruption_matrix,
    model_denoising_matrix,
    stationary_distribution,
    total_variation,
    transition_matrix,
    true_denoising_matrix,
)
from engine.models.gsn import build_model, load_model, save_model

torch.set_num_threads(1)


def small_model(kind: str, seed: int = 0):
    extra = {"n_hidden": 32} if kind == "dae" else {"n_hidden1": 32, "n_hidden2": 16}
    return build_model(kind, 6, 5, torch.Generator().manual_seed(seed), noise=0.3, **extra)


# --------------------------------------------------------------------------- corruption


def test_salt_and_pepper_flips_level_over_two_of_the_pixels():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(2000, 50, generator=g) < 0.5).float()
    flipped = (corrupt(x, "salt_pepper", 0.4, g) != x).float().mean().item()
    assert flipped == pytest.approx(0.2, abs=0.005)


def test_masking_only_turns_pixels_off():
    g = torch.Generator().manual_seed(0)
    x = torch.ones(2000, 50)
    x_tilde = corrupt(x, "masking", 0.25, g)
    assert (1 - x_tilde).mean().item() == pytest.approx(0.25, abs=0.005)
    assert corrupt(torch.zeros(10, 50), "masking", 0.9, g).sum().item() == 0.0


def test_gaussian_corruption_has_the_given_std():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(1000, 100)
    assert corrupt(x, "gaussian", 0.7, g).std().item() == pytest.approx(0.7, abs=0.01)


@pytest.mark.parametrize("kind", ["salt_pepper", "masking"])
def test_corruption_matrix_rows_are_distributions(kind):
    c = corruption_matrix(5, kind, 0.3)
    assert torch.allclose(c.sum(1), torch.ones(32, dtype=torch.float64), atol=1e-12)
    one, zero = torch.ones(1, 1), torch.zeros(1, 1)
    expected = 0.15 if kind == "salt_pepper" else 0.3
    assert torch.exp(corruption_log_prob(zero, one, kind, 0.3)).item() == pytest.approx(expected, abs=1e-12)


def test_bad_corruption_level_is_refused():
    with pytest.raises(ValueError, match="noise level for salt_pepper corruption must be between 0 and 1"):
        corrupt(torch.zeros(2, 3), "salt_pepper", 1.5)
    with pytest.raises(ValueError, match="corruption must be one of"):
        corrupt(torch.zeros(2, 3), "blur", 0.1)


# --------------------------------------------------------------------------- Bengio et al. 2013: consistency


@pytest.mark.parametrize("kind", ["salt_pepper", "masking"])
def test_true_denoiser_chain_has_the_data_distribution_as_stationary_distribution(kind):
    d = 6
    g = torch.Generator().manual_seed(1)
    p_data = torch.rand(2**d, generator=g, dtype=torch.float64) ** 4
    p_data[::3] = 0.0  # a data distribution with holes
    p_data /= p_data.sum()
    c = corruption_matrix(d, kind, 0.35)
    t = transition_matrix(c, true_denoising_matrix(p_data, c))
    assert torch.allclose(t.sum(1), torch.ones(2**d, dtype=torch.float64), atol=1e-12)
    pi = stationary_distribution(t)
    assert total_variation(pi, p_data) < 1e-10
    start = torch.zeros(2**d, dtype=torch.float64)
    start[int(torch.argmax(p_data))] = 1.0
    after = start @ torch.linalg.matrix_power(t, 200)
    assert total_variation(after, p_data) < 1e-6


def test_trained_dae_chain_approaches_the_data_distribution():
    """A DAE fitted to a 4-mode distribution on 8 bits: its exact stationary distribution puts > 90% of its mass
    on the four data points (how it splits the mass between modes depends on rare mode-to-mode jumps)."""
    d = 8
    states = all_binary_vectors(d)
    protos = torch.tensor([[0] * 8, [1] * 8, [1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]], dtype=torch.float64)
    on_data = (torch.cdist(states, protos, p=1).min(1).values == 0).double()
    g = torch.Generator().manual_seed(0)
    model = build_model("dae", 1, d, g, n_hidden=16, noise=0.1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    x = protos.float()
    for _ in range(600):
        loss = model.walkback_losses(x[torch.randint(4, (32,), generator=g)], g).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    t = transition_matrix(corruption_matrix(d, "salt_pepper", 0.1), model_denoising_matrix(model, states))
    pi = stationary_distribution(t)
    assert float(pi @ on_data) > 0.9
    assert float(pi.sum()) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- clamped sampling


@pytest.mark.parametrize("kind", ["dae", "gsn"])
@pytest.mark.parametrize("region", ["right", "left", "top", "bottom", "square"])
def test_clamped_pixels_never_change_and_free_pixels_do(kind, region):
    model = small_model(kind)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(4, 6, 5, generator=g)
    mask = region_mask(region, 6, 5)
    chain = sample_clamped(model, x, mask, 25, generator=g)
    assert chain.samples.shape == (26, 4, 30) and chain.means.shape == (26, 4, 30)
    flat, m = x.reshape(4, 30), torch.as_tensor(mask.reshape(-1))
    for frames in (chain.samples, chain.means):
        assert torch.equal(frames[:, :, m], flat[:, m].expand(26, -1, -1))  # bit-identical in every frame
    free_changes = (chain.samples[1:, :, ~m] != chain.samples[:-1, :, ~m]).float().mean().item()
    assert free_changes > 0.05


def test_region_masks_cover_the_named_part():
    assert region_mask("right", 4, 6)[:, 3:].all() and not region_mask("right", 4, 6)[:, :3].any()
    assert region_mask("bottom", 4, 6).sum() == 12
    square = region_mask("square", 28, 28)
    assert (~square).sum() == 14 * 14 and not square[7:21, 7:21].any()


def test_clamped_sampling_refuses_bad_masks_and_images():
    model = small_model("dae")
    x = np.zeros((2, 6, 5))
    with pytest.raises(ValueError, match="mask is empty"):
        sample_clamped(model, x, np.zeros((6, 5), bool), 3)
    with pytest.raises(ValueError, match="mask clamps every pixel"):
        sample_clamped(model, x, np.ones((6, 5), bool), 3)
    with pytest.raises(ValueError, match=r"mask has shape \(5, 6\); the model's images are 6x5"):
        sample_clamped(model, x, np.ones((5, 6), bool), 3)
    with pytest.raises(ValueError, match=r"images have shape \(2, 5, 6\); the model's images are 6x5"):
        sample_clamped(model, np.zeros((2, 5, 6)), region_mask("right", 6, 5), 3)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        sample_clamped(model, np.full((6, 5), 2.0), region_mask("right", 6, 5), 3)


# --------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("kind", ["dae", "gsn"])
def test_checkpoint_round_trip_keeps_the_chain(kind, tmp_path):
    model = small_model(kind)
    save_model(tmp_path / "m", model, {"dataset": "digits"})
    loaded, extra = load_model(tmp_path / "m.safetensors")
    assert extra == {"dataset": "digits"} and loaded.kind == kind and loaded.config == model.config
    for name, value in model.tensors().items():
        assert torch.allclose(value.half().float(), getattr(loaded, name).data)


def test_checkpoint_with_wrong_model_name_is_refused(tmp_path):
    from engine import checkpoint

    checkpoint.write(tmp_path / "bad", "gsn", {"W": torch.zeros(2, 2)}, {"model": "rbm"})
    with pytest.raises(CheckpointError, match=r"bad\.json: 'model' must be one of dae, gsn"):
        load_model(tmp_path / "bad")


def test_a_checkpoint_of_another_family_or_schema_is_refused_naming_its_file(tmp_path):
    from engine import checkpoint

    checkpoint.write(tmp_path / "rbm", "rbm", {"W": torch.zeros(2, 2)}, {"n_visible": 2})
    with pytest.raises(CheckpointError, match=r"rbm\.json: a 'rbm' checkpoint, expected a 'gsn' one"):
        load_model(tmp_path / "rbm")
    model = small_model("dae")
    checkpoint.write(tmp_path / "flat", "gsn", model.tensors(), model.config_dict())
    (tmp_path / "flat.json").write_text(json.dumps(model.config_dict()))  # the flat JSON of the old assets
    with pytest.raises(CheckpointError, match=r"flat\.json: not in the checkpoint schema"):
        load_model(tmp_path / "flat")
