"""The GSN pages under AppTest: they open on the pretrained chains, Frame / Step advance the run, settings reset it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import live_frames, picture_captions

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    if (SHARED / "mnist").exists():
        monkeypatch.setenv("GENLAB_DATA", str(SHARED))


needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="MNIST is not in ../shared/data")


def markdown(at: AppTest) -> str:
    """The page's text: its markdown and the captions under its pictures (the live ones carry the chain's step)."""
    return "\n".join([m.value for m in at.markdown] + picture_captions(at))


@needs_mnist
def test_clamped_page_runs_frames_and_resets_on_a_new_region():
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    assert not at.exception
    assert "chain step 0" in markdown(at) and len(at.get("image")) + len(live_frames(at)) >= 3
    at.slider(key="gsn.clamped.chain_steps").set_value(3).run()
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception
    assert "chain step 3" in markdown(at)
    at.selectbox(key="gsn.clamped.region").set_value("square").run()
    assert not at.exception
    assert "chain step 0" in markdown(at)
    at.selectbox(key="gsn.clamped.model_name").set_value("gsn").run()
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception and "chain step 3" in markdown(at)


@needs_mnist
def test_chain_page_steps_and_labels_the_chains():
    at = AppTest.from_file(str(PAGES / "gsn_chain.py"), default_timeout=120).run()
    assert not at.exception
    assert "36 chains" in markdown(at) and "chain step 0" in markdown(at)
    for _ in range(2):
        at.button(key="gsn.chain.step").click().run()
    assert not at.exception
    assert "36 chains" in markdown(at) and "chain step 2" in markdown(at) and "Classifier's labels now" in markdown(at)
    assert "Distinct classes visited per chain" in markdown(at)


def test_chain_page_without_mnist_runs_its_chains_from_noise_unlabelled(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))  # an empty data folder
    at = AppTest.from_file(str(PAGES / "gsn_chain.py"), default_timeout=120).run()
    assert not at.exception
    assert any("start from noise" in c.value and "genlab data fetch mnist" in c.value for c in at.caption)
    assert "36 chains" in markdown(at) and "chain step 0" in markdown(at)
    before = [frames for _, frames in live_frames(at).values()]
    for _ in range(2):
        at.button(key="gsn.chain.step").click().run()
    assert not at.exception
    assert "chain step 2" in markdown(at) and "Classifier's labels now" not in markdown(at)
    after = [frames for _, frames in live_frames(at).values()]
    assert not all(np.array_equal(a[-1], b[-1]) for a, b in zip(before, after, strict=True))


@needs_mnist
def test_training_page_opens_on_the_pretrained_dae_and_steps():
    at = AppTest.from_file(str(PAGES / "gsn_training.py"), default_timeout=120).run()
    assert not at.exception
    assert any("Model: **pretrained DAE, walkback training" in c.value for c in at.caption)
    at.button(key="gsn.train.step").click().run()
    assert not at.exception
    assert "training step 1" in markdown(at)


def test_training_page_trains_digits_from_scratch():
    at = AppTest.from_file(str(PAGES / "gsn_training.py"), default_timeout=120).run()
    at.radio(key="gsn.train.start").set_value("scratch")
    at.radio(key="gsn.train.dataset").set_value("digits")
    at.select_slider(key="gsn.train.hidden").set_value(100)
    at.run()
    assert not at.exception
    for _ in range(2):
        at.button(key="gsn.train.step").click().run()
    assert not at.exception
    assert "training step 2" in markdown(at)


def a_drawn_one(shape=(28, 28)):
    """A thick vertical stroke, centred like MNIST: what draw_digit returns for a drawn '1'."""
    image = np.zeros(shape, dtype=np.float32)
    image[5:23, 12:16] = 1.0
    return image


@needs_mnist
def test_clamped_page_with_the_draw_source_asks_for_a_drawing():
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    at.radio(key="gsn.clamped.source").set_value("draw").run()
    assert not at.exception
    assert any("Draw a digit in the sidebar" in i.value for i in at.info)


@needs_mnist
def test_clamped_page_completes_a_drawing_beside_the_rbm_chain(monkeypatch):
    import lab.drawing

    monkeypatch.setattr(lab.drawing, "draw_digit", lambda key, shape: a_drawn_one(shape))
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    at.radio(key="gsn.clamped.source").set_value("draw")
    at.toggle(key="gsn.clamped.rbm").set_value(True)
    at.slider(key="gsn.clamped.chain_steps").set_value(3).run()
    assert not at.exception
    text = markdown(at)
    assert "Your drawing" in text and "RBM, clamped Gibbs sampling: step 0" in text
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception
    assert "chain step 3" in markdown(at) and "RBM, clamped Gibbs sampling: step 3" in markdown(at)
    assert any("no true label" in c.value for c in at.caption)


@needs_mnist
def test_clamped_page_with_held_out_digits_and_the_rbm_plots_both_accuracies():
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    at.toggle(key="gsn.clamped.rbm").set_value(True).run()
    assert not at.exception and "RBM, clamped Gibbs sampling: step 0" in markdown(at)
    for _ in range(2):
        at.button(key="gsn.clamped.step").click().run()
    assert not at.exception and "RBM, clamped Gibbs sampling: step 2" in markdown(at)


@needs_mnist
def test_clamped_page_refuses_an_empty_or_full_painted_mask_and_uses_a_good_one(monkeypatch):
    import lab.gsn.views

    painted = {"mask": np.zeros((28, 28), bool)}
    monkeypatch.setattr(lab.gsn.views, "paint_mask", lambda key, shape, under=None: painted["mask"])
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    at.selectbox(key="gsn.clamped.region").set_value("custom").run()
    assert not at.exception and any("Paint the pixels to keep" in i.value for i in at.info)
    painted["mask"] = np.ones((28, 28), bool)
    at.run()
    assert any("You painted every pixel" in w.value for w in at.warning)
    painted["mask"] = np.zeros((28, 28), bool)
    painted["mask"][:, :10] = True
    at.run()
    assert not at.exception and not at.warning and "chain step 0" in markdown(at)
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception and "chain step 1" in markdown(at)


def test_painted_mask_block_averages_the_paint():
    from lab.gsn.views import painted_mask

    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[:, :140, 3] = 191  # the left half painted (semi-transparent paint counts)
    rgba[0:4, 200:210, 3] = 255  # 40% of one block: not enough
    mask = painted_mask(rgba, (28, 28))
    assert mask.shape == (28, 28) and mask[:, :14].all() and not mask[:, 14:].any()
    rgba[0:5, 200:210, 3] = 255  # half of that block: painted
    assert painted_mask(rgba, (28, 28))[0, 20] and painted_mask(rgba, (28, 28)).sum() == 28 * 14 + 1


def test_clamped_page_without_mnist_completes_a_drawing_and_says_where_the_digits_are(monkeypatch, tmp_path):
    import lab.drawing

    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))  # an empty data folder
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    assert not at.exception
    assert "gsn.clamped.source" not in [r.key for r in at.radio]  # no held-out digits to choose
    assert any("Draw a digit in the sidebar" in i.value and "genlab data fetch mnist" in i.value for i in at.info)
    monkeypatch.setattr(lab.drawing, "draw_digit", lambda key, shape: a_drawn_one(shape))
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    at.slider(key="gsn.clamped.chain_steps").set_value(3).run()
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception
    assert "Your drawing" in markdown(at) and "chain step 3" in markdown(at)
    assert any("no true label" in c.value for c in at.caption)


def test_a_clamped_chain_without_held_out_digits_needs_an_image():
    from engine.tasks.gsn import ClampedChainTask, clamped_chain_params, shape_only_split
    from lab.gsn.views import pretrained_models

    models, titles = pretrained_models()
    task = ClampedChainTask(models, shape_only_split(models), titles=titles)
    params = clamped_chain_params(models, titles).complete({})
    with pytest.raises(ValueError, match="no held-out digits to clamp"):
        task.check_params(params)
    task.check_params({**params, "image": tuple(a_drawn_one().ravel())})
