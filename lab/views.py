"""Pictures: image tiles as uint8 PNGs, and Plotly figures styled for a projector.

Everything here turns arrays into pictures; nothing here computes model math.
Tile grids are assembled in NumPy and upscaled nearest-neighbour on the server,
so a browser shows crisp pixels at ~40 fps through ``st.image``. Plotly is for
curves, scatter plots and fields, redrawn at most a few times a second.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from engine.run import Series

FONT_SIZE = 18
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


# --------------------------------------------------------------------------- image tiles


def to_uint8(images: np.ndarray, contrast: str = "fixed", lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Map images (N, H, W) to uint8.

    ``contrast``: ``fixed`` maps [lo, hi] to [0, 255] (data in [0, 1]);
    ``per_tile`` stretches each image to its own min..max (filters: every
    filter legible whatever its scale); ``global`` stretches by the whole stack;
    ``symmetric`` maps [-m, m] with m the largest |value| (weights: gray is zero).
    """
    if np.asarray(images).dtype == np.uint8:
        return np.asarray(images)
    x = np.asarray(images, dtype=np.float32)
    if contrast == "fixed":
        y = (x - lo) / max(hi - lo, 1e-12)
    elif contrast == "per_tile":
        mn = x.min(axis=(1, 2), keepdims=True)
        mx = x.max(axis=(1, 2), keepdims=True)
        y = (x - mn) / np.maximum(mx - mn, 1e-12)
    elif contrast == "global":
        y = (x - x.min()) / max(float(x.max() - x.min()), 1e-12)
    elif contrast == "symmetric":
        m = max(float(np.abs(x).max()), 1e-12)
        y = 0.5 + 0.5 * x / m
    else:
        raise ValueError(f"unknown contrast {contrast!r}")
    return (np.clip(np.nan_to_num(y, nan=0.0), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def tile_grid(
    images: np.ndarray,
    ncols: int | None = None,
    pad: int = 1,
    contrast: str = "fixed",
    pad_value: int = 128,
    scale: int = 1,
) -> np.ndarray:
    """Lay N images (N, H, W) out as one uint8 picture, ``ncols`` per row, ``pad`` pixels apart.

    Pixels are upscaled ``scale`` times nearest-neighbour so they stay sharp.
    """
    tiles = images if images.dtype == np.uint8 else to_uint8(images, contrast)
    if tiles.ndim != 3:
        raise ValueError(f"tile_grid wants (N, H, W) images, got shape {tiles.shape}")
    n, h, w = tiles.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = tiles[i]
    return upscale(out, scale)


def upscale(picture: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor (no blur on a projector)."""
    if factor <= 1:
        return picture
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)


def fit_scale(picture_width: int, target_width: int = 560) -> int:
    """The integer upscaling factor that brings a picture close to ``target_width`` pixels."""
    return max(1, int(target_width // max(picture_width, 1)))


def png_bytes(picture: np.ndarray) -> bytes:
    """A uint8 picture as PNG with light compression: 1.6x faster to encode than PNG's default level, 7% larger."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


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


def strip(values: np.ndarray, height: int = 12, contrast: str = "fixed") -> np.ndarray:
    """A row of unit activations (K,) in [0, 1] as a uint8 strip ``height`` pixels tall."""
    row = to_uint8(np.asarray(values, dtype=np.float32)[None, None, :], contrast)[0]
    return np.repeat(row, height, axis=0)


# --------------------------------------------------------------------------- Plotly


def style(fig: go.Figure, title: str, xlabel: str | None = None, ylabel: str | None = None, height: int = 380) -> go.Figure:
    """Large fonts, labelled axes, a title that says what is shown: legible on a projector."""
    fig.update_layout(
        title={"text": title, "font": {"size": FONT_SIZE + 2}},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        template="plotly_white",
        legend={"font": {"size": FONT_SIZE - 2}},
    )
    if xlabel is not None:
        fig.update_xaxes(title_text=xlabel)
    if ylabel is not None:
        fig.update_yaxes(title_text=ylabel)
    return fig


def curves(
    series: Mapping[str, Series],
    title: str,
    ylabel: str,
    xlabel: str = "training step",
    log_y: bool = False,
    names: Mapping[str, str] | None = None,
) -> go.Figure:
    """Metric histories as lines on one chart (``names`` maps metric keys to legend labels)."""
    fig = go.Figure()
    for i, (key, s) in enumerate(series.items()):
        label = (names or {}).get(key, key)
        fig.add_trace(go.Scatter(x=s.steps, y=s.values, mode="lines", name=label, line={"width": 3, "color": PALETTE[i % len(PALETTE)]}))
    if log_y:
        fig.update_yaxes(type="log")
    return style(fig, title, xlabel, ylabel)


def histogram(values: Mapping[str, np.ndarray], title: str, xlabel: str, bins: int = 60) -> go.Figure:
    """Overlaid histograms of flattened arrays (weights, updates, activations)."""
    fig = go.Figure()
    for i, (label, v) in enumerate(values.items()):
        fig.add_trace(go.Histogram(x=np.asarray(v).ravel(), nbinsx=bins, name=label, opacity=0.7, marker_color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(barmode="overlay")
    return style(fig, title, xlabel, "count")


def scatter(
    points: np.ndarray,
    title: str,
    xlabel: str,
    ylabel: str,
    labels: Sequence | np.ndarray | None = None,
    marker_size: int = 6,
) -> go.Figure:
    """2-D points, coloured by label when labels are given (one legend entry per label)."""
    fig = go.Figure()
    if labels is None:
        fig.add_trace(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", marker={"size": marker_size}, showlegend=False))
    else:
        labels = np.asarray(labels)
        for i, lab in enumerate(np.unique(labels)):
            m = labels == lab
            fig.add_trace(
                go.Scattergl(x=points[m, 0], y=points[m, 1], mode="markers", name=str(lab), marker={"size": marker_size, "color": PALETTE[i % len(PALETTE)]})
            )
    return style(fig, title, xlabel, ylabel)


def plot(fig: go.Figure, key: str | None = None) -> None:
    """Draw a Plotly figure across the container's width."""
    st.plotly_chart(fig, key=key, width="stretch", config={"displaylogo": False})
