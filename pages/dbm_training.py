"""DBM training live: greedy layer-wise pretraining, then joint training by algorithm 20.1 (book 20.4.5)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.dbm import TRAINING_COMPARISONS, DBMTrainingTask, mnist_available
from lab import compare
from lab import controls as ui
from lab import stage, views
from lab.dbm.pictures import filter_grid, samples_grid, units_picture
from lab.dbm.views import FILTER_NOTE, SUPERSCRIPTS, filter_caption

stage.title("Deep Boltzmann machine: training live")

P = DBMTrainingTask.PARAMS
with stage.parameters():
    comparison = compare.choice("dbm.t", TRAINING_COMPARISONS)
    dataset = ui.param_widget(P, "dataset", "dbm.t", horizontal=True)
    shown = {"dataset": dataset}
    shown |= ui.param_column(P, ("n1", "n2", "n3", "greedy_updates", "seed", "rbm_lr", "lr", "momentum", "mf_iterations", "gibbs_steps", "centering"), "dbm.t", dataset=dataset)
    shown |= ui.param_rest(P, shown, "dbm.t", dataset=dataset, per_row=1)
if dataset == "mnist" and not mnist_available():
    st.error("MNIST is not on disk: run `genlab data fetch mnist` (or set GENLAB_DATA), or pick another dataset.")
    st.stop()

params = P.complete(shown)
run = compare.session_run("dbm.train", DBMTrainingTask, comparison, params)
ui.push_params(run, params)
ui.run_controls(run, "dbm.t")
task: DBMTrainingTask = compare.task_of(run)
shape = task.data.image_shape


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    phase = str(a["phase"])
    st.markdown(f"**Phase: {phase}** · update {int(a['updates'])} · {snap.steps_per_second:.0f} updates/s")
    sizes = [int(n) for n in a["sizes"]]
    *layers, chains = views.beside(len(sizes))  # one column per hidden layer's filters, then the chains
    with layers[0]:
        first_layer = views.show_frames(lambda s: filter_grid(s.arrays["filters1"], shape), snap, caption=filter_caption(1, a["filters1"], sizes[1]), target_width=420)
    for l, col in enumerate(layers[1:], start=2):
        with col:
            if f"filters{l}" in a:
                views.show_image(filter_grid(a[f"filters{l}"], shape), caption=filter_caption(l, a[f"filters{l}"], sizes[l]), target_width=420)
            else:
                st.caption(f"h{SUPERSCRIPTS[l]} filters appear when greedy RBM {l} starts training.")
    with chains:
        if "chain_v" in a:
            views.show_image(samples_grid(a["chain_v"][:32], shape, ncols=8, target_width=420), caption="Persistent chains: v (P(v=1|h¹) in joint training)", target_width=420)
        elif "chain_input" in a:
            views.show_image(units_picture(a["chain_input"][:16], target_width=420), caption="Persistent chains of this RBM: its input layer", target_width=420)
    return first_layer


def draw_slow(snap: Snapshot) -> None:
    m = snap.metrics
    weights = "the greedy RBMs" if str(snap.arrays["phase"]).startswith("greedy") else "the DBM"
    st.caption(f"Filters: weights of {weights}. {FILTER_NOTE}")
    layers = [l for l in range(1, len(snap.arrays["sizes"])) if f"chain_h{l}" in snap.arrays]
    if layers:
        for col, l in zip(st.columns(len(layers)), layers, strict=True):
            with col:
                views.show_image(units_picture(snap.arrays[f"chain_h{l}"][:16], target_width=420), caption=f"Persistent chains: h{SUPERSCRIPTS[l]} (one row per chain)", target_width=420)
    c = st.columns(3)
    recon = {k: v for k, v in m.items() if k.endswith("_reconstruction")}
    with c[0]:
        if recon:
            views.plot(views.curves(recon, "Greedy RBMs: reconstruction error", "squared error", names={k: f"RBM {k[3]}" for k in recon}), key="dbm-t-rr")
    with c[1]:
        if "mf_bound" in m:
            views.plot(views.curves({"mf_bound": m["mf_bound"]}, "Joint: mean-field bound L(v, Q) + log Z", "nats per image", names={"mf_bound": "batch mean"}), key="dbm-t-b")
    with c[2]:
        ratios = {k: v for k, v in m.items() if k.startswith("update_ratio")}
        if ratios:
            views.plot(views.curves(ratios, "Joint: update-to-weight ratio ‖ΔW‖/‖W‖", "ratio", log_y=True, names={k: k.split("_")[-1] for k in ratios}), key="dbm-t-u")
    if "inference_net_loss" in m or "reconstruction" in m:
        c = st.columns(2)
        with c[0]:
            if "reconstruction" in m:
                views.plot(views.curves({"reconstruction": m["reconstruction"]}, "Joint: ‖v − σ(b + W¹μ¹)‖²", "squared error"), key="dbm-t-r")
        with c[1]:
            if "inference_net_loss" in m:
                views.plot(views.curves({"inference_net_loss": m["inference_net_loss"]}, "Inference net: cross-entropy to the mean-field result", "nats per image"), key="dbm-t-n")


compare.live_panel(run, comparison, draw_fast, draw_slow, key="dbm.t.live", P=P,
                   metrics={"rbm1_reconstruction": ("Greedy RBM 1: reconstruction error", "squared error"), "mf_bound": ("Joint: mean-field bound + log Z", "nats per image")})
st.caption(f"DBM {'-'.join(map(str, task.sizes_))} on {task.data.source}, binarisation: {task.binary.scheme}. "
           "The settings marked “on Reset” apply when you press Reset.")
stage.explain(
    r"First a stack of RBMs, trained greedily, bottom-up (section 20.4.5): the bottom RBM sees two tied copies of $\mathbf v$ "
    r"($P(\mathbf h^{(1)} \mid \mathbf v) = \sigma(2\,\mathbf v^\top W^{(1)} + \mathbf c^{(1)})$), the top RBM two tied copies of its hidden layer, "
    r"a middle RBM's weights are halved when the DBM is assembled. Then joint training by algorithm 20.1: the positive phase from mean field "
    r"(eqs. 20.33-20.34), the negative phase from persistent two-block Gibbs chains:"
    "\n\n"
    r"$$\Delta W^{(l)} \propto \big\langle \mathbf x^{(l-1)} \mathbf x^{(l)\top} \big\rangle_{\text{data},\,\mu} - \big\langle \mathbf x^{(l-1)} \mathbf x^{(l)\top} \big\rangle_{\text{chains}}.$$"
    "\n\n"
    r"Centering subtracts sliding means of every layer before the gradient's outer products and moves the biases so that the "
    r"model is unchanged; with it, larger learning rates stay stable (Montavon & Müller 2012)."
)
