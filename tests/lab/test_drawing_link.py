"""A drawn digit in the URL: the text lab.drawing writes decodes to the very pixels the page used, stays short enough
for a link, and anything else in its place is refused (None), a deflate bomb included."""

from __future__ import annotations

import base64
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from lab.drawing import LEVELS, digit_from_text, digit_text, image_to_input, quantized
from tests.lab.test_dbm_pages import MEANFIELD, needs_mnist


def drawn_seven() -> np.ndarray:
    """A '7' drawn as on the 280 x 280 canvas (black strokes on white), framed like MNIST."""
    image = Image.new("RGB", (280, 280), "white")
    pen = ImageDraw.Draw(image)
    pen.line([(60, 50), (220, 50), (120, 240)], fill="black", width=22)
    return quantized(image_to_input(image, (28, 28)))


def test_a_drawing_survives_its_link_exactly():
    pixels = drawn_seven()
    text = digit_text(pixels)
    assert len(text) < 400 and text.isascii() and not set(text) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    np.testing.assert_array_equal(digit_from_text(text, (28, 28)), pixels)


def test_quantizing_keeps_sixteen_levels_within_half_a_step():
    pixels = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    kept = quantized(pixels)
    assert len(np.unique(kept)) <= LEVELS
    assert np.abs(kept - pixels).max() <= 0.5 / (LEVELS - 1) + 1e-6
    np.testing.assert_array_equal(digit_from_text(digit_text(kept), (28, 28)), kept)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not base64 at all!",
        base64.urlsafe_b64encode(b"plain bytes, not deflated").decode(),
        base64.urlsafe_b64encode(zlib.compress(bytes(100))).decode(),  # deflated, but 200 pixels, not 784
        base64.urlsafe_b64encode(zlib.compress(bytes(50_000_000), 9)).decode(),  # a bomb: 50 MB from a ~50 kB link
    ],
    ids=["empty", "not-base64", "not-deflated", "wrong-size", "deflate-bomb"],
)
def test_anything_but_a_drawing_of_that_size_is_refused(text):
    assert digit_from_text(text, (28, 28)) is None


def test_a_link_with_a_drawing_opens_the_mean_field_page_on_it(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120)
    at.query_params["dbm.mf.source"] = "my drawing"  # the URL holds the option's label
    at.query_params["dbm.mf.canvas"] = digit_text(drawn_seven())
    at.run()
    assert not at.exception
    assert any("drawing from the link" in c.value for c in at.caption)
    at = AppTest.from_file(MEANFIELD, default_timeout=120)
    at.query_params["dbm.mf.source"] = "my drawing"  # the URL holds the option's label
    at.query_params["dbm.mf.canvas"] = "garbage"
    at.run()
    assert not at.exception
    assert any("dbm.mf.canvas" in w.value for w in at.warning)
