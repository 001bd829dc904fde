"""VAE manifold: a grid of decoder means over a 2-D latent space (Kingma & Welling Figure 4; book Figure 20.6), live while training."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.vae import MANIFOLD_PARAMS, VAETask, decoder_from_arrays
from lab import controls as ui
from lab import stage, views
from lab.live import live_panel
from lab.vae.pictures import manifold_picture
from lab.vae.views import manifold_width, pretrained, show_manifold, vae_data

MANIFOLD_HEIGHT = 420
EXPLANATION = (
    r"Kingma & Welling (2013), Figure 4; *Deep Learning* Figure 20.6. Tile (row, column) is the decoder mean $\mathbb E[\mathbf x \mid \mathbf z]$ at "
    r"$\mathbf z = \big(\Phi^{-1}(u_1), \Phi^{-1}(u_2)\big)$ for $\mathbf u$ on an even grid in $(0, 1)^2$: neighbouring tiles are equally far apart "
    r"in prior probability. $z_1$ grows to the right, $z_2$ upwards."
    "\n\n"
    "**MNIST**: digits morph into one another; similar digits are neighbours. **Frey faces**: expression and pose "
    "change smoothly as $\\mathbf z$ moves. Press **Play** to train the pretrained model on; to watch the manifold form from nothing, "
    "start from random weights and press **Reset**."
)

stage.title("VAE: the learned manifold of a 2-D latent space")

P = MANIFOLD_PARAMS
FIXED = {"n_z": 2}  # the manifold is a picture of a 2-D latent space
with stage.parameters():
    dataset = ui.param_widget(P, "dataset", "vae", horizontal=True)
    n = ui.slider("vae.grid", "Grid size (tiles per side)", 5, 30, 20, 1)
    settings = {"dataset": dataset, **FIXED}
    settings |= ui.param_column(P, ("start", "lr", "batch_size", "beta", "k"), "vae", dataset=dataset, horizontal=("start",))
    settings |= ui.param_rest(P, settings, "vae", dataset=dataset, per_row=1)

shown = pretrained(dataset)
first_screen = st.empty()  # without the data the pretrained manifold goes here, above the notice saying why
data = vae_data(dataset)
if data is None:
    if shown is not None:
        model, meta = shown
        with first_screen.container(), stage.picture():
            show_manifold(manifold_picture(model.decoder, model.config.image_shape, n), caption="Pretrained model", height=MANIFOLD_HEIGHT)
    stage.explain(EXPLANATION)
    st.stop()

params = P.complete(settings)
run = ui.session_run(f"vae.manifold.{dataset}", VAETask, params)
ui.push_params(run, params)
ui.run_controls(run, "vae.manifold")


def caption(snap: Snapshot) -> str:
    if snap.step == 0:
        return f"Step 0: {run.task.source}"
    return f"Live: step {snap.step}, epoch {snap.latest('epoch', 0.0):.2f}, ELBO {snap.latest('elbo'):.1f}"


def draw_fast(snap: Snapshot) -> np.ndarray | None:
    config = run.task.config
    left, right = st.columns([3, 2])
    with left:
        picture = views.show_frames(lambda s: manifold_picture(decoder_from_arrays(config, s.arrays), config.image_shape, n), snap, caption=caption,
                                    target_width=manifold_width(config.image_shape, MANIFOLD_HEIGHT))  # fmt: skip
    with right:
        if snap.step > 0:
            st.metric("ELBO (train batch)", f"{snap.latest('elbo'):.1f}")
            st.metric("Reconstruction E_q log p(x|z)", f"{snap.latest('recon'):.1f}")
            st.metric("KL(q(z|x) ‖ p(z))", f"{snap.latest('kl'):.2f}")
            st.metric("Examples seen", f"{int(snap.latest('samples_seen', 0)):,}")
    return picture


live_panel(run, draw_fast, key="vae.manifold.panel")
play = "it on (start from random weights and press Reset to train from scratch)" if settings["start"] == "pretrained" else "the random weights from scratch"
st.caption("ELBO in nats per image." + ("" if shown is None else f" Pretrained model: {shown[1]['dataset']}, N_z = 2, held-out ELBO over {shown[1].get('test_images', 'its held-out set')}; Play trains {play}."))
stage.explain(EXPLANATION)
