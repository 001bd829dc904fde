"""Plotly figures of the GAN pages: the a*b game, the Dirac-GAN, and the 2-D GAN's layered picture.

Kept light for live redraws: SVG scatter for a few hundred points (a live chart is
re-created on every frame, and WebGL contexts are slow to create and limited in
number), one coarse heatmap, arrows as
one line trace with gaps (None) rather than one annotation per arrow, and
figures assembled from plain dicts without Plotly's validation (lab.views.style
with its named template costs ~150 ms a figure; these cost a few ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from engine.models.gan import d_is_probability
from lab.figures import FONT_SIZE
from lab.pictures import PALETTE

RULE_COLORS = {
    "simultaneous": "#d62728",
    "alternating": "#1f77b4",
    "extragradient": "#2ca02c",
    "optimistic": "#ff7f0e",
    "consensus": "#9467bd",
    "flow": "#555555",
}
LAYERS = ("D heatmap", "real", "fake", "gradient arrows", "latent mesh")
_GRID = "#e5ecf6"


def _axis(title: str, **extra) -> dict:
    return {"title": {"text": title}, "gridcolor": _GRID, "zerolinecolor": "#c8d2e0", "linecolor": "#888", "automargin": True, **extra}


def fast_figure(traces: list[dict], title: str, xlabel: str, ylabel: str, height: int = 380, xaxis: dict | None = None, yaxis: dict | None = None, **layout) -> go.Figure:
    """A figure from plain trace dicts with the look of lab.views.style (large fonts, white background), unvalidated."""
    lay = {
        "title": {"text": title, "font": {"size": FONT_SIZE + 2}},
        "font": {"size": FONT_SIZE},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"font": {"size": FONT_SIZE - 2}},
        "xaxis": _axis(xlabel, **(xaxis or {})),
        "yaxis": _axis(ylabel, **(yaxis or {})),
        **layout,
    }
    return go.Figure({"data": traces, "layout": lay}, _validate=False)


def arrow_segments(starts: np.ndarray, vectors: np.ndarray, head: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays drawing each vector as a shaft plus a two-stroke head, separated by NaN gaps."""
    starts, vectors = np.asarray(starts, float), np.asarray(vectors, float)
    n = np.hypot(vectors[:, 0], vectors[:, 1])
    keep = n > 1e-12
    p0, v, n = starts[keep], vectors[keep], n[keep][:, None]
    p1 = p0 + v
    u = v / n
    h = head * n
    perp = np.stack([-u[:, 1], u[:, 0]], 1)
    left = p1 - h * (0.87 * u + 0.5 * perp)
    right = p1 - h * (0.87 * u - 0.5 * perp)
    gap = np.full_like(p0, np.nan)
    pts = np.stack([p0, p1, gap, left, p1, right, gap], 1).reshape(-1, 2)
    return pts[:, 0], pts[:, 1]


def click_grid(view: float, n: int = 41) -> dict:
    """An invisible grid of markers: clicking anywhere selects the nearest grid point (on_select='rerun')."""
    g = np.linspace(-view, view, n)
    xx, yy = np.meshgrid(g, g)
    return {
        "type": "scatter", "x": xx.ravel(), "y": yy.ravel(), "mode": "markers", "name": "click", "showlegend": False,
        "marker": {"size": 14, "opacity": 0.0, "color": "#000"}, "hovertemplate": "click: (%{x:.2f}, %{y:.2f})<extra></extra>",
    }  # fmt: skip


def vector_field(field, view: float, n: int = 13, scale: float = 0.05, color: str = "#a0a0a0", name: str = "vector field") -> dict:
    """Arrows of a 2-D field f(x, y) -> (u, v) on an n x n grid, normalized so the longest is ``scale * 2 * view``."""
    g = np.linspace(-view, view, n)
    xx, yy = np.meshgrid(g, g)
    u, v = field(xx, yy)
    m = max(float(np.hypot(u, v).max()), 1e-12)
    vec = np.stack([np.ravel(u), np.ravel(v)], 1) / m * scale * 2 * view
    xs, ys = arrow_segments(np.stack([xx.ravel(), yy.ravel()], 1), vec)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": {"color": color, "width": 1.5}, "hoverinfo": "skip", "name": name}


