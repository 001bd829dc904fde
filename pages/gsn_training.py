"""Training a DAE or GSN live: reconstructions, chain samples and curves; walkback on or off."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.gsn import COMPARISONS, GSNTrainTask, noise_param
from lab import compare, stage, views
from lab import controls as ui
from lab.gsn.pictures import colour_tiles, tiles_width
from lab.gsn.views import mnist_available

P = GSNTrainTask.PARAMS

stage.title("Training a denoising autoencoder (or a GSN) live")

with stage.parameters():
    comparison = compare.choice("gsn.train", COMPARISONS)
    st.markdown("**Model**")
    shown = {name: ui.param_widget(P, name, "gsn.train") for name in ("architecture", "start", "dataset", "hidden")}
    gsn = shown["architecture"] == "gsn"
    if gsn:
        shown["hidden2"] = ui.param_widget(P, "hidden2", "gsn.train")
    shown["corruption"] = ui.param_widget(P, "corruption", "gsn.train")
    shown["seed"] = ui.param_widget(P, "seed", "gsn.train")
    st.markdown("**Training (live)**")
    shown["walkback"] = ui.param_widget(P, "walkback", "gsn.train")
    shown["noise"] = ui.param_widget(P.replace(noise=noise_param(shown["corruption"])), "noise", "gsn.train")
    if gsn:
        shown["hidden_noise"] = ui.param_widget(P, "hidden_noise", "gsn.train")
    shown |= ui.param_column(P, ("lr", "batch_size"), "gsn.train")

if shown["dataset"] == "mnist" and not mnist_available():
    st.info("MNIST's test files are not in the data folder (set GENLAB_DATA): training the 8x8 digits from scratch instead.")
    shown["dataset"] = "digits"
params = P.complete(shown)
run = compare.session_run("gsn.train", GSNTrainTask, comparison, params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "gsn.train")


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    left, right = views.beside([1, 1])
    with left:
        denoising = views.show_frames(lambda s: colour_tiles(np.concatenate([s.arrays["inputs"], s.arrays["corrupted"], s.arrays["reconstructions"]]), None, len(s.arrays["inputs"])),
                                      snap, target_width=3 * tiles_width(len(a["inputs"]), a["inputs"].shape[-1]),
                                      caption=lambda s: f"At training step {s.step}: held-out x (top), corrupted x̃ (middle), reconstruction E[x | f(x̃)] (bottom)")  # fmt: skip
    with right:
        st.markdown("**16 chains**, one chain step per training step, started from noise")
        views.show_frames(lambda s: colour_tiles(s.arrays["samples"], None, 4), snap, target_width=3 * tiles_width(4, a["samples"].shape[-1]))
    return denoising


def draw_slow(snap: Snapshot) -> None:
    series = {k: snap.metrics[k] for k in ("loss", "reconstruction_nll", "heldout_nll") if k in snap.metrics}
    if not series or all(len(s.steps) < 2 for s in series.values()):
        st.caption("Press **Play**: the curves appear here.")
        return
    names = {"loss": "walkback loss (mean over k steps)", "reconstruction_nll": "one-step reconstruction NLL (batch)",
             "heldout_nll": "one-step reconstruction NLL (held out)"}  # fmt: skip
    views.plot(views.curves(series, "Reconstruction negative log-likelihood", "nats per image", names=names), key="gsn-train")


compare.live_panel(run, comparison, draw_fast, draw_slow, key="gsn.train", P=P,
                   metrics={"loss": ("Walkback loss (batch)", "nats per image"), "heldout_nll": ("Reconstruction NLL (held out)", "nats per image")})
st.caption(f"Model: **{compare.task_of(run).source}**. The settings marked “on Reset” restart the run as soon as they change.")
stage.explain(
    r"Book sections 20.11.3 and 20.12. Loss: the reconstruction negative log-likelihood $-\log p(\mathbf x \mid \mathbf h = f(\tilde{\mathbf x}))$ with "
    r"$\tilde{\mathbf x} \sim C(\tilde{\mathbf x} \mid \mathbf x)$. **Walkback**: run the chain $k$ steps from each training $\mathbf x$ and penalise every reconstruction "
    r"against the original $\mathbf x$, so the spurious modes the chain visits far from the data get trained away."
)
