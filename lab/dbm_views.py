"""Pictures and shared loaders for the DBM pages: hidden layers as images, mean-field curves."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.models.dbm_training import TrainedDBM
from engine.run import Series
from engine.tasks.dbm import PRETRAINED, DBMData, load_images, load_pretrained
from lab import views


@st.cache_resource(show_spinner="Loading the pretrained MNIST DBM ...")
def pretrained_dbm() -> TrainedDBM | None:
    """The shipped DBM, shared read-only by every session (None when the checkpoint is missing)."""
    if not PRETRAINED.with_suffix(".safetensors").exists():
        return None
    return load_pretrained()


@st.cache_resource(show_spinner="Loading MNIST ...")
def dbm_images(dataset: str) -> DBMData | None:
    """The images of a dataset (None when MNIST is not on disk)."""
    try:
        return load_images(dataset)
    except Exception:  # noqa: BLE001 - any data problem is shown as a message by the page
        return None


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols = n as square as possible (500 -> 20 x 25), for a layer shown as an image."""
    rows = int(math.isqrt(n))
    while n % rows:
        rows -= 1
    return rows, n // rows


def layer_picture(values: np.ndarray, target_width: int = 260) -> np.ndarray:
    """One layer's unit values in [0, 1] as a near-square grey image (one pixel per unit), upscaled."""
    values = np.asarray(values, dtype=np.float32).ravel()
    rows, cols = grid_shape(len(values))
    if rows == 1 and len(values) > 16:  # a prime count: lay it out in a padded square
        cols = int(math.ceil(math.sqrt(len(values))))
        rows = int(math.ceil(len(values) / cols))
        values = np.concatenate([values, np.full(rows * cols - len(values), 0.5, np.float32)])
    pic = views.to_uint8(values.reshape(1, rows, cols))[0]
    return views.upscale(pic, views.fit_scale(cols, target_width))


def image_picture(v: np.ndarray, shape: tuple[int, int], target_width: int = 260, observed: np.ndarray | None = None) -> np.ndarray:
    """A visible vector as an image; free (unclamped) pixels tinted blue when ``observed`` is given."""
    gray = views.to_uint8(np.asarray(v, dtype=np.float32).reshape(1, *shape))[0]
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    if observed is not None:
        free = ~np.asarray(observed, dtype=bool).reshape(shape)
        rgb[free] = (0.55 * rgb[free] + 0.45 * np.array([40, 110, 230])).astype(np.uint8)
    return views.upscale(rgb, views.fit_scale(shape[1], target_width))


def samples_grid(v: np.ndarray, shape: tuple[int, int], ncols: int = 8, target_width: int = 520) -> np.ndarray:
    pic = views.tile_grid(np.asarray(v).reshape(-1, *shape), ncols=ncols)
    return views.upscale(pic, views.fit_scale(pic.shape[1], target_width))


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def weight_product(l: int) -> str:
    """The product of the weight matrices from the pixels up to layer ``l``: W¹W²W³ for l = 3."""
    return "".join(f"W{SUPERSCRIPTS[k]}" for k in range(1, l + 1))


def filter_grid(filters: np.ndarray, shape: tuple[int, int], ncols: int = 8) -> np.ndarray:
    """Filters (one row per unit) as image tiles, each stretched to its own range (black = its most negative weight, white = its most positive)."""
    return views.tile_grid(np.asarray(filters).reshape(-1, *shape), ncols=ncols, contrast="per_tile")


def filter_caption(l: int, filters: np.ndarray, n_units: int) -> str:
    """What a filter grid shows: the layer, which product of weights, how many of its units."""
    seen = "" if l == 1 else ", seen in pixel space"
    return f"h{SUPERSCRIPTS[l]} filters{seen}: columns of {weight_product(l)} ({len(filters)} of {n_units} units)"


FILTER_NOTE = ("Each tile is stretched to its own range (black: its most negative weight, white: its most positive). "
               "A deeper unit is drawn through the product of the weights below it, the sigmoids in between left out.")  # fmt: skip


def units_picture(rows: np.ndarray, target_width: int = 520, height: int = 2) -> np.ndarray:
    """Binary states of a layer for several chains: one strip per chain."""
    rows = np.asarray(rows, dtype=np.float32)
    pic = np.repeat(views.to_uint8(rows[None])[0], height, axis=0)
    return views.upscale(pic, max(1, target_width // max(1, rows.shape[1])))


def bound_figure(bound: Series, initial: float, references: dict[str, float]) -> go.Figure:
    """L(v, Q) + log Z per mean-field iteration, with the one-pass guesses as dashed lines."""
    x = np.concatenate([[0], bound.steps])
    y = np.concatenate([[initial], bound.values]) if np.isfinite(initial) else bound.values
    x = x if np.isfinite(initial) else bound.steps
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", name="mean field", line={"width": 3, "color": views.PALETTE[0]}))
    shown = [v for v in references.values() if np.isfinite(v)]
    for i, (label, value) in enumerate(references.items()):
        if np.isfinite(value):
            fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[value, value], mode="lines", name=label, line={"dash": "dash", "width": 2, "color": views.PALETTE[i + 1]}))
    # the start (often far below) would squash the curve: frame the iterations and the one-pass references
    body = np.concatenate([bound.values, shown]) if len(bound.values) else np.asarray(shown)
    if len(body):
        lo, hi = float(body.min()), float(body.max())
        pad = max(0.05 * (hi - lo), 1.0)
        fig.update_yaxes(range=[lo - pad, hi + pad])
    fig.update_layout(legend={"orientation": "h", "y": -0.3})
    return views.style(fig, "Lower bound L(v, Q) + log Z", "mean-field iteration", "nats (linear scale)")


def change_figure(change: Series) -> go.Figure:
    """max |mu_new - mu_old| over all layers per iteration on a log scale: a straight line down = linear convergence."""
    fig = go.Figure(go.Scatter(x=change.steps, y=np.maximum(change.values, 1e-12), mode="lines+markers", line={"width": 3, "color": views.PALETTE[1]}, showlegend=False))
    fig.update_yaxes(type="log", exponentformat="power")
    return views.style(fig, "Update size max |Δμ|", "mean-field iteration", "max |μ_new − μ_old|, log scale")


def gap_figure(bound: Series) -> go.Figure:
    """L at the latest iteration minus L at each earlier iteration, on a log scale (L + log Z may have
    either sign and only its changes matter, so only this difference can go on a log axis). The latest iteration (0 by definition)
    and iterations whose bound is not below the latest (parallel updates that oscillate) are left out."""
    values = np.asarray(bound.values, dtype=np.float64)
    gap = values[-1] - values[:-1] if len(values) else values
    gap = np.where(gap > 0, gap, np.nan)
    fig = go.Figure(go.Scatter(x=bound.steps[: len(gap)], y=gap, mode="lines+markers", line={"width": 3, "color": views.PALETTE[2]}, showlegend=False))
    fig.update_yaxes(type="log", exponentformat="power")
    return views.style(fig, "Bound still to gain", "mean-field iteration", "L(latest) − L(iteration), nats, log scale")
