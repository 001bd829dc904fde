"""The mean-field page's Plotly figures (no Streamlit): binary sparse coding's marginals and bound per iteration, and
the 2-D Gaussian posterior's contours with q's product-form contours."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.run import Series
from lab.figures import FONT_SIZE, curves
from lab.pictures import PALETTE

MEAN_FIELD, EXACT, TRUE, PATH = PALETTE[1], PALETTE[0], PALETTE[0], "#7a7f8f"
CONTOUR_LEVELS = (1.0, 2.0)
"""The Mahalanobis radii of the drawn contours (1 and 2 standard deviations)."""


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": FONT_SIZE + 1}, "x": 0.01, "xanchor": "left"},
        font={"size": FONT_SIZE - 2},
       
        margin={"l": 60, "r": 20, "t": 62, "b": 50},
        showlegend=False,
        bargap=0.25,
    )
    fig.update_annotations(font={"size": FONT_SIZE - 2})
    return fig


def _key(*entries: tuple[str, str]) -> str:
    """A subplot title that is its own legend: each (colour, text) in its colour."""
    return "   ".join(f"<span style='color:{color}'>{text}</span>" for color, text in entries)


def binary_figure(a: Mapping[str, np.ndarray], n_iter: int, schedule: str) -> go.Figure:
    """Left: ĥᵢ of mean field beside the exact p(hᵢ = 1 | v), per unit. Right: L(v, θ, q) per iteration under log p(v)."""
    h, exact, bounds, log_pv = a["h_hat"], a["exact"], a["bounds"], float(a["log_pv"])
    units = [f"h{i + 1}" for i in range(len(h))]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.48, 0.52], horizontal_spacing=0.1,
                        subplot_titles=(_key((MEAN_FIELD, "■ mean field ĥ<sub>i</sub>"), (EXACT, "■ exact p(h<sub>i</sub> = 1 | v)")),
                                        _key((MEAN_FIELD, "● bound L(v, θ, q)"), (EXACT, "- - exact log p(v)"))))  # fmt: skip
    fig.add_trace(go.Bar(x=units, y=h, name="mean field ĥ", marker_color=MEAN_FIELD), 1, 1)
    fig.add_trace(go.Bar(x=units, y=exact, name="exact p(h = 1 | v)", marker_color=EXACT, opacity=0.75), 1, 1)
    it = np.arange(len(bounds))
    fig.add_trace(go.Scatter(x=it, y=bounds, mode="lines+markers", name="L(v, θ, q)", line={"color": MEAN_FIELD, "width": 3}, marker={"size": 6}), 1, 2)
    fig.add_trace(go.Scatter(x=[0, n_iter], y=[log_pv, log_pv], mode="lines", name="log p(v), exact", line={"color": EXACT, "dash": "dash", "width": 2}), 1, 2)
    fig.update_yaxes(range=[0, 1.02], title_text="probability", row=1, col=1)
    fig.update_xaxes(title_text="unit", row=1, col=1)
    fig.update_xaxes(range=[-0.5, n_iter + 0.5], title_text="iteration", row=1, col=2)
    low, high = float(min(bounds.min(), log_pv)), float(max(bounds.max(), log_pv))
    pad = 0.08 * max(high - low, 1e-3)
    fig.update_yaxes(range=[low - pad, high + pad], title_text="nats", row=1, col=2)
    updates = "one unit at a time" if schedule == "sequential" else "all units at once"
    title = f"Binary sparse coding, iteration {int(a['iteration'])} of {n_iter} ({updates}): gap log p(v) − L = {log_pv - float(bounds[-1]):.3f}"
    return _layout(fig, title)


def ellipse(mean: np.ndarray, covariance: np.ndarray, radius: float, n: int = 121) -> np.ndarray:
    """Points (n, 2) of the contour {h : (h − mean)ᵀ covariance⁻¹ (h − mean) = radius²} of a 2-D Gaussian."""
    values, vectors = np.linalg.eigh(covariance)
    t = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1) * radius
    return mean + circle * np.sqrt(values) @ vectors.T


def gaussian_figure(a: Mapping[str, np.ndarray], n_iter: int) -> go.Figure:
    """Left: p(h | v)'s contours and q(h₁) q(h₂)'s axis-aligned ones, with the path of q's means. Right: KL(q || p) per update."""
    mean, cov, m, s2, path, kls = a["mean"], a["covariance"], a["q_means"], a["q_variances"], a["path"], a["kls"]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.12,
                        subplot_titles=(_key((TRUE, "— p(h | v)"), (MEAN_FIELD, "— q(h₁) q(h₂)"), (PATH, "● q's means")),
                                        _key((MEAN_FIELD, "● KL(q ‖ p(h | v))"), (TRUE, "- - at the fixed point"))))  # fmt: skip
    for r in CONTOUR_LEVELS:
        pts = ellipse(mean, cov, r)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name="p(h | v)", line={"color": TRUE, "width": 2.5}), 1, 1)
    for r in CONTOUR_LEVELS:
        pts = ellipse(m, np.diag(s2), r)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="lines", name="q(h₁) q(h₂)", line={"color": MEAN_FIELD, "width": 2.5}), 1, 1)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name="q's means", line={"color": PATH, "width": 1.5}, marker={"size": 6}), 1, 1)
    fig.add_trace(go.Scatter(x=[mean[0]], y=[mean[1]], mode="markers", name="true mean", marker={"symbol": "x", "size": 12, "color": TRUE}), 1, 1)
    fig.update_xaxes(range=[-3.5, 5.0], title_text="h₁", row=1, col=1)
    fig.update_yaxes(range=[-3.0, 4.0], title_text="h₂", scaleanchor="x", scaleratio=1, row=1, col=1)
    steps = np.arange(len(kls))
    floor = float(a["kl_at_fixed_point"])
    fig.add_trace(go.Scatter(x=steps, y=kls, mode="lines+markers", name="KL(q ‖ p)", line={"color": MEAN_FIELD, "width": 3}, marker={"size": 6}), 1, 2)
    fig.add_trace(go.Scatter(x=[0, n_iter], y=[floor, floor], mode="lines", name="at the fixed point", line={"color": TRUE, "dash": "dash", "width": 2}), 1, 2)
    fig.update_xaxes(range=[-0.5, n_iter + 0.5], title_text="factor update", row=1, col=2)
    fig.update_yaxes(type="log", range=[np.log10(max(floor, 1e-3)) - 0.3, np.log10(max(float(kls[0]), floor * 10)) + 0.2], title_text="nats", row=1, col=2)
    step = int(a["iteration"])
    which = "none yet" if step == 0 else f"q(h{(step - 1) % 2 + 1}) updated"
    title = f"Gaussian mean field, update {step} of {n_iter} ({which}): KL = {float(kls[-1]):.3f}, fixed point {floor:.3f}"
    return _layout(fig, title)


