"""The amortization-gap page's figures (Plotly, no Streamlit): the stage picture (the image, p(z|x) with both q's,
the three levels as a stacked bar), the per-image gaps, and the ELBO curves. Drawing only: every number comes from
the run's arrays (engine.tasks.inference.amortized)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.run import Series
from lab.figures import FONT_SIZE, style

ENCODER, OPTIMIZED, POSTERIOR = "#d62728", "#2ca02c", "Blues"
AMORTIZATION, APPROXIMATION = "#ff7f0e", "#9467bd"
RADII = (1.0, 2.0)
"""The drawn ellipses of each q: 1 sigma (solid) and 2 sigma (dotted)."""


def _ellipse(mu: np.ndarray, std: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 2.0 * np.pi, 100)
    return mu[0] + radius * std[0] * np.cos(t), mu[1] + radius * std[1] * np.sin(t)


def view_box(a: Mapping[str, np.ndarray], i: int) -> tuple[float, float, float, float]:
    """A square box around p(z|x)'s high-density region and the encoder's 2-sigma ellipse, padded by 15%."""
    lo1, hi1, lo2, hi2 = a["posterior_box"][i]
    mu, std = a["encoder_mu"][i], a["encoder_std"][i]
    lo1, hi1 = min(lo1, mu[0] - 2 * std[0]), max(hi1, mu[0] + 2 * std[0])
    lo2, hi2 = min(lo2, mu[1] - 2 * std[1]), max(hi2, mu[1] + 2 * std[1])
    half = 0.5 * 1.15 * max(hi1 - lo1, hi2 - lo2)
    c1, c2 = 0.5 * (lo1 + hi1), 0.5 * (lo2 + hi2)
    return c1 - half, c1 + half, c2 - half, c2 + half


def stage_figure(a: Mapping[str, np.ndarray], i: int, step: int, image_number: int) -> go.Figure:
    """The picture: image x, p(z|x) (blue) with the encoder's q (red) and the optimized q (green), and the three levels."""
    fig = make_subplots(rows=1, cols=3, column_widths=[0.17, 0.50, 0.33], horizontal_spacing=0.07,
                        subplot_titles=(f"x (image {image_number})", f"p(z|x) and q, step {step:,}", "Nats"))  # fmt: skip
    fig.add_trace(go.Heatmap(z=a["images"][i], colorscale="Greys", showscale=False, hoverinfo="skip"), 1, 1)
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", scaleratio=1, row=1, col=1)

    density = np.exp(a["log_posterior"][i].astype(np.float64))
    fig.add_trace(go.Heatmap(x=a["grid_z1"][i], y=a["grid_z2"][i], z=density, colorscale=POSTERIOR, showscale=False, name="p(z|x)", hoverinfo="skip"), 1, 2)
    for name, mu, std, color in (("encoder q(z|x)", a["encoder_mu"][i], a["encoder_std"][i], ENCODER), ("optimized q", a["mu"][i], a["std"][i], OPTIMIZED)):
        for radius in RADII:
            e1, e2 = _ellipse(mu, std, radius)
            fig.add_trace(go.Scatter(x=e1, y=e2, mode="lines", name=name, legendgroup=name, showlegend=radius == RADII[0],
                                     line={"color": color, "width": 3, "dash": "solid" if radius == RADII[0] else "dot"}, hoverinfo="skip"), 1, 2)  # fmt: skip
        fig.add_trace(go.Scatter(x=[mu[0]], y=[mu[1]], mode="markers", marker={"color": color, "size": 11, "symbol": "x"}, showlegend=False, legendgroup=name), 1, 2)
    lo1, hi1, lo2, hi2 = view_box(a, i)
    fig.update_xaxes(range=[lo1, hi1], title_text="z₁", row=1, col=2)
    fig.update_yaxes(range=[lo2, hi2], title_text="z₂", scaleanchor="x2", scaleratio=1, constrain="domain", row=1, col=2)
    fig.update_xaxes(constrain="domain", row=1, col=2)

    log_px, opt, amo = float(a["log_px"][i]), float(a["optimized_elbo"][i]), float(a["amortized_elbo"][i])
    fig.add_trace(go.Bar(x=["levels"], y=[opt - amo], base=[amo], marker_color=AMORTIZATION, name=f"amortization gap {opt - amo:.2f}", width=0.5), 1, 3)
    fig.add_trace(go.Bar(x=["levels"], y=[log_px - opt], base=[opt], marker_color=APPROXIMATION, name=f"approximation gap {log_px - opt:.2f}", width=0.5), 1, 3)
    for value, text, color in ((log_px, "log p(x)", "#1f4e9c"), (opt, "optimized ELBO", OPTIMIZED), (amo, "amortized ELBO", ENCODER)):
        fig.add_trace(go.Scatter(x=["levels"], y=[value], mode="markers+text", marker={"color": color, "size": 12, "symbol": "line-ew-open", "line": {"width": 4}},
                                 text=[f"{text} {value:.2f}"], textposition="middle right", textfont={"color": color, "size": FONT_SIZE - 3}, showlegend=False), 1, 3)  # fmt: skip
    span = max(log_px - amo, 1.0)
    fig.update_yaxes(range=[amo - 0.15 * span, log_px + 0.15 * span], row=1, col=3)
    fig.update_xaxes(visible=False, range=[-0.4, 2.6], row=1, col=3)
    fig.update_layout(barmode="overlay", legend={"orientation": "h", "y": -0.08, "x": 0.0, "font": {"size": FONT_SIZE - 3}},
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, font={"size": FONT_SIZE - 2}, uirevision="amortized")  # fmt: skip
    fig.update_annotations(font={"size": FONT_SIZE})
    return fig


