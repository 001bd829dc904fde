"""The EM page's Plotly figures: the points coloured by q(h | v) with each component's 1σ and 2σ ellipses, and the
climb of log p(v; θ) and L(v, θ, q) half-step by half-step with the gap between them shaded (book section 19.2)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.tasks.inference.em import E_STEP, M_STEP, START
from lab.figures import FONT_SIZE
from lab.pictures import PALETTE

LOG_P, BOUND, GAP = "#1f2a44", "#d62728", "rgba(214, 39, 40, 0.18)"
KIND_MARKS = {E_STEP: ("circle", "#2ca02c", "after an E-step"), M_STEP: ("square", "#1f77b4", "after an M-step")}
START_MARK = ("diamond", "#7f7f7f", "θ⁽⁰⁾, q uniform")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def mixed_colours(q: np.ndarray) -> list[str]:
    """Each point's colour: the components' colours mixed in proportion to its responsibilities q(h = k | v)."""
    palette = np.array([_rgb(PALETTE[k % len(PALETTE)]) for k in range(q.shape[1])])
    mixed = np.clip(q, 0.0, 1.0) @ palette
    return [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in mixed]


def ellipse(mean: np.ndarray, covariance: np.ndarray, radius: float, n: int = 72) -> np.ndarray:
    """The outline {μ + r L u : |u| = 1} with Σ = L Lᵀ: the points at Mahalanobis distance ``radius`` from μ, (n, 2)."""
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return mean + radius * np.stack([np.cos(t), np.sin(t)], axis=1) @ np.linalg.cholesky(covariance).T


def _scene(fig: go.Figure, a: Mapping[str, np.ndarray]) -> None:
    v, q = a["v"], a["q"]
    updated = a["updated"].astype(bool)
    fig.add_trace(go.Scatter(x=v[:, 0], y=v[:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                             marker={"size": 7, "color": mixed_colours(q), "line": {"width": np.where(updated, 1.5, 0.0).tolist(), "color": "#111"}}),
                  row=1, col=1)  # fmt: skip
    for k, (w, mean, cov) in enumerate(zip(a["weights"], a["means"], a["covariances"])):
        colour = PALETTE[k % len(PALETTE)]
        for radius, dash in ((1.0, "solid"), (2.0, "dash")):
            outline = ellipse(mean, cov, radius)
            fig.add_trace(go.Scatter(x=outline[:, 0], y=outline[:, 1], mode="lines", showlegend=False, hoverinfo="skip",
                                     line={"color": colour, "width": 3 if radius == 1.0 else 2, "dash": dash}), row=1, col=1)  # fmt: skip
        fig.add_trace(go.Scatter(x=[mean[0]], y=[mean[1]], mode="markers", showlegend=False, hovertemplate=f"μ{k + 1}, π = {w:.2f}<extra></extra>",
                                 marker={"symbol": "x", "size": 14, "color": colour, "line": {"width": 2, "color": "white"}}), row=1, col=1)  # fmt: skip
    lo, hi = v.min(axis=0), v.max(axis=0)
    centre, half = (lo + hi) / 2, 0.6 * (hi - lo).max()
    fig.update_xaxes(range=[centre[0] - half, centre[0] + half], title_text="v₁", constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[centre[1] - half, centre[1] + half], title_text="v₂", scaleanchor="x", scaleratio=1, constrain="domain", row=1, col=1)


def _climb(fig: go.Figure, a: Mapping[str, np.ndarray]) -> None:
    kinds, log_p, bound = a["kinds"], a["log_p"], a["bound"]
    x = np.arange(len(kinds)) / 2.0
    fig.add_trace(go.Scatter(x=x, y=bound, mode="lines", name="L(v, θ, q)", line={"color": BOUND, "width": 3}, legendgroup="lines"), row=1, col=2)
    fig.add_trace(go.Scatter(x=x, y=log_p, mode="lines", name="log p(v; θ)", line={"color": LOG_P, "width": 3}, fill="tonexty", fillcolor=GAP,
                             legendgroup="lines"), row=1, col=2)  # fmt: skip
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="gap = KL(q ‖ p(h|v))", marker={"symbol": "square", "size": 14, "color": GAP}), row=1, col=2)
    for kind, (symbol, colour, name) in {START: START_MARK, **KIND_MARKS}.items():
        at = kinds == kind
        fig.add_trace(go.Scatter(x=x[at], y=bound[at], mode="markers", name=name, showlegend=kind != START, marker={"symbol": symbol, "size": 9, "color": colour}),
                      row=1, col=2)  # fmt: skip
    fig.add_trace(go.Scatter(x=x[kinds == START], y=log_p[kinds == START], mode="markers", showlegend=False, marker={"symbol": START_MARK[0], "size": 9, "color": START_MARK[1]}),
                  row=1, col=2)  # fmt: skip
    shown = slice(2, None) if len(kinds) > 3 else slice(None)  # from the first M-step on: θ⁽⁰⁾ with uniform q may lie far below
    low, high = float(min(bound[shown].min(), log_p[shown].min())), float(max(bound[shown].max(), log_p[shown].max()))
    pad = max(0.05 * (high - low), 1e-3)
    fig.update_xaxes(range=[-0.25, max(x[-1], 2.0) + 0.25], title_text="EM iteration (half-steps: E, then M)", row=1, col=2)
    fig.update_yaxes(range=[low - pad, high + pad], title_text="nats per point", row=1, col=2)


def em_figure(a: Mapping[str, np.ndarray], scene_title: str, climb_title: str) -> go.Figure:
    """The stage picture: left the points coloured by q with the mixture's 1σ (solid) and 2σ (dashed) ellipses and means
    (points a partial E-step just updated are ringed); right log p(v; θ) and L per half-step, their gap shaded, the
    y-axis fitted to the values from the first M-step on."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.11, subplot_titles=(scene_title, climb_title))
    _scene(fig, a)
    _climb(fig, a)
    fig.update_layout(
        font={"size": FONT_SIZE - 2}, margin={"l": 60, "r": 10, "t": 40, "b": 55},
        legend={"orientation": "v", "x": 1.0, "xanchor": "right", "y": 0.02, "yanchor": "bottom", "font": {"size": FONT_SIZE - 5}, "bgcolor": "rgba(255,255,255,0.85)"},
        uirevision="em",
    )  # fmt: skip
    fig.update_annotations(font={"size": FONT_SIZE})
    return fig


