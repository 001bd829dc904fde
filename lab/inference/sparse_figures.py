"""The sparse coding page's pictures (uint8 tile grids) and figures (Plotly), without Streamlit: the dictionary's
filters, patches over their reconstructions, ISTA against FISTA from h = 0, and the PSD encoder against ISTA."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.inference.psd import EncoderComparison
from lab.figures import style
from lab.pictures import PALETTE, tile_grid, to_uint8


def dictionary_picture(filters: np.ndarray) -> np.ndarray:
    """The atoms W_:,j (k, 8, 8) as one tile grid, each stretched to its own range; about 1.6 times wider than high."""
    ncols = int(np.ceil(np.sqrt(len(filters) * 1.6)))
    return tile_grid(filters, ncols=ncols, contrast="per_tile", pad=1)


def patches_picture(patches: np.ndarray, reconstructions: np.ndarray, signed: bool) -> np.ndarray:
    """Patches x (top row) over their reconstructions W h (bottom row), on one gray scale: [0, 1] for images,
    [−m, m] with gray = 0 for patches whose mean was removed (m the patches' largest |value|)."""
    both = np.concatenate([patches, reconstructions])
    if signed:
        m = max(float(np.abs(patches).max()), 1e-12)
        tiles = to_uint8(both, "fixed", -m, m)
    else:
        tiles = to_uint8(both, "fixed")
    return tile_grid(tiles, ncols=len(patches), pad=1)


def _positive(values: np.ndarray) -> list[float | None]:
    """Values for a log axis: zeros and negatives (reached the best value) become gaps in the line."""
    return [float(v) if v > 0 else None for v in np.asarray(values, dtype=float)]


def convergence_figure(ista_gap: np.ndarray, fista_gap: np.ndarray, step: int) -> go.Figure:
    """J(h_t) − J* against iteration t from h = 0, ISTA and FISTA, on a log axis (J* the best value either reached)."""
    fig = go.Figure()
    t = np.arange(len(ista_gap))
    for i, (name, gap) in enumerate((("ISTA", ista_gap), ("FISTA", fista_gap))):
        fig.add_trace(go.Scatter(x=t, y=_positive(gap), mode="lines", name=name, line={"width": 3, "color": PALETTE[i]}))
    fig.update_yaxes(type="log", exponentformat="power")
    return style(fig, f"Inference from h = 0 with W of step {step}", "iteration t", "J(hₜ) − J*")


def encoder_figure(c: EncoderComparison) -> go.Figure:
    """The held-out objective after t ISTA iterations from h = 0 (log axis in t) against the encoder's one pass,
    the untrained encoder (one ISTA step) and the optimum, as horizontal lines."""
    t = np.arange(1, len(c.ista))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=list(c.ista[1:]), mode="lines", name="ISTA, t iterations", line={"width": 3, "color": PALETTE[0]}))
    for i, (name, value, dash) in enumerate((("trained encoder f(x), one pass", c.encoder, "solid"), ("optimum J*", c.optimum, "dot"))):
        fig.add_trace(go.Scatter(x=[t[0], t[-1]], y=[value, value], mode="lines", name=name, line={"width": 3, "color": PALETTE[1 + i], "dash": dash}))
    fig.update_xaxes(type="log")
    fig.update_layout(legend={"x": 0.98, "xanchor": "right", "y": 0.98})
    return style(fig, "Held-out patches: one encoder pass against ISTA", "ISTA iterations t", "mean J = ½‖x − Wh‖² + λ‖h‖₁")
