"""The "Which KL?" pictures: p's density filled, q's 1- and 2-sigma contours as lines over it, the closed-form optimum
dashed (book figure 3.6); and both divergences per step. Plotly only (no Streamlit), so scripts can build them too."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from engine.run import Series
from engine.tasks.inference.kl import VIEW
from lab.figures import FONT_SIZE, style
from lab.pictures import PALETTE

Q_COLOUR, OPTIMUM_COLOUR, P_SCALE = "#d62728", "#111111", "Blues"
NAMES = {"kl_reverse": "KL(q‖p)", "kl_forward": "KL(p‖q)", "kl_optimum": "at the closed-form optimum"}
"""The legend names of the divergence curves."""


def _ellipse_traces(ellipses: np.ndarray, name: str, colour: str, dash: str) -> list[go.Scatter]:
    """One line per contour (1 sigma, 2 sigma); the legend shows the first only."""
    return [
        go.Scatter(x=e[:, 0], y=e[:, 1], mode="lines", name=name, legendgroup=name, showlegend=i == 0, hoverinfo="skip",
                   line={"color": colour, "width": 3 if dash == "solid" else 2.5, "dash": dash})
        for i, e in enumerate(ellipses)
    ]  # fmt: skip


def fit_figure(arrays: Mapping[str, np.ndarray], title: str) -> go.Figure:
    """p's density (filled contours) with q's contours at Mahalanobis radii 1 and 2 (solid) and the closed-form
    optimum's (dashed, when there is one), on the square [-VIEW, VIEW]^2 with equal axes."""
    axis = arrays["axis"]
    fig = go.Figure(go.Contour(x=axis, y=axis, z=arrays["p_density"], colorscale=P_SCALE, showscale=False, ncontours=12,
                               line={"width": 0}, hoverinfo="skip", name="p(x)", showlegend=True))  # fmt: skip
    optimum = arrays["optimum_ellipses"]
    if optimum.shape[1]:
        for trace in _ellipse_traces(optimum, "optimum", OPTIMUM_COLOUR, "dash"):
            fig.add_trace(trace)
    for trace in _ellipse_traces(arrays["q_ellipses"], "q: 1σ, 2σ", Q_COLOUR, "solid"):
        fig.add_trace(trace)
    mean = arrays["q_mean"]
    fig.add_trace(go.Scatter(x=[mean[0]], y=[mean[1]], mode="markers", name="q's mean", showlegend=False, hoverinfo="skip",
                             marker={"color": Q_COLOUR, "size": 10, "symbol": "x"}))  # fmt: skip
    style(fig, title, "x₁", "x₂")
    fig.update_layout(
        title={"font": {"size": FONT_SIZE}, "y": 0.98, "yanchor": "top"},
        margin={"l": 50, "r": 10, "t": 36, "b": 40},
        legend={"x": 1.02, "y": 1.0, "xanchor": "left", "yanchor": "top", "font": {"size": FONT_SIZE - 4}},
        uirevision="which-kl",
    )
    fig.update_xaxes(range=[-VIEW, VIEW], constrain="domain", showgrid=False, zeroline=False)
    fig.update_yaxes(range=[-VIEW, VIEW], scaleanchor="x", scaleratio=1, constrain="domain", showgrid=False, zeroline=False)
    return fig


def divergence_figure(metrics: Mapping[str, Series], minimized: str) -> go.Figure:
    """KL(q || p) and KL(p || q) per step (the minimized one thick), and the minimized one's value at the closed-form
    optimum (dashed) where there is one."""
    fig = go.Figure()
    for i, key in enumerate(("kl_reverse", "kl_forward")):
        if key in metrics:
            s = metrics[key]
            thick = key == f"kl_{minimized}"
            fig.add_trace(go.Scatter(x=s.steps, y=s.values, mode="lines", name=NAMES[key] + (" (minimized)" if thick else ""),
                                     line={"width": 4 if thick else 2, "color": PALETTE[i]}))  # fmt: skip
    if "kl_optimum" in metrics:
        s = metrics["kl_optimum"]
        fig.add_trace(go.Scatter(x=s.steps, y=s.values, mode="lines", name=NAMES["kl_optimum"], line={"width": 2, "color": OPTIMUM_COLOUR, "dash": "dash"}))
    style(fig, "The divergences per step", "step", "KL (nats)", height=300)
    fig.update_layout(margin={"l": 70, "r": 20, "t": 50, "b": 50}, uirevision="which-kl-curves")
    fig.update_yaxes(rangemode="tozero")
    return fig