def gap_figure(a: Mapping[str, np.ndarray]) -> go.Figure:
    """The gap KL(q ‖ p(h | v)) per point after every half-step, on a log scale (exact zeros after a full E-step drawn at 1e-16)."""
    kinds, gaps = a["kinds"], np.maximum(a["gap"], 1e-16)
    x = np.arange(len(kinds)) / 2.0
    fig = go.Figure(go.Scatter(x=x, y=gaps, mode="lines+markers", line={"color": BOUND, "width": 2}, marker={"size": 6}, name="gap"))
    fig.update_yaxes(type="log", dtick=1, title_text="nats per point", exponentformat="power")
    fig.update_xaxes(title_text="EM iteration")
    fig.update_layout(title={"text": "Gap log p(v; θ) − L = KL(q ‖ p(h|v))", "font": {"size": FONT_SIZE}}, font={"size": FONT_SIZE - 3},
                      height=300, margin={"l": 70, "r": 20, "t": 50, "b": 50}, showlegend=False)  # fmt: skip
    return fig


def rise_figure(a: Mapping[str, np.ndarray]) -> go.Figure:
    """What each half-step added to L (nats per point): E-steps close the gap, M-steps raise L; on a log scale."""
    kinds, bound = a["kinds"], a["bound"]
    x = np.arange(len(kinds)) / 2.0
    fig = go.Figure()
    rises = np.diff(bound)
    for kind, (symbol, colour, name) in KIND_MARKS.items():
        at = kinds[1:] == kind
        fig.add_trace(go.Scatter(x=x[1:][at], y=np.maximum(rises[at], 1e-16), mode="markers", name=name.replace("after ", ""), marker={"symbol": symbol, "size": 8, "color": colour}))
    fig.update_yaxes(type="log", dtick=1, title_text="nats per point", exponentformat="power")
    fig.update_xaxes(title_text="EM iteration")
    fig.update_layout(title={"text": "Rise of L at each half-step", "font": {"size": FONT_SIZE}}, font={"size": FONT_SIZE - 3},
                      height=300, margin={"l": 70, "r": 20, "t": 50, "b": 50}, legend={"font": {"size": FONT_SIZE - 5}})  # fmt: skip
    return fig