def convergence_figure(metrics: Mapping[str, Series], part: str) -> go.Figure:
    """The size of each update (max |Δĥ| or max |Δm|) and, for binary sparse coding, the gap log p(v) − L, on a log scale."""
    names = {"change": "max |Δĥ|" if part == "binary" else "max |Δm|", "gap": "log p(v) − L = KL(q ‖ p(h | v))"}
    shown = {k: Series(s.steps, np.maximum(s.values, 1e-16)) for k, s in metrics.items() if k in names}
    fig = curves(shown, "Update size and gap (log scale)", "value", xlabel="iteration" if part == "binary" else "factor update", log_y=True, names=names)
    if not shown:
        fig.add_annotation(text="Press Play or One iteration to run mean field", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": FONT_SIZE})
        fig.update_xaxes(showticklabels=False)
        fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=320, legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0.0})
    return fig


def pair_figure(exact: np.ndarray, factorial: np.ndarray) -> go.Figure:
    """The joint of h₁ and h₂: the exact p(h₁, h₂ | v) beside mean field's q(h₁) q(h₂), as two 2x2 tables."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, subplot_titles=("exact p(h₁, h₂ | v)", "mean field q(h₁) q(h₂)"))
    for col, table in ((1, exact), (2, factorial)):
        text = [[f"{x:.2f}" for x in row] for row in table]
        fig.add_trace(go.Heatmap(z=table, x=["h₂ = 0", "h₂ = 1"], y=["h₁ = 0", "h₁ = 1"], zmin=0.0, zmax=1.0, colorscale="Blues", showscale=False,
                                 text=text, texttemplate="%{text}", textfont={"size": FONT_SIZE}), 1, col)  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=320)
    return _layout(fig, "Joint of units 1 and 2: explaining away")
