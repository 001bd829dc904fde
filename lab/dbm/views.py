"""Pictures and shared loaders for the DBM pages: hidden layers as images, mean-field curves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.data import Split
from engine.models.dbm_training import TrainedDBM
from engine.run import Series
from engine.tasks.dbm import PRETRAINED, load_images, load_pretrained
from lab import views


@st.cache_resource(show_spinner="Loading the pretrained MNIST DBM ...")
def pretrained_dbm() -> TrainedDBM | None:
    """The shipped DBM, shared read-only by every session (None when the checkpoint is missing)."""
    if not PRETRAINED.with_suffix(".safetensors").exists():
        return None
    return load_pretrained()


@st.cache_resource(show_spinner="Loading MNIST ...")
def dbm_images(dataset: str) -> Split | None:
    """The images of a dataset (None when MNIST is not on disk)."""
    try:
        return load_images(dataset)
    except Exception:  # noqa: BLE001 - any data problem is shown as a message by the page
        return None


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def weight_product(l: int) -> str:
    """The product of the weight matrices from the pixels up to layer ``l``: W¹W²W³ for l = 3."""
    return "".join(f"W{SUPERSCRIPTS[k]}" for k in range(1, l + 1))


def filter_caption(l: int, filters: np.ndarray, n_units: int) -> str:
    """What a filter grid shows: the layer, which product of weights, how many of its units."""
    seen = "" if l == 1 else ", seen in pixel space"
    return f"h{SUPERSCRIPTS[l]} filters{seen}: {weight_product(l)}, {len(filters)} of {n_units} units"


FILTER_NOTE = ("Each tile is stretched to its own range (black: its most negative weight, white: its most positive). "
               "A deeper unit is drawn through the product of the weights below it, the sigmoids in between left out.")  # fmt: skip


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
    return views.style(fig, "Lower bound L(v, Q) + log Z", "iteration", "nats")


def change_figure(change: Series) -> go.Figure:
    """max |mu_new - mu_old| over all layers per iteration on a log scale: a straight line down = linear convergence."""
    fig = go.Figure(go.Scatter(x=change.steps, y=np.maximum(change.values, 1e-12), mode="lines+markers", line={"width": 3, "color": views.PALETTE[1]}, showlegend=False))
    fig.update_yaxes(type="log", exponentformat="power")
    return views.style(fig, "Update size max |μ_new − μ_old|", "iteration", "max |Δμ| (log scale)")


def gap_figure(bound: Series) -> go.Figure:
    """L at the latest iteration minus L at each earlier iteration, on a log scale (L + log Z may have
    either sign and only its changes matter, so only this difference can go on a log axis). The latest iteration (0 by definition)
    and iterations whose bound is not below the latest (parallel updates that oscillate) are left out."""
    values = np.asarray(bound.values, dtype=np.float64)
    gap = values[-1] - values[:-1] if len(values) else values
    gap = np.where(gap > 0, gap, np.nan)
    fig = go.Figure(go.Scatter(x=bound.steps[: len(gap)], y=gap, mode="lines+markers", line={"width": 3, "color": views.PALETTE[2]}, showlegend=False))
    fig.update_yaxes(type="log", exponentformat="power")
    return views.style(fig, "Bound still to gain: L(latest) − L", "iteration", "nats (log scale)")
