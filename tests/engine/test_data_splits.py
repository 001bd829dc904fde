"""engine.data's one train / held-out provider (:func:`train_heldout`, :class:`Split`) and its minibatch order
(:class:`EpochSampler`), which every model family trains on."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import data
from engine.data import EpochSampler, train_heldout
from engine.tasks.dbm import load_images
from engine.tasks.gsn import load_split
from engine.tasks.rbm import load_rbm_data
from engine.tasks.vae import load_vae_data

SHARED = Path(os.environ.get("GENLAB_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="MNIST not in ../shared/data")
needs_frey = pytest.mark.skipif(not (SHARED / "frey").exists(), reason="Frey faces not in ../shared/data")


def rows_of(split: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in split}


def test_digits_split_is_the_data_layers_permutation_disjoint_and_complete():
    split = train_heldout("digits")
    every = data.load("digits", "all").as_float()
    assert (len(split.train), len(split.heldout)) == (1497, 300) and split.image_shape == (8, 8)
    assert not rows_of(split.train) & rows_of(split.heldout)  # no held-out image is a training image ...
    assert rows_of(split.train) | rows_of(split.heldout) == rows_of(torch.from_numpy(every))  # ... and together they are every image
    assert np.array_equal(split.heldout_labels, data.load("digits", "test").labels)
    assert split.heldout_first is None and "seeded permutation" in split.heldout_file


def test_bars_and_stripes_trains_and_checks_on_all_30_patterns():
    split = train_heldout("bars-stripes")
    assert len(split.train) == 30 and torch.equal(split.train, split.heldout)
    assert set(split.train.unique().tolist()) == {0.0, 1.0}


def test_standardised_rows_have_zero_mean_unit_std_and_draw_back_as_the_gray_images():
    split = train_heldout("digits")
    z = split.standardised()
    assert abs(float(z.train.mean())) < 1e-5 and abs(float(z.train.std()) - 1.0) < 1e-5
    np.testing.assert_allclose(z.to_image(z.heldout[:5]), split.heldout[:5].reshape(5, 8, 8).numpy(), atol=1e-6)


@needs_mnist
def test_mnist_offline_is_the_test_split_cut_where_each_family_says(monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    test = data.load("mnist", "test", root=str(SHARED)).as_float()
    for split, cut in ((load_rbm_data("mnist", str(SHARED)), 9000), (load_images("mnist", str(SHARED)), 9000),
                       (load_vae_data("mnist", str(SHARED)), 9000), (load_split("mnist", str(SHARED)), 8000)):  # fmt: skip
        assert torch.equal(split.train, torch.from_numpy(test[:cut])) and torch.equal(split.heldout, torch.from_numpy(test[cut:]))
        assert split.heldout_first == cut and split.source == f"MNIST test split only: images 0-{cut - 1} train, {cut}-9999 held out"


@needs_frey
def test_frey_holds_out_the_last_200_frames_and_the_rbm_sees_them_standardised():
    split = train_heldout("frey", str(SHARED))
    assert (len(split.train), len(split.heldout), split.heldout_first) == (1765, 200, 1765)
    rbm_view = load_rbm_data("frey", str(SHARED))
    assert rbm_view.offset == pytest.approx(float(split.train.mean())) and rbm_view.scale == pytest.approx(float(split.train.std()))
    np.testing.assert_allclose(rbm_view.to_image(rbm_view.train[:3]), split.train[:3].reshape(3, 28, 20).numpy(), atol=1e-5)


def test_an_unknown_dataset_is_refused_with_the_known_ones():
    with pytest.raises(data.UnknownDataset, match="known: mnist, frey, digits, bars-stripes"):
        train_heldout("cifar")


def test_every_epoch_is_a_permutation_and_no_batch_straddles_two():
    sampler = EpochSampler(10, torch.Generator().manual_seed(0))
    epoch0 = [sampler.next(3) for _ in range(3)]  # 9 of 10; the tenth example waits for no one
    assert sampler.epoch == 0 and len(set(torch.cat(epoch0).tolist())) == 9
    epoch1 = [sampler.next(3) for _ in range(3)]
    assert sampler.epoch == 1 and len(set(torch.cat(epoch1).tolist())) == 9 and sampler.epochs_done == pytest.approx(1.9)
    assert sorted(sampler.next(30).tolist()) == list(range(10))  # a batch larger than the data is all of it, once
    with pytest.raises(ValueError, match="at least one example"):
        EpochSampler(0, torch.Generator())


def test_the_same_seed_gives_the_same_batches():
    a, b = (EpochSampler(100, torch.Generator().manual_seed(7)) for _ in range(2))
    for _ in range(12):
        assert torch.equal(a.next(16), b.next(16))

