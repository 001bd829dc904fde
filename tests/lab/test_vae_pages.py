"""AppTest for the VAE pages: each renders, widgets drive its run, readouts are consistent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import picture_captions, stage_figures

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (SHARED / "mnist").exists() or not (SHARED / "frey").exists(), reason="../shared/data is absent")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", "1")
    if SHARED.exists():
        monkeypatch.setenv("GENLAB_DATA", str(SHARED))


def page(name: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_manifold_steps_the_offline_model():
    at = page("vae_manifold", **{"vae.dataset": "8x8 digits"})
    assert not at.exception
    assert at.radio(key="vae.dataset").value == "digits"
    at.button(key="vae.manifold.step").click().run()
    assert not at.exception
    assert metric(at, "Examples seen") == "100"
    assert picture_captions(at)[0].startswith("Live: step 1")


@needs_data
def test_manifold_opens_on_the_pretrained_frey_model():
    at = page("vae_manifold", **{"vae.dataset": "Frey faces"})
    assert not at.exception and not at.error
    (caption,) = picture_captions(at)
    assert caption.startswith("Step 0: pretrained frey_z2")


@needs_data
def test_latent_page_renders_the_encoded_test_set():
    at = page("vae_latent")
    assert not at.exception and not at.error
    (latent,) = stage_figures(at).values()
    assert sum(len(t["x"]) if isinstance(t["x"], list) else 1 for t in latent["data"] if str(t.get("name", "")).isdigit()) > 0


@needs_data
def test_posterior_readouts_add_up():
    at = page("vae_posterior", **{"vae.post.x": "13"})
    assert not at.exception and not at.error
    table = next(m.value for m in at.markdown if "log p(x) (quadrature)" in m.value)
    log_px, elbo, gap = (float(v) for v in re.findall(r"\*\*(-?[\d.]+)\*\*", table))  # its rows: log p(x), ELBO, gap
    assert elbo <= log_px
    assert gap == pytest.approx(log_px - elbo, abs=0.011)


def test_training_page_steps_both_runs():
    at = page("vae_training", **{"vae.train.dataset": "8x8 digits", "vae.cmp.dataset": "8x8 digits"})
    assert not at.exception
    at.button(key="vae.train.step").click().run()
    assert metric(at, "Examples seen").startswith("100")
    at.radio(key="vae.train.view").set_value("compare").run()  # the comparison has the stage to itself
    at.button(key="vae.compare.step").click().run()
    assert not at.exception


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1", "I;16"])
def test_any_picture_becomes_a_centred_28_by_28_digit(mode):
    import numpy as np
    from PIL import Image, ImageDraw

    from lab.drawing import image_to_input

    picture = Image.new("RGB", (300, 180), "white")
    ImageDraw.Draw(picture).line([(200, 20), (210, 160)], fill="black", width=14)  # a "1", off-centre, on white
    x = image_to_input(picture.convert(mode), (28, 28))
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x[:, :5].max() < 0.05 and x[:, -5:].max() < 0.05  # background black, ink centred
    rows, cols = np.indices(x.shape)
    assert (x * cols).sum() / x.sum() == pytest.approx(13.5, abs=1.5)  # ink centred like MNIST
    assert (x * rows).sum() / x.sum() == pytest.approx(13.5, abs=1.5)
    assert x.max() > 0.9


def test_blank_pictures_are_refused_and_an_empty_canvas_is_ignored():
    import numpy as np
    from PIL import Image

    from lab.drawing import canvas_input, image_to_input

    with pytest.raises(ValueError, match="blank"):
        image_to_input(Image.new("RGB", (50, 40), "white"), (28, 28))
    empty_canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    assert canvas_input(empty_canvas, (28, 28)) is None


@needs_data
@pytest.mark.parametrize("name", ["vae_latent", "vae_posterior"])
def test_the_latent_plane_and_the_posterior_offer_their_picture_as_png(name):
    at = page(name)
    assert not at.exception
    assert [b.key for b in at.get("download_button")] == [f"{name.replace('_', '-')}-png"]  # a still picture: no GIF