def gaps_figure(a: Mapping[str, np.ndarray], numbers: np.ndarray, shown: int) -> go.Figure:
    """Per image of the set: the amortization gap under the approximation gap, stacked (their sum: log p(x) − amortized ELBO)."""
    labels = [str(n) for n in numbers]
    amortization = a["optimized_elbo"] - a["amortized_elbo"]
    approximation = a["log_px"] - a["optimized_elbo"]
    line = [3 if k == shown else 0 for k in range(len(labels))]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=amortization, name="amortization gap", marker={"color": AMORTIZATION, "line": {"width": line, "color": "black"}}))
    fig.add_trace(go.Bar(x=labels, y=approximation, name="approximation gap", marker={"color": APPROXIMATION, "line": {"width": line, "color": "black"}}))
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.3})
    fig.update_xaxes(type="category")
    return style(fig, "Gaps per image (outlined: the one shown)", "held-out image", "nats", height=380)


def elbo_figure(steps: np.ndarray, history: np.ndarray, shown: int, log_px: float, amortized: float) -> go.Figure:
    """The shown image's optimized ELBO per step, with its amortized ELBO and log p(x) as dashed levels."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=history[:, shown], mode="lines", name="optimized ELBO", line={"color": OPTIMIZED, "width": 3}))
    ends = [int(steps[0]), int(max(steps[-1], 1))]
    fig.add_trace(go.Scatter(x=ends, y=[log_px, log_px], mode="lines", name="log p(x)", line={"color": "#1f4e9c", "width": 2, "dash": "dash"}))
    fig.add_trace(go.Scatter(x=ends, y=[amortized, amortized], mode="lines", name="amortized ELBO", line={"color": ENCODER, "width": 2, "dash": "dash"}))
    fig.update_layout(legend={"orientation": "h", "y": -0.3})
    return style(fig, "The shown image's ELBO climbs", "step", "nats", height=380)


def mean_gaps_figure(metrics: Mapping[str, Series]) -> go.Figure:
    """The set's mean amortization and approximation gaps per step."""
    fig = go.Figure()
    for key, name, color in (("amortization_gap", "mean amortization gap", AMORTIZATION), ("approximation_gap", "mean approximation gap", APPROXIMATION)):
        if key in metrics:
            fig.add_trace(go.Scatter(x=metrics[key].steps, y=metrics[key].values, mode="lines", name=name, line={"color": color, "width": 3}))
    fig.update_layout(legend={"orientation": "h", "y": -0.3})
    return style(fig, "Mean gaps over the set", "step", "nats", height=380)
