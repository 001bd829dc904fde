"""Plotly figures styled for a projector: large fonts, labelled axes, a title that says what is shown.

Curves, histograms and scatter plots are built here without Streamlit (lab.views.plot draws them on a page),
so benches and scripts can build the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from engine.run import Series
from lab.pictures import PALETTE

FONT_SIZE = 18

pio.templates.default = "plotly_white"
"""The lab's Plotly template, set once for every figure: naming it in each figure's layout made Plotly validate the
whole template again, 11 of the 13 ms a curves figure took to build (measured here, Plotly 7.1)."""


def style(fig: go.Figure, title: str, xlabel: str | None = None, ylabel: str | None = None, height: int = 380) -> go.Figure:
    """Large fonts, labelled axes, a title that says what is shown: legible on a projector."""
    fig.update_layout(
        title={"text": title, "font": {"size": FONT_SIZE + 2}},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
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
