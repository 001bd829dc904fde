"""The gradient-estimators page's figures (Plotly, no Streamlit): a batch of estimates against the exact gradient,
the running means against the truth, the variance against the number of samples L, and the VAE comparison."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.inference.gradient_estimators import ESTIMATORS, VAEGradients
from engine.run import Series
from lab.figures import FONT_SIZE, style

NAMES = {"score": "score function", "baseline": "score function, baseline", "reparam": "reparameterized"}
SHORT = {"score": "score", "baseline": "score − b", "reparam": "reparam."}
COLORS = {"score": "#d95f02", "baseline": "#7570b3", "reparam": "#1b9e77"}
TRUTH_COLOR = "#222222"
BINS = 61


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float) -> str:
    """Three significant digits; very large or small values as 1.23×10⁶ (never "1.23e+06" on a projector)."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPTS)}"


def estimates_figure(arrays: Mapping[str, np.ndarray], index: int, component: str) -> go.Figure:
    """The latest batch of estimates of gradient component ``index``, one row per estimator on a shared x axis (each row
    its own count scale, so the narrow reparameterized histogram does not flatten the others), the exact gradient as a
    vertical line. The x range is the truth +- 4 exact standard deviations of the widest estimator at this L, so it stays
    put from step to step; the estimates outside it are counted in each row's label."""
    batch, truth = arrays["estimates"][:, :, index], float(arrays["truth"][index])
    sd = np.sqrt(arrays["exact_variance"][:, index])
    half = 4.0 * max(float(sd.max()), 1e-6)
    lo, hi = truth - half, truth + half
    size = (hi - lo) / BINS
    fig = make_subplots(rows=len(ESTIMATORS), cols=1, shared_xaxes=True, vertical_spacing=0.14)
    for row, name in enumerate(ESTIMATORS, start=1):
        v = batch[row - 1]
        outside = int(((v < lo) | (v > hi)).sum())
        label = f"{SHORT[name]}: mean {number(float(v.mean()))}, sd {number(float(v.std(ddof=1)))} (exact {number(float(sd[row - 1]))})"
        label += f", {outside} outside" if outside else ""
        fig.add_trace(go.Histogram(x=v, xbins={"start": lo, "end": hi, "size": size}, marker_color=COLORS[name], name=NAMES[name], showlegend=False), row=row, col=1)
        fig.add_annotation(text=label, xref="x domain", yref="y domain", x=0.0, y=1.0, xanchor="left", yanchor="bottom", showarrow=False,
                           font={"size": FONT_SIZE - 4, "color": COLORS[name]}, row=row, col=1)  # fmt: skip
        fig.add_vline(x=truth, line={"color": TRUTH_COLOR, "width": 3, "dash": "dash"}, row=row, col=1)
    fig.update_xaxes(range=[lo, hi])
    fig.update_yaxes(showticklabels=False, rangemode="tozero")
    style(fig, f"{component} E_q[f], L = {int(arrays['batch_samples'])}: dashed = exact {number(truth)}", None, None)
    fig.update_layout(bargap=0.02, margin={"l": 20, "r": 20, "t": 48, "b": 30})
    return fig


def bias_figure(series: Mapping[str, Series], truth: float, component: str) -> go.Figure:
    """The running mean of every estimator (all estimates so far) against the exact gradient: unbiased ones close in."""
    fig = go.Figure()
    for name, s in series.items():
        fig.add_trace(go.Scatter(x=s.steps, y=s.values, mode="lines", name=NAMES[name], line={"width": 3, "color": COLORS[name]}))
    fig.add_hline(y=truth, line={"color": TRUTH_COLOR, "width": 2, "dash": "dash"}, annotation_text="exact", annotation_position="top left")
    style(fig, f"Running mean of {component} estimates", "step", "mean of all estimates")
    fig.update_layout(legend={"orientation": "h", "y": -0.3})
    return fig


def variance_figure(arrays: Mapping[str, np.ndarray], index: int, slopes: Mapping[str, float], component: str) -> go.Figure:
    """Variance of each estimator against L on log-log axes: measured (markers) and exact Var_1 / L (dashed)."""
    L = arrays["sample_counts"].astype(float)
    fig = go.Figure()
    for i, name in enumerate(ESTIMATORS):
        measured = arrays["variance_curve"][:, i, index]
        slope = f"{slopes[name]:.2f}" if np.isfinite(slopes[name]) else "—"
        fig.add_trace(go.Scatter(x=L, y=measured, mode="markers+lines", name=f"{NAMES[name]} (slope {slope})",
                                 line={"width": 2, "color": COLORS[name]}, marker={"size": 8}))  # fmt: skip
        exact = arrays["exact_single_variance"][i, index] / L
        fig.add_trace(go.Scatter(x=L, y=exact, mode="lines", line={"width": 2, "color": COLORS[name], "dash": "dash"}, showlegend=False, hoverinfo="skip"))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log", exponentformat="power")
    style(fig, "Variance against L (dashed: exact)", "samples per estimate L", f"variance of {component} estimates")
    fig.update_layout(legend={"orientation": "h", "y": -0.3})
    return fig


def vae_figure(result: VAEGradients) -> go.Figure:
    """The estimates of grad_mu L(x) in the (d/dmu_1, d/dmu_2) plane, score function and reparameterized side by side,
    each on its own scale (the score function's cloud is far wider), the exact gradient as a cross."""
    kinds = (("score", result.score, result.score_variance), ("reparam", result.reparam, result.reparam_variance))
    titles = [f"{NAMES[k]}: Var = {number(float(v[0]))}, {number(float(v[1]))}" for k, _, v in kinds]
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.12)
    for col, (name, points, _) in enumerate(kinds, start=1):
        fig.add_trace(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", marker={"size": 4, "color": COLORS[name], "opacity": 0.5},
                                   name=NAMES[name], showlegend=False), row=1, col=col)  # fmt: skip
        fig.add_trace(go.Scatter(x=[result.truth[0]], y=[result.truth[1]], mode="markers", marker={"symbol": "x-thin", "size": 18, "line": {"width": 3, "color": TRUTH_COLOR}},
                                 name="exact (quadrature)", showlegend=col == 1), row=1, col=col)  # fmt: skip
        fig.update_xaxes(title_text="∂L/∂μ₁", row=1, col=col)
        fig.update_yaxes(title_text="∂L/∂μ₂", row=1, col=col)
    style(fig, f"{len(result.score)} estimates of ∇μ L(x) per estimator, L = {result.samples}", None, None, height=440)
    fig.update_annotations(font={"size": FONT_SIZE - 2})
    fig.update_layout(legend={"orientation": "h", "y": -0.25}, margin={"t": 90})
    return fig

