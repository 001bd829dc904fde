"""RBM training: filters forming live, CD-k vs PCD, monitors, and the log-likelihood by AIS (book 16.7.1, 18.2, 20.2)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.rbm import COMPARISONS, PRESETS, PRETRAINED, RBMTrainTask, scheme_of
from lab import compare, stage, views
from lab import controls as ui
from lab.rbm.pictures import activation_picture, filter_picture, image_grid
from lab.rbm.views import ENUMERABLE_NOTE, ais_figure, data_if_available, run_ais, without_data

stage.title("Restricted Boltzmann machine: training live")

P = RBMTrainTask.PARAMS
with stage.parameters():
    ui.presets("rbm", PRESETS)
    comparison = compare.choice("rbm", COMPARISONS)
    dataset = ui.param_widget(P, "dataset", "rbm", horizontal=True)
    shown = {"dataset": dataset}
    shown |= ui.param_column(P, ("start", "hidden", "seed", "method", "k", "lr", "momentum", "batch_size", "weight_decay", "centering", "learn_precision"),
                             "rbm", dataset=dataset, horizontal=("start", "method"))  # fmt: skip
    shown |= ui.param_rest(P, shown, "rbm", dataset=dataset, per_row=1)
start = shown["start"]
data = data_if_available(dataset)
if data is None:
    without_data(dataset, start)
    st.stop()

params = P.complete(shown)
run = compare.session_run("rbm.train", RBMTrainTask, comparison, params)
ui.push_params(run, params)
ui.run_controls(run, "rbm")
task: RBMTrainTask = compare.task_of(run)


def draw_fast(snap: Snapshot) -> np.ndarray:
    left, right = views.beside([3, 2])
    with left:
        filters = views.show_frames(lambda s: filter_picture(s.arrays["filters"]), snap, target_width=620,
                                    caption=lambda s: f"Filters W:,j ({min(len(s.arrays['filters']), 500)} of {len(s.arrays['filters'])} hidden units), step {s.step}")  # fmt: skip
    with right:
        views.show_frames(lambda s: image_grid(s.arrays["chains"][:36], ncols=6), snap, caption="Negative samples", target_width=300)
    return filters


def draw_slow(snap: Snapshot) -> None:
    m = snap.metrics
    c = st.columns(3)
    c[0].metric("Epoch", f"{snap.latest('epoch', 0.0):.2f}")
    c[1].metric("Updates / s", f"{snap.steps_per_second:.0f}")
    ratio = snap.latest("update_ratio", None)
    c[2].metric("‖ΔW‖ / ‖W‖", "—" if ratio is None else f"{ratio:.1e}", help="The size of the last update relative to the weights; Hinton suggests about 1e-3")
    views.show_image(activation_picture(snap.arrays["hidden_probs"][:32]), caption="P(h | v) for 32 training images (rows) and every hidden unit (columns)", target_width=600)
    c = st.columns(3)
    with c[0]:
        if "recon_error" in m:
            views.plot(views.curves({"recon_error": m["recon_error"]}, "Reconstruction error ‖v − E[v|P(h|v)]‖²", "squared error", names={"recon_error": "train batch"}), key="rbm-recon")
    with c[1]:
        if "pseudo_ll" in m:
            views.plot(views.curves({"pseudo_ll": m["pseudo_ll"]}, "Pseudo-log-likelihood Σᵢ log P(vᵢ | v₋ᵢ)", "nats per image", names={"pseudo_ll": "train batch"}), key="rbm-pll")
        elif "hidden_mean" in m:
            views.plot(views.curves({"hidden_mean": m["hidden_mean"]}, "Mean hidden activation", "P(h = 1 | v)"), key="rbm-hmean")
    with c[2]:
        if "fe_gap" in m:
            views.plot(views.curves({"fe_gap": m["fe_gap"]}, "Free-energy gap F(held-out) − F(train)", "nats", names={"fe_gap": "gap (grows when overfitting)"}), key="rbm-gap")
    c = st.columns(2)
    with c[0]:
        views.plot(views.histogram({"W": snap.arrays["weights"]}, "Weights W", "value"), key="rbm-hw")
    with c[1]:
        if snap.step > 0:
            views.plot(views.histogram({"ΔW": snap.arrays["updates"]}, "Last update ΔW", "value"), key="rbm-hu")
        else:
            st.caption("The histogram of the last update ΔW appears after the first update (press Step or Play).")


compare.live_panel(run, comparison, draw_fast, draw_slow, key="rbm.live", slow_fps=1, P=P,
                   metrics={"recon_error": ("Reconstruction error", "squared error"), "pseudo_ll": ("Pseudo-log-likelihood", "nats per image")})
st.caption(f"Model: **{task.source}** · {task.rbm.n_visible} visible ({task.rbm.config.visible}) × {task.rbm.n_hidden} hidden units · "
           f"data: {task.data.source}, binarisation: {scheme_of(task.data.name)}. "
           "Dataset, start, hidden units and seed apply when you press Reset.")  # fmt: skip
stage.explain(
    r"An RBM's energy is $E(\mathbf v, \mathbf h) = -\mathbf b^\top \mathbf v - \mathbf c^\top \mathbf h - \mathbf v^\top W \mathbf h$ (eq. 20.6). "
    r"The hidden units are independent given $\mathbf v$, and the visible units given $\mathbf h$:"
    "\n\n"
    r"$$P(h_j = 1 \mid \mathbf v) = \sigma\big(c_j + \mathbf v^\top W_{:,j}\big) \quad\text{(eq. 20.14)}, \qquad "
    r"P(v_i = 1 \mid \mathbf h) = \sigma\big(b_i + W_{i,:}\,\mathbf h\big) \quad\text{(eq. 20.16)}.$$"
    "\n\n"
    r"Learning follows the log-likelihood gradient $\langle \mathbf v \mathbf h^\top\rangle_{\text{data}} - \langle \mathbf v \mathbf h^\top\rangle_{\text{model}}$ "
    r"(section 18.1); the model term comes from a short Gibbs chain, restarted at the data each update (CD-$k$) "
    r"or kept running between updates (PCD, also called SML, section 18.2)."
)

st.subheader("Log-likelihood by annealed importance sampling")
st.caption(
    "log P(v) = −F(v) − log Z; Z is intractable, so AIS anneals chains from a base-rate model (W = 0, visible biases "
    "from the data) to the RBM and averages their importance weights (Salakhutdinov & Murray 2008). The interval is "
    "log(mean weight ± 3 standard errors). " + ENUMERABLE_NOTE
)
a = st.columns([1, 1, 2])
with a[0]:
    n_betas = ui.select("rbm.betas", "Inverse temperatures", [1000, 3000, 10000, 30000], 10000, help="10,000 (the CLI default) takes about 30 s on one CPU core for the MNIST RBM; fewer give a quicker, less reliable estimate")
with a[1]:
    n_chains = ui.select("rbm.chains", "AIS chains", [20, 50, 100, 200], 100)
with a[2]:
    st.write("")
    go_ais = st.button("Estimate log-likelihood now" + (" (run A)" if comparison else ""), icon=":material/functions:", key="rbm.ais")
if go_ais:
    snap = compare.first_side(run.snapshot(), comparison)
    model = task.model_from(snap.arrays)
    result, extra = run_ais(model, task.data, n_betas, n_chains)
    st.session_state["rbm.ais_result"] = (snap.step, result, extra)
if "rbm.ais_result" in st.session_state:
    step, result, extra = st.session_state["rbm.ais_result"]
    cols = st.columns(3)
    cols[0].metric(f"log Z at step {step} (AIS)", f"{result.log_z:.2f}", help=f"interval [{result.log_z_low:.2f}, {result.log_z_high:.2f}]")
    if "ll" in extra:
        ll = extra["ll"]
        cols[1].metric("Held-out log-likelihood (AIS)", f"{ll.mean:.2f} nats", help=f"interval [{ll.low:.2f}, {ll.high:.2f}]; {ll.n_examples} held-out rows; {ll.scheme}")
        cols[1].caption(f"[{ll.low:.2f}, {ll.high:.2f}] · {ll.scheme}")
    if extra.get("exact_log_z") is not None:
        cols[2].metric("Exact log Z (enumeration)", f"{extra['exact_log_z']:.2f}", delta=f"AIS error {result.log_z - extra['exact_log_z']:+.3f}", delta_color="off")
        if "exact_ll" in extra:
            cols[2].caption(f"exact held-out log-likelihood {extra['exact_ll']:.2f} nats")
    views.plot(ais_figure(result, extra.get("exact_log_z")), key="rbm-ais-fig")
    st.caption(f"{result.n_chains} chains, {result.n_betas:,} inverse temperatures; effective sample size {result.effective_sample_size:.1f}.")
    if result.degenerate:
        st.warning(
            f"A few chains carry almost all the weight (effective sample size {result.effective_sample_size:.1f} of {result.n_chains}): "
            "this estimate of log Z is likely too low, so the log-likelihood too high. Use more inverse temperatures.",
            icon=":material/warning:",
        )

if dataset in PRETRAINED and start == "pretrained":
    st.caption(f"Pretrained checkpoint: assets/rbm/{PRETRAINED[dataset].name} (command in assets/README.md).")
