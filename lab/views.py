"""Drawing on a page: pictures (lab.pictures) through ``st.image`` and figures (lab.figures) through ``st.plotly_chart``.

Everything here only draws; nothing here computes model math. The PNG of a picture is sent at its own
size and the browser upscales it nearest-neighbour, so a live panel shows crisp pixels at ~40 fps.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lab.figures import FONT_SIZE, curves, histogram, scatter, style
from lab.pictures import PALETTE, fit_scale, png_bytes, strip, tile_grid, to_uint8, upscale

__all__ = ["FONT_SIZE", "PALETTE", "crisp_pixels", "curves", "fit_scale", "histogram", "number", "plot", "png_bytes", "scatter", "show_image", "strip", "style", "tile_grid", "to_uint8", "upscale"]
"""The page-facing names: a page draws with ``views.*`` alone."""


def crisp_pixels() -> None:
    """Let the browser upscale pictures nearest-neighbour, so small PNGs stay sharp at any size, and never wider than their column
    (the app sets it on every page)."""
    st.html(
        "<style>[data-testid='stImage'] img {image-rendering: pixelated; max-width: 100%; height: auto;}"
        " [data-testid='stImageContainer'] {max-width: 100%;}</style>"
    )


def show_image(picture: np.ndarray, caption: str | None = None, target_width: int = 560) -> None:
    """Draw a picture with ``st.image`` at about ``target_width`` pixels (an integer multiple of its own width).

    The PNG is sent at the picture's own size and the browser upscales it (:func:`crisp_pixels`):
    encoding the small picture is what limits how many frames a second a live panel can show.
    """
    picture = to_uint8(picture)
    # output_format="PNG": with "auto", Streamlit decodes the bytes and re-encodes a gray picture as JPEG
    st.image(png_bytes(picture), caption=caption, width=picture.shape[1] * fit_scale(picture.shape[1], target_width), output_format="PNG")


def number(value: float | None, spec: str = ".2f") -> str:
    """A metric as the page shows it: "—" while there is none yet (before the first step), never "nan"."""
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


def plot(fig: go.Figure, key: str | None = None) -> None:
    """Draw a Plotly figure across the container's width."""
    st.plotly_chart(fig, key=key, width="stretch", config={"displaylogo": False})
