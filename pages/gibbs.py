"""Gibbs chain: block Gibbs sampling of an RBM frame by frame, with free-energy traces, autocorrelation and,
on bars and stripes, the empirical distribution of the chains against the exact one (book 17.3, 20.2)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.run import Snapshot
from engine.tasks.rbm import PRESETS_GIBBS, GibbsTask
from lab import controls as ui
from lab import stage, views
from lab.live import live_panel
from lab.rbm.pictures import activation_picture, example_picture, image_grid
from lab.rbm.views import data_if_available

stage.title("Gibbs chain: watching an RBM sample")

P = GibbsTask.PARAMS
trained_run = ui.shared_run("rbm.train")
with stage.parameters():
    ui.presets("gibbs", PRESETS_GIBBS)
    model = ui.param_widget(P, "model", "gibbs")
    if model == "given" and trained_run is None:
        st.info("Open the RBM training page first: its model then appears here. Showing the pretrained MNIST RBM.")
        model = "mnist"
    shown = {"model": model} | ui.param_column(P, ("init", "image"), "gibbs", horizontal=("init",))
    if shown["init"] == "image":
        examples = trained_run.task.data if model == "given" and trained_run is not None else data_if_available(model)
        if examples is not None:
            views.show_image(example_picture(examples, shown["image"]), caption=f"training image {shown['image'] % len(examples.train)}", target_width=112)
        else:
            st.caption("This model's data is not on this machine: start from noise.")
    shown |= ui.param_column(P, ("chains", "beta", "clamp", "seed"), "gibbs", dataset=model)
    shown |= ui.param_rest(P, shown, "gibbs", dataset=model, per_row=1)
    per_frame = ui.select("gibbs.spf", "Gibbs steps per frame", [1, 2, 5, 10, 50, 100], 1)
    fps = ui.select("gibbs.fps", "Frames per second", [1, 2, 5, 10, 30, 60], 10)
    show_means = st.toggle("Show E[v | h] instead of the sampled v", value=True, key="gibbs.means")
    take_model = model == "given" and st.button("Take the RBM page's current model", icon=":material/download:", key="gibbs.take")

params = P.complete(shown)
if model == "given":
    if take_model or "gibbs.given" not in st.session_state:
        snap = trained_run.snapshot()
        st.session_state["gibbs.given"] = (trained_run.task.model_from(snap.arrays), trained_run.task.data, snap.step)
    given_rbm, given_view, given_step = st.session_state["gibbs.given"]
    run = ui.session_run(f"gibbs.given.{id(given_rbm)}", lambda: GibbsTask(rbm=given_rbm, view=given_view), params,
                         steps_per_second=float(per_frame * fps), steps_per_frame=per_frame)  # fmt: skip
else:
    run = ui.session_run("gibbs.chain", GibbsTask, params, steps_per_second=float(per_frame * fps), steps_per_frame=per_frame)
ui.push_params(run, params)
if run.speed != (float(per_frame * fps), per_frame):
    run.set_speed(float(per_frame * fps), per_frame)
ui.run_controls(run, "gibbs", show_speed=False)
task: GibbsTask = run.task
exact = task.exact is not None


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    n = len(a["visible"])
    left, right = st.columns([3, 2])
    shown = "visible_mean" if show_means else "visible"
    with left:
        label = "E[v | h]" if show_means else "sampled v"
        grid = views.show_frames(lambda s: image_grid(s.arrays[shown], ncols=int(np.ceil(np.sqrt(n)))), snap, target_width=620,
                                 caption=lambda s: f"{n} chains: {label}, β = {s.params['beta']:g}, Gibbs step {s.step:,}")  # fmt: skip
    with right:
        m = st.columns(2)
        m[0].metric("Gibbs steps", f"{snap.step:,}")
        m[1].metric("Mean F(v)", f"{float(a['mean_free_energy']):.1f}", help="The chains' mean free energy F(v) = −log Σₕ exp(−E(v, h))")
        if exact:
            st.metric("Total variation to the exact P(v)", views.number(snap.latest("tv"), ".3f"))
        views.show_image(activation_picture(a["hidden"][:32]), caption="P(h | v): chains (rows) × hidden units", target_width=460)
    return grid


def draw_slow(snap: Snapshot) -> None:
    a = snap.arrays
    trace = a["fe_trace"]
    filled = trace[:, ~np.isnan(trace[0])] if len(trace) else trace
    c = st.columns(2)
    with c[0]:
        fig = go.Figure()
        steps = np.arange(snap.step - filled.shape[1] + 1, snap.step + 1)
        for i in range(min(8, len(filled))):
            fig.add_trace(go.Scatter(x=steps, y=filled[i], mode="lines", name=f"chain {i + 1}", line={"width": 2, "color": views.PALETTE[i % len(views.PALETTE)]}))
        views.plot(views.style(fig, "Free energy F(v) = −log Σₕ exp(−E(v, h)) of each chain", "Gibbs step", "F(v)"), key="gibbs-fe")
    with c[1]:
        if "fe_autocorrelation" in a:
            acf = a["fe_autocorrelation"]
            fig = go.Figure(go.Bar(x=np.arange(len(acf)), y=acf, marker_color=views.PALETTE[0]))
            views.plot(views.style(fig, f"Autocorrelation of F(v), last {filled.shape[1] - filled.shape[1] // 2} steps", "lag (Gibbs steps)", "autocorrelation"), key="gibbs-acf")
        else:
            st.info("The autocorrelation appears after a few steps: press Play.")
    if exact and "tv" in snap.metrics:
        c = st.columns(2)
        with c[0]:
            views.plot(views.curves({"tv": snap.metrics["tv"]}, "TV distance: chains' histogram vs exact P(v)", "TV distance", xlabel="Gibbs step", names={"tv": "TV(empirical, exact)"}), key="gibbs-tv")
        with c[1]:
            k = len(a["exact_top"])
            fig = go.Figure()
            fig.add_trace(go.Bar(x=np.arange(1, k + 1), y=a["exact_top"], name="exact P(v)", marker_color=views.PALETTE[1]))
            fig.add_trace(go.Bar(x=np.arange(1, k + 1), y=a["empirical_top"], name="chains' frequency", marker_color=views.PALETTE[0]))
            fig.update_layout(barmode="group")
            views.plot(views.style(fig, f"The {k} most probable states: exact vs visited", "state (by exact probability)", "probability"), key="gibbs-hist")


live_panel(run, draw_fast, draw_slow, key="gibbs.live", slow_fps=2)
if model == "given":
    st.caption(f"Sampling the RBM page's model as it was at training step {given_step:,}.")
if exact:
    st.caption("The states in the chart above, in order (white = on):")
    views.show_image(image_grid(run.snapshot().arrays["states"], ncols=32), target_width=1200)
    st.caption(
        "The 4×4 bars-and-stripes RBM has 16 visible units, so P(v) = exp(−F(v)) / Z is computed exactly over all 2¹⁶ states. "
        "At β = 1 the chains' histogram of visited states converges to it: total variation → 0, slowly, because the modes are far apart. "
        "A hot chain (β < 1) mixes fast but samples the flatter P_β(v) ∝ Σₕ exp(−βE), so its TV to P(v) stays high; a cold one (β > 1) sticks in its modes."
    )
stage.explain(
    r"One step is a block Gibbs sweep at inverse temperature $\beta$: first $\mathbf h \sim P(\mathbf h \mid \mathbf v)$, then $\mathbf v \sim P(\mathbf v \mid \mathbf h)$ (eqs. 20.14 and 20.16), with"
    "\n\n"
    r"$$P(\mathbf h \mid \mathbf v) = \prod_j P(h_j \mid \mathbf v), \qquad P(h_j = 1 \mid \mathbf v) = \sigma\big(\beta\,(c_j + \mathbf v^\top W_{:,j})\big).$$"
    "\n\n"
    r"$\beta = 1$ samples the model, $\beta < 1$ a flatter (hotter) version, $\beta > 1$ a peakier (colder) one. "
    r"Clamped pixels stay fixed, so the chain samples the other pixels given them (in-painting)."
)