def game_figure(trajectories: Mapping[str, np.ndarray], field, view: float, upto: int, title: str, xlabel: str, ylabel: str, height: int = 620) -> go.Figure:
    """Trajectories of several rules (first ``upto`` + 1 points) over the vector field, with the click grid."""
    traces = [vector_field(field, view)]
    for rule, traj in trajectories.items():
        t = traj[: upto + 1]
        color = RULE_COLORS.get(rule, PALETTE[0])
        traces.append({"type": "scatter", "x": t[:, 0], "y": t[:, 1], "mode": "lines", "name": rule, "line": {"color": color, "width": 3}})
        traces.append({"type": "scatter", "x": t[-1:, 0], "y": t[-1:, 1], "mode": "markers", "showlegend": False, "hoverinfo": "skip",
                       "marker": {"color": color, "size": 13, "line": {"width": 1, "color": "white"}}})  # fmt: skip
    start = next(iter(trajectories.values()))[0] if trajectories else np.zeros(2)
    traces.append({"type": "scatter", "x": [start[0]], "y": [start[1]], "mode": "markers", "name": "start", "marker": {"symbol": "x", "size": 14, "color": "black"}})
    traces.append({"type": "scatter", "x": [0], "y": [0], "mode": "markers", "name": "equilibrium",
                   "marker": {"symbol": "star", "size": 18, "color": "gold", "line": {"width": 1, "color": "black"}}})  # fmt: skip
    traces.append(click_grid(view))
    return fast_figure(
        traces, title, xlabel, ylabel, height=height,
        xaxis={"range": [-view, view], "constrain": "domain"}, yaxis={"range": [-view, view], "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        legend={"orientation": "h", "y": -0.27, "yanchor": "top", "font": {"size": FONT_SIZE - 2}}, clickmode="event+select", dragmode=False,
    )  # fmt: skip


def radius_figure(radii: Mapping[str, np.ndarray], upto: int, title: str = "Distance from the equilibrium", ylabel: str = "radius (log scale)", height: int = 360) -> go.Figure:
    """Radius over steps for each rule, on a log axis (geometric growth or decay is a straight line)."""
    traces = [
        {"type": "scatter", "x": np.arange(upto + 1), "y": np.maximum(r[: upto + 1], 1e-12), "mode": "lines", "name": rule, "line": {"width": 3, "color": RULE_COLORS.get(rule)}}
        for rule, r in radii.items()
    ]
    return fast_figure(traces, title, "step", ylabel, height=height, yaxis={"type": "log", "tickformat": ".2~g", "dtick": "D2"}, legend={"orientation": "h", "y": -0.35})


def eigen_figure(eigs: Mapping[str, np.ndarray], title: str = "Eigenvalues of one update") -> go.Figure:
    """Eigenvalues in the complex plane with the unit circle: outside spirals out, on it orbits, inside converges."""
    t = np.linspace(0, 2 * np.pi, 200)
    traces = [{"type": "scatter", "x": np.cos(t), "y": np.sin(t), "mode": "lines", "line": {"color": "#888", "dash": "dash"}, "name": "|λ| = 1"}]
    for rule, ev in eigs.items():
        traces.append({"type": "scatter", "x": ev.real, "y": ev.imag, "mode": "markers", "name": rule,
                       "marker": {"size": 14, "color": RULE_COLORS.get(rule), "line": {"width": 1, "color": "white"}}})  # fmt: skip
    reach = max([1.15] + [float(np.abs(ev).max()) * 1.1 for ev in eigs.values()])
    return fast_figure(
        traces, title, "Re λ", "Im λ", height=360, xaxis={"range": [-reach, reach], "constrain": "domain"},
        yaxis={"range": [-reach, reach], "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"}, legend={"orientation": "h", "y": -0.35},
    )  # fmt: skip


def mesh_lines(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of an (n, n, 2) mesh as one polyline with NaN gaps."""
    lines = np.concatenate([mesh, mesh.transpose(1, 0, 2)])
    gap = np.full((len(lines), 1, 2), np.nan)
    pts = np.concatenate([lines, gap], 1).reshape(-1, 2)
    return pts[:, 0], pts[:, 1]


def gan2d_figure(
    arrays: Mapping[str, np.ndarray],
    layers: Sequence[str],
    view: float,
    loss: str,
    centers: np.ndarray | None = None,
    title: str = "",
    height: int = 640,
    clickable: bool = False,
    legend: bool = True,
    colorbar: bool = True,
) -> go.Figure:
    """The 2-D GAN picture: D's output as a heatmap behind real (blue) and fake (red) samples,
    the generator's push on each fake as an arrow, and G's image of a latent grid as a mesh. Without ``legend`` and
    ``colorbar`` (a compared pair's half-width pictures, whose page says what the marks are) the square gets their room."""
    traces: list[dict] = []
    if "D heatmap" in layers:
        heat = arrays["heat"]
        g = np.linspace(-view, view, heat.shape[0])
        prob = d_is_probability(loss)
        lim = float(np.abs(heat).max()) or 1.0
        traces.append({
            "type": "heatmap", "x": g, "y": g, "z": heat, "colorscale": "RdBu", "reversescale": True, "opacity": 0.6, "hovertemplate": "D = %{z:.2f}<extra></extra>",
            "zmin": 0.0 if prob else -lim, "zmax": 1.0 if prob else lim,
            "colorbar": {"title": {"text": "D(x) = P(real)" if prob else "D(x) (critic)", "side": "right"}, "thickness": 14}, "showscale": colorbar,
        })  # fmt: skip
    if "latent mesh" in layers:
        xs, ys = mesh_lines(arrays["mesh"])
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": {"color": "rgba(40,40,40,0.5)", "width": 1}, "name": "G(latent grid)", "hoverinfo": "skip"})
    if "real" in layers:
        r = arrays["real"]
        traces.append({"type": "scatter", "x": r[:, 0], "y": r[:, 1], "mode": "markers", "name": "real data", "marker": {"size": 5, "color": "#1f5fbf", "opacity": 0.6}})
    if "fake" in layers:
        f = arrays["fake"]
        traces.append({"type": "scatter", "x": f[:, 0], "y": f[:, 1], "mode": "markers", "name": "generated G(z)", "marker": {"size": 5, "color": "#e4572e", "opacity": 0.85}})
    if "gradient arrows" in layers:
        push = arrays["push"]
        length = np.hypot(push[:, 0], push[:, 1])
        m = max(float(np.percentile(length, 95)), 1e-12)
        shrink = np.minimum(1.0, 1.5 * m / np.maximum(length, 1e-12))  # cap long arrows at 1.5 x the 95th percentile, keeping their direction
        xs, ys = arrow_segments(arrays["fake"][: len(push)], push * (shrink / m)[:, None] * 0.35, head=0.35)
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": {"color": "#6b1a00", "width": 1.5}, "name": "G's gradient step", "hoverinfo": "skip"})
    if centers is not None:
        traces.append({"type": "scatter", "x": centers[:, 0], "y": centers[:, 1], "mode": "markers", "name": "modes",
                       "marker": {"symbol": "circle-open", "size": 16, "color": "#1f5fbf", "line": {"width": 2}}})  # fmt: skip
    if clickable:
        traces.append(click_grid(view, 31))
    return fast_figure(
        traces, title, "x₁", "x₂", height=height,
        xaxis={"range": [-view, view], "constrain": "domain"}, yaxis={"range": [-view, view], "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
        legend={"orientation": "h", "y": -0.2, "yanchor": "top", "font": {"size": FONT_SIZE - 2}}, showlegend=legend, uirevision="gan2d",
    )  # fmt: skip


def curves_figure(series: Mapping[str, object], names: Mapping[str, str], title: str, ylabel: str, height: int = 340) -> go.Figure:
    """Metric histories (engine.run.Series) as lines: the light twin of lab.views.curves for charts redrawn several times a second."""
    traces = [
        {"type": "scatter", "x": s.steps, "y": s.values, "mode": "lines", "name": names.get(k, k), "line": {"width": 3, "color": PALETTE[i % len(PALETTE)]}}
        for i, (k, s) in enumerate(series.items())
    ]
    return fast_figure(traces, title, "generator step", ylabel, height=height)
