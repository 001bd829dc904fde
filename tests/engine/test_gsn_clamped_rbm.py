"""The clamped-sampling task's extras: the RBM's clamped Gibbs chain as a comparison, a given (drawn) image, a painted mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data import Split
from engine.models.clamp import region_mask
from engine.models.gsn import build_model
from engine.models.rbm import RBM, binary_states, gibbs_step
from engine.tasks.gsn import ClampedChainTask

torch.set_num_threads(1)
H, W = 6, 5
D = H * W


def toy_split() -> Split:
    rng = np.random.default_rng(0)
    images = rng.random((12, D)).astype(np.float32)
    labels = np.arange(12) % 10
    return Split("toy", torch.from_numpy(images[:8]), torch.from_numpy(images[8:]), (H, W), "random gray images", "random gray images", 8, labels[:8], labels[8:])


SPLIT = toy_split()


@pytest.fixture
def split():
    return toy_split()


def models():
    return {"toy": build_model("dae", H, W, torch.Generator().manual_seed(0), n_hidden=16, noise=0.3)}


def small_rbm(seed: int = 1) -> RBM:
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(D, 8)
    rbm.W.copy_(torch.randn(D, 8, generator=g))
    rbm.b.copy_(torch.randn(D, generator=g))
    rbm.c.copy_(torch.randn(8, generator=g))
    return rbm


def params(**changes):
    """The clamped task's complete parameters (its declarations' defaults for the rest); an array value (a test of a
    wrong shape) is added after completion, as it reaches check_params from a caller that bypasses the Run."""
    arrays = {k: changes.pop(k) for k in ("image", "mask") if isinstance(changes.get(k), np.ndarray)}
    declared = ClampedChainTask(models(), SPLIT).PARAMS
    return {**declared.complete({"model_name": "toy", "region": "right", "n_examples": 5, "chain_steps": 3, "seed": 7, "rbm": True, **changes}), **arrays}


def test_rbm_rows_keep_the_clamped_pixels_and_equal_an_independent_gibbs_run(split):
    rbm = small_rbm()
    task = ClampedChainTask(models(), split, rbm=rbm)
    p = params()
    task.check_params(p)
    task.reset(p)
    first = task.arrays()
    x, mask = torch.as_tensor(first["original"].reshape(-1, D)), torch.as_tensor(first["mask"].reshape(-1))
    v = torch.as_tensor(first["rbm_film"][0].reshape(-1, D))  # the start: x clamped, coin flips free
    assert torch.equal(v[:, mask], x[:, mask]) and set(v[:, ~mask].unique().tolist()) <= {0.0, 1.0}
    g = torch.Generator().manual_seed(7)
    for _ in range(4):
        task.step(p)
        expected = []
        for _ in range(3):
            v, h, _ = gibbs_step(rbm, v, 1.0, g, mask)
        expected = torch.where(mask, x, rbm.mean_v_given_h(h))
        a = task.arrays()
        assert np.array_equal(a["rbm_current"].reshape(-1, D), expected.numpy())
        assert torch.equal(task.rbm_v, v)
        assert np.array_equal(a["rbm_film"][:, :, first["mask"]], np.broadcast_to(first["original"][:, first["mask"]], (len(a["rbm_film"]), 5, int(mask.sum()))))
        assert torch.equal(task.rbm_v[:, mask], x[:, mask])  # the binary chain state too, bit for bit
    assert a["rbm_film"].shape == (5, 5, H, W)
    assert float((task.rbm_v[:, ~mask] != torch.as_tensor(first["rbm_film"][0].reshape(-1, D))[:, ~mask]).float().mean()) > 0.1


def test_turning_the_rbm_on_leaves_the_dae_chain_unchanged(split):
    with_rbm, without = ClampedChainTask(models(), split, rbm=small_rbm()), ClampedChainTask(models(), split)
    with_rbm.reset(params())
    without.reset(params(rbm=False))
    for _ in range(3):
        with_rbm.step(params())
        without.step(params(rbm=False))
    assert np.array_equal(with_rbm.arrays()["film"], without.arrays()["film"])
    assert "rbm_current" not in without.arrays()


def exact_free_conditional(rbm: RBM, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """P(v_free | v_clamped = x_clamped) by enumerating the free pixels: proportional to exp(-F(v)) (eq. 20.25's free energy)."""
    free = torch.nonzero(~mask).flatten()
    states = next(binary_states(len(free), dtype=torch.float32))
    v = x.expand(len(states), -1).clone()
    v[:, free] = states
    return torch.softmax(-rbm.free_energy(v).double(), 0)


def test_rbm_comparison_samples_the_exact_conditional_given_gray_clamped_pixels():
    """One held-out gray image, 256 chains, the 'square' hole of a 6x5 image (6 free pixels, 64 states):
    the chain's histogram of the free pixels against the enumerated P(v_free | v_clamped)."""
    rng = np.random.default_rng(3)
    images = rng.random((2, D)).astype(np.float32)
    one = Split("toy", torch.from_numpy(images[:1]), torch.from_numpy(images[1:]), (H, W), "random gray images", "random gray images", 1, np.zeros(1, np.int64), np.zeros(1, np.int64))
    rbm = small_rbm(2)
    task = ClampedChainTask(models(), one, rbm=rbm)
    p = params(region="square", n_examples=256, chain_steps=1)
    task.reset(p)
    mask = torch.as_tensor(region_mask("square", H, W).reshape(-1))
    free = torch.nonzero(~mask).flatten()
    codes = 2 ** torch.arange(len(free) - 1, -1, -1)
    counts = torch.zeros(2 ** len(free), dtype=torch.float64)
    for t in range(220):
        task.step(p)
        if t >= 20:
            counts += torch.bincount((task.rbm_v[:, free].long() * codes).sum(1), minlength=len(counts)).double()
    exact = exact_free_conditional(rbm, torch.as_tensor(images[1]), mask)
    empirical = counts / counts.sum()
    assert 0.5 * float((empirical - exact).abs().sum()) < 0.03
    wrong = exact_free_conditional(rbm, torch.as_tensor((images[1] > 0.5).astype(np.float32)), mask)
    assert 0.5 * float((empirical - wrong).abs().sum()) > 0.1  # the test can tell gray clamped pixels from thresholded ones


def test_a_given_image_is_completed_by_every_chain_without_labels(split):
    task = ClampedChainTask(models(), split)
    drawn = tuple(np.linspace(0, 1, D).tolist())
    p = params(image=drawn, rbm=False, n_examples=4)
    task.check_params(p)
    task.reset(p)
    a = task.arrays()
    assert np.array_equal(a["original"], np.broadcast_to(np.linspace(0, 1, D, dtype=np.float32).reshape(H, W), (4, H, W)))
    assert "labels" not in a and "accuracy" not in task.step(p)
    with pytest.raises(ValueError, match=r"images have shape \(29,\)"):
        task.check_params(params(image=drawn[:-1]))
    with pytest.raises(ValueError, match="single image"):
        task.check_params(params(image=np.zeros((2, H, W))))


def test_a_painted_mask_param_is_used_and_bad_ones_are_refused(split):
    task = ClampedChainTask(models(), split)
    painted = np.zeros((H, W), bool)
    painted[:2] = True
    p = params(region="custom", mask=tuple(painted.ravel().tolist()), rbm=False)
    task.check_params(p)
    task.reset(p)
    assert np.array_equal(task.arrays()["mask"], painted)
    with pytest.raises(ValueError, match="mask is empty"):
        task.check_params({**p, "mask": (False,) * D})
    with pytest.raises(ValueError, match="mask clamps every pixel"):
        task.check_params({**p, "mask": (True,) * D})
    with pytest.raises(ValueError, match="needs a mask"):
        task.check_params({**p, "mask": None})


def test_the_comparison_rbm_must_fit_the_images(split):
    with pytest.raises(ValueError, match="30 binary visible units"):
        ClampedChainTask(models(), split, rbm=RBM(16, 4)).check_params(params())


class _PixelThreshold:
    """Label 1 where the bottom-left pixel (free when the right half is clamped) is above 0.5."""

    def predict(self, x):
        return (np.asarray(x)[:, (H - 1) * W] > 0.5).astype(int)


def test_the_task_publishes_the_fill_baselines_of_its_own_digits_and_mask(split):
    """Intact, mean-image-fill and blank accuracies of the very digits and mask the chains complete."""
    task = ClampedChainTask(models(), split, classifier=_PixelThreshold())
    p = params(rbm=False, n_examples=4, first=0)
    task.reset(p)
    keep = region_mask("right", H, W).reshape(-1)
    x, labels = split.heldout[:4].numpy(), split.heldout_labels[:4]
    free_pixel = x[:, (H - 1) * W]
    expected = [
        float(((free_pixel > 0.5).astype(int) == labels).mean()),
        float((int(split.train.mean(0)[(H - 1) * W] > 0.5) == labels).mean()),
        float((0 == labels).mean()),
    ]
    assert not keep[(H - 1) * W]
    np.testing.assert_allclose(task.arrays()["fill_baselines"], expected)
    task.reset(params(rbm=False, image=tuple(np.zeros(D).tolist())))
    assert "fill_baselines" not in task.arrays()
