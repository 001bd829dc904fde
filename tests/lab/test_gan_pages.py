"""AppTest: the three GAN pages render, their widgets drive the runs, Play makes the pictures change."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import APP, shown_pictures, stage_figures

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def _page(at: AppTest, script: str) -> AppTest:
    at.switch_page(str(ROOT / "pages" / script)).run()
    assert not at.exception, at.exception
    return at


def test_game_page_renders_and_reports_eigenvalues():
    at = _page(AppTest.from_file(APP, default_timeout=60).run(), "gan_game.py")
    table = at.dataframe[0].value
    rows = dict(zip(table["rule"], table["largest |λ| (computed)"], strict=True))
    assert float(rows["simultaneous GD"]) == pytest.approx((1 + 0.2**2) ** 0.5, abs=1e-6)
    assert float(rows["alternating GD"]) == pytest.approx(1.0, abs=1e-6)
    assert list(table["so it"]) == ["spirals out", "orbits", "converges", "orbits"]
    at.button(key="game.play").click().run()
    assert not at.exception
    assert at.session_state["game.playing"]
    at.select_slider(key="dirac.lr").set_value(0.2).run()
    at.slider(key="dirac.r1").set_value(1.0).run()
    assert not at.exception
    assert sum("converges" in m.value for m in at.markdown) == 2  # both update rules, with R1


def test_gan_2d_page_trains_and_applies_presets():
    at = _page(AppTest.from_file(APP, default_timeout=60).run(), "gan_2d.py")
    at.button(key="gan2d.step").click().run()
    assert not at.exception
    assert any("step 1" in fig["layout"]["title"]["text"] for fig in stage_figures(at).values())
    at.selectbox(key="gan2d.preset").set_value("Mode collapse: D learns 33x slower").run()
    at.button(key="gan2d.apply").click().run()
    assert not at.exception
    assert at.select_slider(key="gan2d.lr_d").value == 3e-5
    at.selectbox(key="gan2d.data").set_value("custom").run()
    assert not at.exception
    assert any("at least 3" in i.value for i in at.info)


@pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="MNIST test files not in ../shared/data")
def test_gan_mnist_page_renders_and_steps(monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    at = _page(AppTest.from_file(APP, default_timeout=90).run(), "gan_mnist.py")
    assert any("pretrained" in c.value for c in at.caption)
    before = shown_pictures(at)
    assert len(before) == 2
    at.button(key="ganm.step").click().run()
    assert not at.exception
    assert shown_pictures(at) != before


def test_gan_mnist_page_without_mnist_shows_the_pretrained_samples_and_how_to_get_the_data(monkeypatch, tmp_path):
    import numpy as np

    from engine.tasks.gan import MnistGANTask, pretrained_samples, read_pretrained
    from lab.pictures import tile_grid, to_uint8

    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))  # an empty data folder: no MNIST
    at = _page(AppTest.from_file(APP, default_timeout=90).run(), "gan_mnist.py")
    assert not at.exception
    assert any("MNIST" in i.value for i in at.info)
    ckpt = read_pretrained()
    (image,) = at.get("image")
    assert "pretrained GAN" in image.proto.imgs[0].caption
    task = MnistGANTask(np.zeros((10, 784), dtype=np.float32), ckpt)  # what the page shows at step 0, from any images
    task.reset(MnistGANTask.PARAMS.complete({"start": "pretrained"}))
    np.testing.assert_array_equal(pretrained_samples(ckpt), task.arrays()["grid"])
    assert to_uint8(tile_grid(pretrained_samples(ckpt), ncols=8, pad=2)).std() > 10  # digits, not a blank grid
