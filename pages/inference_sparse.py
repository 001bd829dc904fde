"""Sparse coding: MAP inference by ISTA / FISTA while the dictionary learns, and a PSD encoder against ISTA
(book sections 19.3, 19.5 and 14.8)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from engine.inference.psd import compare_encoder_with_ista
from engine.run import Snapshot
from engine.tasks.inference.sparse import PARAMS, PRESETS, SparseCodingTask, mnist_available
from lab import controls as ui
from lab import stage, views
from lab.inference.sparse_figures import convergence_figure, dictionary_picture, encoder_figure, patches_picture
from lab.live import live_panel

stage.title("Sparse coding by MAP inference")

with stage.parameters():
    ui.presets("sparse", PRESETS, help="λ small: most code entries active; λ large: few. FISTA against ISTA: 2 iterations per step.")
    shown = ui.param_column(PARAMS, ("dataset", "lam", "solver", "n_iter", "rate"), "sparse", horizontal=("dataset", "solver"))
    shown |= ui.param_rest(PARAMS, shown, "sparse", per_row=1)

if shown["dataset"] == "mnist" and not mnist_available():
    st.warning("MNIST is not on disk: run `genlab data fetch mnist` (or set GENLAB_DATA). Showing the 8x8 digits instead.", icon=":material/download:")
    shown["dataset"] = "digits"

params = PARAMS.complete(shown)
run = ui.session_run("sparse.run", SparseCodingTask, params, max_fps=20)
ui.push_params(run, params)
ui.run_controls(run, "sparse")
task: SparseCodingTask = run.task


def draw_fast(snap: Snapshot) -> np.ndarray:
    left, right = st.columns([3, 2])
    with left:
        filters = views.show_frames(lambda s: dictionary_picture(s.arrays["filters"]), snap, target_width=600,
                                    caption=lambda s: f"Dictionary W: {len(s.arrays['filters'])} atoms W:,j, step {s.step}")  # fmt: skip
    with right:
        views.show_frames(lambda s: patches_picture(s.arrays["patches"], s.arrays["reconstructions"], task.patches.signed), snap, target_width=460,
                          caption="Patches x (top) and their reconstructions W h* (bottom)")  # fmt: skip
        st.caption(r"MAP code: $h^* = \arg\min_h \tfrac12\|x - Wh\|^2 + \lambda\|h\|_1$ (eq. 19.11 with a Laplace prior)")
    return filters


def draw_slow(snap: Snapshot) -> None:
    m = snap.metrics
    c = st.columns(4)
    c[0].metric("Step", f"{snap.step:,}")
    c[1].metric("Mean J", views.number(snap.latest("objective", None), ".3f"))
    c[2].metric("Zero code entries", views.number(None if "zero_fraction" not in m else 100 * snap.latest("zero_fraction"), ".0f") + ("%" if "zero_fraction" in m else ""))
    c[3].metric("Mean ‖h‖₁", views.number(snap.latest("l1", None), ".2f"))
    c = st.columns(2)
    with c[0]:
        views.plot(convergence_figure(snap.arrays["ista_gap"], snap.arrays["fista_gap"], int(snap.arrays["compared_at"])), key="sparse-conv")
    if "objective" not in m:
        with c[1]:
            st.info("Press **Play** or **Step**: the objective, sparsity and reconstruction curves appear here.")
        return
    with c[1]:
        views.plot(views.curves({"objective": m["objective"]}, "Objective J = ½‖x − Wh‖² + λ‖h‖₁", "mean over patches", names={"objective": "after inference"}), key="sparse-obj")
    c = st.columns(2)
    with c[0]:
        views.plot(views.curves({"zero_fraction": m["zero_fraction"]}, "Code sparsity: fraction of zeros", "fraction of h entries = 0"), key="sparse-zero")
    with c[1]:
        views.plot(views.curves({"recon_error": m["recon_error"], "l1": m["l1"]}, "Reconstruction error and code size", "mean per patch",
                                names={"recon_error": "½‖x − Wh‖²", "l1": "‖h‖₁"}), key="sparse-rec")  # fmt: skip


live_panel(run, draw_fast, draw_slow, key="sparse.live", slow_fps=1)
st.caption(f"Data: {task.patches.source}. λ, the solver, the iterations and the dictionary step act on the next step; patches, atoms and seed on Reset.")
stage.explain(
    r"Sparse coding puts a Laplace prior $p(h_i) = \frac{\lambda}{2} e^{-\lambda |h_i|}$ on the code and a Gaussian decoder "
    r"$p(\mathbf x \mid \mathbf h) = \mathcal N(\mathbf x; W\mathbf h, I)$ (section 19.3). The posterior has no closed form, so inference is MAP, "
    r"$\mathbf h^* = \arg\max_{\mathbf h} p(\mathbf h \mid \mathbf x)$ (eq. 19.11), that is"
    "\n\n"
    r"$$\mathbf h^* = \arg\min_{\mathbf h} J(\mathbf h) = \tfrac12 \|\mathbf x - W\mathbf h\|^2 + \lambda \|\mathbf h\|_1 .$$"
    "\n\n"
    r"**ISTA** takes a gradient step on the squared error and soft-thresholds: "
    r"$\mathbf h \leftarrow S_{\lambda/L}\big(\mathbf h - \tfrac1L W^\top (W\mathbf h - \mathbf x)\big)$, $S_t(z) = \operatorname{sign}(z)\max(|z| - t, 0)$, "
    r"$L$ the largest eigenvalue of $W^\top W$; $J$ never increases. **FISTA** (Beck & Teboulle 2009) adds momentum and closes the gap to the optimum as $O(1/t^2)$ instead of $O(1/t)$. "
    r"Learning alternates inference with a gradient step on $W$ at fixed codes, its columns kept in the unit ball (else $W\mathbf h = (cW)(\mathbf h/c)$ would let $\|\mathbf h\|_1 \to 0$)."
    "\n\n"
    r"**Predictive sparse decomposition** (section 14.8, eq. 14.19; section 19.5) trains an encoder $f(\mathbf x)$ to predict the codes, "
    r"so that inference is one pass instead of an iterative optimisation."
)

st.subheader("Predictive sparse decomposition: one encoder pass against ISTA")
st.caption("The encoder f(x) = S_θ(Bx + c) starts as one ISTA step (B = Wᵀ/L, θ = λ/L) and is fitted by Adam to the converged codes of the "
           "training patches on the current dictionary; it is then measured on held-out patches it never saw.")  # fmt: skip
if st.button("Train the encoder on the current dictionary", icon=":material/model_training:", key="sparse.psd"):
    snap = run.snapshot()
    with st.spinner("Fitting the encoder ..."):
        result = compare_encoder_with_ista(task.patches.train, task.patches.heldout, torch.from_numpy(np.array(snap.arrays["dictionary"])), float(snap.params["lam"]))
    st.session_state["sparse.psd_result"] = (snap.step, float(snap.params["lam"]), result)
if "sparse.psd_result" in st.session_state:
    step, lam, result = st.session_state["sparse.psd_result"]
    matched = result.ista_iterations_matched
    c = st.columns(4)
    c[0].metric("J, encoder (one pass)", f"{result.encoder:.3f}")
    c[1].metric("J, one ISTA step", f"{result.ista[1]:.3f}")
    c[2].metric("J*, the optimum", f"{result.optimum:.3f}")
    c[3].metric("ISTA iterations to match", "more than 200" if matched is None else f"{matched}")
    views.plot(encoder_figure(result), key="sparse-psd-fig")
    st.caption(f"Dictionary of step {step}, λ = {lam:g}, {len(task.patches.heldout)} held-out patches.")
