"""Digits from the user: a drawing canvas or an uploaded picture, framed like MNIST.

Used by every page that lets a student bring their own digit (VAE latent space, DBM mean field,
GSN clamped sampling). ``draw_digit`` needs the optional package streamlit-drawable-canvas and
says so when it is missing. A drawing goes into the page's URL (:func:`digit_text`), so a lesson link holds it.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image, UnidentifiedImageError

LEVELS = 16
"""Gray levels a drawing keeps (4 bits a pixel), in the page and in its link alike."""


def canvas() -> Callable[..., Any] | None:
    """streamlit-drawable-canvas's ``st_canvas``, or None when the package is missing (pages then offer uploads
    and held-out images). Imported on first use, inside a page: the package registers itself with the running app
    and raises when imported outside one."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        return None
    return st_canvas


CANVAS_SIZE = 252
"""The side of the drawing and painting canvases, in CSS pixels: inside the settings sidebar (278 px wide at 1280 px;
280 stuck out of it) and 9 canvas pixels per pixel of a 28 x 28 image."""


def draw_digit(key: str, shape: tuple[int, int] = (28, 28), size: int = CANVAS_SIZE) -> np.ndarray | None:
    """A square canvas to draw a digit on; the drawing as pixels in [0, 1] of ``shape`` (ink bright, :data:`LEVELS`
    gray levels), or None while nothing is drawn (or when the canvas package is missing, after saying so).

    The drawing is kept in the URL as ``?<key>=<text>`` (:func:`digit_text`); a page opened from such a link uses
    the linked drawing until a new one is drawn (the canvas itself starts empty)."""
    st_canvas = canvas()
    if st_canvas is None:
        st.warning("Drawing needs the package streamlit-drawable-canvas (pip install streamlit-drawable-canvas).")
        return None
    st.caption("Draw a digit, big, in the middle (it is cropped, centred and shrunk to 28 x 28 like MNIST).")
    drawn = st_canvas(stroke_width=22, stroke_color="#000000", background_color="#FFFFFF", height=size, width=size,
                      drawing_mode="freedraw", return_image_data=True, key=key)  # fmt: skip
    pixels = None if drawn.image_data is None else canvas_input(drawn.image_data, shape)
    if pixels is not None:
        pixels = quantized(pixels)
        st.query_params[key] = digit_text(pixels)
        return pixels
    text = st.query_params.get(key)
    if text is None:
        return None
    linked = digit_from_text(text, shape)
    if linked is None:
        st.warning(f"Not applied from the link: {key} is not a drawing of {shape[0]} x {shape[1]} pixels.", icon=":material/link_off:")
        return None
    st.caption("Using the drawing from the link; draw on the canvas to replace it.")
    return linked


def quantized(pixels: np.ndarray) -> np.ndarray:
    """Pixels in [0, 1] rounded to :data:`LEVELS` gray levels."""
    return np.round(np.clip(pixels, 0.0, 1.0) * (LEVELS - 1)).astype(np.float32) / (LEVELS - 1)


def digit_text(pixels: np.ndarray) -> str:
    """A drawing as URL text: its :data:`LEVELS` gray levels packed two pixels a byte, deflated, base64url
    (a digit drawn on the canvas takes about 130 characters)."""
    levels = np.round(np.clip(pixels, 0.0, 1.0) * (LEVELS - 1)).astype(np.uint8).ravel()
    if levels.size % 2:
        levels = np.append(levels, 0)
    packed = (levels[0::2] << 4 | levels[1::2]).astype(np.uint8)
    return base64.urlsafe_b64encode(zlib.compress(packed.tobytes(), 9)).decode().rstrip("=")


def digit_from_text(text: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The drawing :func:`digit_text` wrote, as pixels of ``shape``; None when ``text`` is not one of that size."""
    try:
        raw = zlib.decompressobj().decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), shape[0] * shape[1])
    except (binascii.Error, zlib.error, ValueError):
        return None
    packed = np.frombuffer(raw, dtype=np.uint8)
    if packed.size != (shape[0] * shape[1] + 1) // 2:
        return None
    levels = np.stack([packed >> 4, packed & 15], axis=1).ravel()[: shape[0] * shape[1]]
    return (levels.astype(np.float32) / (LEVELS - 1)).reshape(shape)


def image_to_input(image: Image.Image, shape: tuple[int, int]) -> np.ndarray:
    """Any uploaded or drawn image -> pixels in [0, 1] of ``shape`` (H, W), ink bright on dark like MNIST.

    Converted to grayscale (alpha composited on white), cropped to the ink's bounding box and
    framed like MNIST (:func:`mnist_frame`). A picture with a light
    background is inverted. Raises ValueError for an empty (blank) picture.
    """
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if gray.size == 0:
        raise ValueError("the picture is empty")
    if np.median(gray) > 0.5:
        gray = 1.0 - gray
    ink = gray > 0.2
    if not ink.any():
        raise ValueError("the picture is blank: draw or upload a digit")
    rows, cols = np.where(ink)
    crop = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    return mnist_frame(crop, shape)


def mnist_frame(crop: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """MNIST's normalization: fit the ink into a box 20/28 of the frame (aspect kept), centre its centre of mass."""
    h, w = shape
    scale = min(h * 20 / 28 / crop.shape[0], w * 20 / 28 / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float32) / 255.0
    mass = max(float(small.sum()), 1e-6)
    com_r = float((small.sum(1) * np.arange(small.shape[0])).sum()) / mass
    com_c = float((small.sum(0) * np.arange(small.shape[1])).sum()) / mass
    top = int(np.clip(round((h - 1) / 2 - com_r), 0, h - small.shape[0]))
    left = int(np.clip(round((w - 1) / 2 - com_c), 0, w - small.shape[1]))
    frame = np.zeros(shape, dtype=np.float32)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


def read_upload(upload: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """An uploaded file as model input, or None after saying why it was refused."""
    try:
        with Image.open(upload) as im:
            im.load()
            return image_to_input(im, shape)
    except (UnidentifiedImageError, OSError) as err:
        st.error(f"Not an image this lab can read ({err}). Upload a PNG or JPEG.")
    except ValueError as err:
        st.warning(str(err).capitalize() + ".")
    except Image.DecompressionBombError:
        st.error("That image is too large; upload one under 50 megapixels.")
    return None


def canvas_input(rgba: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """A drawing canvas's RGBA pixels as model input, or None for an empty canvas (nothing drawn yet: no message)."""
    image = Image.fromarray(np.asarray(rgba, dtype=np.uint8))
    try:
        return image_to_input(image, shape)
    except ValueError:
        return None
