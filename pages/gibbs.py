"""Gibbs chain: block Gibbs sampling of an RBM frame by frame, with free-energy traces, autocorrelation and,
on bars and stripes, the empirical distribution of the chains against the exact one (book 17.3, 20.2)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.run import Snapshot
from engine.tasks.rbm import GibbsTask
from lab import controls as ui
from lab import views
from lab.live import live_panel
from lab.rbm.pictures import activation_picture, example_picture, image_grid
from lab.rbm.views import data_if_available

st.title("Gibbs chain: watching an RBM sample")
st.caption(
    "One step is a block Gibbs sweep: h ~ P(h | v) = Πⱼ σ(β(cⱼ + v′W:,ⱼ)), then v ~ P(v | h) (eqs. 20.14 and 20.16) at inverse temperature β: "
    "β = 1 samples the model, β < 1 a flatter (hotter) version, β > 1 a peakier (colder) one. Clamped pixels stay fixed, so the chain "
    "samples the other pixels given them (in-painting)."
)

P = GibbsTask.PARAMS
trained_run = ui.shared_run("rbm.train")
top = st.columns([3, 2, 2, 1])
with top[0]:
    model = ui.param_widget(P, "model", "gibbs")
    if model == "given" and trained_run is None:
        st.info("Open the RBM training page first: its model then appears here. Showing the pretrained MNIST RBM.")
        model = "mnist"
with top[1]:
    init = ui.param_widget(P, "init", "gibbs", horizontal=True)
with top[2]:
    image = ui.param_widget(P, "image", "gibbs")
    if init == "image":
        examples = trained_run.task.data if model == "given" and trained_run is not None else data_if_available(model)
        if examples is not None:
            views.show_image(example_picture(examples, image), caption=f"training image {image % len(examples.train)}", target_width=112)
        else:
            st.caption("This model's data is not on this machine: start from noise.")
with top[3]:
    seed = ui.param_widget(P, "seed", "gibbs")
cols = st.columns(5)
with cols[0]:
    chains = ui.param_widget(P, "chains", "gibbs", dataset=model)
with cols[1]:
    beta = ui.param_widget(P, "beta", "gibbs")
with cols[2]:
    clamp = ui.param_widget(P, "clamp", "gibbs")
with cols[3]:
    per_frame = ui.select("gibbs.spf", "Gibbs steps per frame", [1, 2, 5, 10, 50, 100], 1)
with cols[4]:
    fps = ui.select("gibbs.fps", "Frames per second", [1, 2, 5, 10, 25], 10)
show_means = st.toggle("Show E[v | h] instead of the sampled v", value=True, key="gibbs.means")

params = P.complete({"model": model, "init": init, "image": image, "chains": chains, "beta": beta, "clamp": clamp, "seed": seed})
if model == "given":
    if st.button("Take the RBM page's current model", icon=":material/download:", key="gibbs.take") or "gibbs.given" not in st.session_state:
        snap = trained_run.snapshot()
        st.session_state["gibbs.given"] = (trained_run.task.model_from(snap.arrays), trained_run.task.data, snap.step)
    given_rbm, given_view, given_step = st.session_state["gibbs.given"]
    st.caption(f"Sampling the RBM page's model as it was at training step {given_step:,}.")
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


def draw_fast(snap: Snapshot) -> None:
    a = snap.arrays
    pictures = a["visible_mean"] if show_means else a["visible"]
    n = len(pictures)
    left, right = st.columns([3, 2])
    with left:
        label = "E[v | h]" if show_means else "sampled v"
        views.show_image(image_grid(pictures, ncols=int(np.ceil(np.sqrt(n)))), caption=f"The chains' visible units ({label}) after {snap.step} Gibbs steps, β = {snap.params['beta']:g}", target_width=620)
    with right:
        views.show_image(activation_picture(a["hidden"][:32]), caption="Hidden layer: P(h | v) of each chain (rows) for every hidden unit (columns)", target_width=460)
        m = st.columns(2)
        m[0].metric("Gibbs steps", f"{snap.step:,}")
        m[1].metric("Mean free energy F(v)", f"{float(a['mean_free_energy']):.1f}")
        if exact:
            st.metric("Total variation to the exact P(v)", f"{snap.latest('tv'):.3f}")


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
        views.plot(views.style(fig, "Free energy F(v) = −log Σₕ exp(−E(v, h)) of each chain", "Gibbs step", "F(v)"), key=f"gibbs-fe-{snap.version}")
    with c[1]:
        if "fe_autocorrelation" in a:
            acf = a["fe_autocorrelation"]
            fig = go.Figure(go.Bar(x=np.arange(len(acf)), y=acf, marker_color=views.PALETTE[0]))
            views.plot(views.style(fig, f"Autocorrelation of F(v), last {filled.shape[1] - filled.shape[1] // 2} steps", "lag (Gibbs steps)", "autocorrelation"), key=f"gibbs-acf-{snap.version}")
        else:
            st.info("The autocorrelation appears after a few steps: press Play.")
    if exact and "tv" in snap.metrics:
        c = st.columns(2)
        with c[0]:
            views.plot(views.curves({"tv": snap.metrics["tv"]}, "TV distance: chains' histogram vs exact P(v)", "TV distance", xlabel="Gibbs step", names={"tv": "TV(empirical, exact)"}), key=f"gibbs-tv-{snap.version}")
        with c[1]:
            k = len(a["exact_top"])
            fig = go.Figure()
            fig.add_trace(go.Bar(x=np.arange(1, k + 1), y=a["exact_top"], name="exact P(v)", marker_color=views.PALETTE[1]))
            fig.add_trace(go.Bar(x=np.arange(1, k + 1), y=a["empirical_top"], name="chains' frequency", marker_color=views.PALETTE[0]))
            fig.update_layout(barmode="group")
            views.plot(views.style(fig, f"The {k} most probable states: exact vs visited", "state (by exact probability)", "probability"), key=f"gibbs-hist-{snap.version}")


live_panel(run, draw_fast, draw_slow, key="gibbs.live", slow_fps=2)
if exact:
    st.caption("The states in the chart above, in order (white = on):")
    views.show_image(image_grid(run.snapshot().arrays["states"], ncols=32), target_width=1200)
    st.caption(
        "The 4×4 bars-and-stripes RBM has 16 visible units, so P(v) = exp(−F(v)) / Z is computed exactly over all 2¹⁶ states. "
        "The chains' histogram of visited states converges to it: total variation → 0 (slowly at β = 1 when modes are far apart; try β < 1)."
    )
