"""A GAN on 2-D data, live: discriminator heatmap, samples, the generator's gradient, the latent mesh (book 20.10.4)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.data import toy_points
from engine.models.gan import MIN_USER_POINTS, VIEW, d_is_probability, fit_user_points
from engine.pair import SIDES, side_of
from engine.run import Snapshot
from engine.tasks.gan import COMPARISONS_2D, PRESETS_2D, GAN2DTask
from lab import compare, live, stage, views
from lab import controls as ui
from lab.gan.figures import LAYERS, click_grid, curves_figure, fast_figure, gan2d_figure

P = GAN2DTask.PARAMS
SCENE_EVERY = 0.15  # seconds between redraws of the 2-D picture while the run plays (Plotly updates it in place)

stage.title("GAN on 2-D data, live")


with stage.parameters():
    ui.presets("gan2d", PRESETS_2D, help="Mode collapse: D learns 33x slower than G, G chases one mode. The cure: balanced learning rates.")
    comparison = compare.choice("gan2d", COMPARISONS_2D)
    shown = ui.param_column(P, ("data", "loss", "optimizer", "lr_g", "lr_d", "d_steps", "batch_size", "seed"), "gan2d", horizontal=("optimizer",))
    st.markdown("**Networks** (changing one restarts from fresh networks)")
    shown |= ui.param_column(P, ("noise_dim", "width_g", "depth_g", "width_d", "depth_d", "gp_weight"), "gan2d")
    shown |= ui.param_rest(P, shown, "gan2d", per_row=1)
    layers = st.pills("Layers", list(LAYERS), selection_mode="multi", default=list(LAYERS), key="gan2d.layers", bind="query-params", persist_state="session") or []

# --------------------------------------------------------------------------- user-placed points
points: list[tuple[float, float]] = st.session_state.setdefault("gan2d.points", [])
target_ok, target_notice = True, ""
if shown["data"] == "custom":
    try:
        _, target_notice = fit_user_points(np.array(points, dtype=float))
    except ValueError as err:
        target_notice, target_ok = f"Not training on your points yet: {err}. Training continues on the previous target.", False

params = P.complete({**shown, "user_points": ui.array_param(points) if shown["data"] == "custom" else ()})
run = compare.session_run("gan2d.run", GAN2DTask, comparison, params if target_ok else {**params, "data": "ring", "user_points": ()}, max_fps=12)
if not target_ok:
    params |= {"data": run.params["data"], "user_points": run.params["user_points"]}
ui.push_params(run, params)
ui.run_controls(run, "gan2d", export=comparison is None, export_plot="gan2d.scene")
centers = toy_points(run.params["data"], 1).centers if run.params["data"] in ("ring", "grid") else None


def draw_readouts(snap: Snapshot) -> None:
    st.metric("Generator step", f"{snap.step:,}")
    st.metric("Steps / s", f"{snap.steps_per_second:.0f}")
    js = snap.latest("js")
    st.metric("JS divergence", views.number(js, ".3f"), help="Jensen-Shannon divergence between 2-D histograms of 1000 real and 1000 generated points; at most log 2 ≈ 0.693.")
    if snap.params["data"] in ("ring", "grid"):
        st.metric("Modes covered", f"{snap.latest('modes_covered', 0.0):.0%}", help="A mode counts when at least 0.8% of samples lie within 3 std of it (PacGAN's 20 of 2500).")
        st.metric("High-quality samples", f"{snap.latest('high_quality', 0.0):.0%}", help="Share of samples within 3 standard deviations of some mode.")


def draw_live(snap: Snapshot) -> None:
    """The whole live area: the 2-D picture, the readouts and the curves (Plotly charts with stable keys update in place)."""
    left, right = stage.picture().columns([3, 1])
    with left:
        views.run_plot(lambda s: gan2d_figure(s.arrays, layers, VIEW, s.params["loss"], centers, title=f"Real vs generated, step {s.step:,}", height=500), snap, key="gan2d.scene")
    with right, stage.readouts():
        draw_readouts(snap)
    m = snap.metrics
    c = st.columns(2)
    losses = {k: m[k] for k in ("loss_d", "loss_g") if k in m}
    quality = {k: m[k] for k in ("js", "modes_covered", "high_quality") if k in m}
    if losses:
        with c[0]:
            views.plot(curves_figure(losses, {"loss_d": "D loss", "loss_g": "G loss"}, "Losses", "loss"), key="gan2d.loss")
    if quality:
        with c[1]:
            names = {"js": "JS divergence", "modes_covered": "modes covered", "high_quality": "high-quality share"}
            views.plot(curves_figure(quality, names, "Divergence and mode coverage", "value"), key="gan2d.quality")


def draw_pair(snap: Snapshot) -> None:
    """Compare mode: each side's 2-D picture, A left and B right, then both sides' curves on shared charts. The
    half-width pictures leave their legend and colour scale to the caption under them."""
    probability = all(d_is_probability(side_of(snap, side, comparison).params["loss"]) for side in SIDES)
    for side, column in zip(SIDES, stage.picture().columns(len(SIDES)), strict=True):
        seen = side_of(snap, side, comparison)
        with column:
            title = f"{compare.side_label(P, comparison, side)}, step {seen.step:,}"
            figure = gan2d_figure(seen.arrays, layers, VIEW, seen.params["loss"], centers, title=title, height=500, legend=False, colorbar=False)
            views.stage_plot(figure, key=f"gan2d.scene.{side}", step=seen.step)
    st.caption("Blue dots: real data; red dots: generated G(z); grey mesh: G(latent grid); dark red lines: G's gradient step; "
               + ("open circles: the modes; " if centers is not None else "")
               + ("background: D(x) = P(real), from red (0) to blue (1)." if probability else "background: D's critic value, red low, blue high."))  # fmt: skip
    compare.draw_curves({"js": ("JS divergence", "nats"), "modes_covered": ("Modes covered", "share of the modes")}, P, comparison, "gan2d-pair")(snap)


live_area, moment = live.rewindable(run)
with live_area:
    live.redrawn(run, draw_live if comparison is None else draw_pair, SCENE_EVERY, at=moment)
st.caption(
    "Arrows: −∂L_G/∂x at 120 generated points, scaled for visibility (the direction each sample is pushed). "
    "Presets measured over seeds 0-5 (2500 samples): after 2000 steps balanced learning rates cover 7 or 8 of the 8 ring modes; "
    "with D 33x slower 86-99% of the samples sit nearest one mode (G hops between modes) and at most 1 of 8 modes is covered."
)
if shown["data"] == "custom":
    st.subheader("Place your points")
    st.caption(f"Click in the square to add a point (at least {MIN_USER_POINTS}); the GAN trains on small Gaussian blobs around them.")

    def add_point() -> None:
        event = st.session_state.get("gan2d.place")
        sel = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {})
        pts = sel.get("points", []) if isinstance(sel, dict) else getattr(sel, "points", [])
        for p in pts:
            st.session_state["gan2d.points"].append((round(float(p["x"]), 2), round(float(p["y"]), 2)))

    pc = st.columns([3, 1])
    with pc[0]:
        arr = np.array(points, dtype=float).reshape(-1, 2)
        traces = [click_grid(0.9 * VIEW, 28), {"type": "scatter", "x": arr[:, 0], "y": arr[:, 1], "mode": "markers", "name": "your points", "marker": {"size": 14, "color": "#1f5fbf"}}]
        fig = fast_figure(traces, f"{len(points)} points placed", "x₁", "x₂", height=440, xaxis={"range": [-VIEW, VIEW], "constrain": "domain"},
                          yaxis={"range": [-VIEW, VIEW], "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"},
                          clickmode="event+select", dragmode=False, showlegend=False)  # fmt: skip
        st.plotly_chart(fig, key="gan2d.place", on_select=add_point, selection_mode="points", width="stretch", config={"displayModeBar": False})
    with pc[1]:
        if st.button("Clear points", icon=":material/delete:"):
            points.clear()
            st.rerun()
        if st.button("Undo last", icon=":material/undo:") and points:
            points.pop()
            st.rerun()
    if target_notice:
        st.info(target_notice)
stage.explain(
    r"The discriminator $D(\mathbf x)$ learns to tell real samples (blue) from the generator's samples $G(\mathbf z)$ (red); the generator follows $-\nabla_{\mathbf x}$ of its loss "
    r"through $D$ (arrows). Minimax: $G$ minimizes $\log\big(1 - D(G(\mathbf z))\big)$; non-saturating: $G$ maximizes $\log D(G(\mathbf z))$ (section 20.10.4). "
    r"The background is $D$'s output; the grey mesh is $G$'s image of a square grid of $\mathbf z$: watch how $G$ folds and stretches its latent space."
)
