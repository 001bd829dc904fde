"""VAE manifold: a grid of decoder means over a 2-D latent space (Kingma & Welling Figure 4; book Figure 20.6), live while training."""

from __future__ import annotations

import streamlit as st

from engine.run import Snapshot
from engine.tasks.vae import MANIFOLD_PARAMS, VAETask, decoder_from_arrays
from lab import controls as ui
from lab.live import live_panel
from lab.vae.pictures import LIVE_FPS, manifold_picture
from lab.vae.views import pretrained, show_manifold, vae_data

st.title("VAE: the learned manifold of a 2-D latent space")
st.caption(
    "Kingma & Welling (2013), Figure 4; *Deep Learning* Figure 20.6. Tile (row, column) is the decoder mean "
    "E[x | z] at z = (Φ⁻¹(u₁), Φ⁻¹(u₂)) for u on an even grid in (0, 1)²: neighbouring tiles are equally far apart "
    "in prior probability. z₁ grows to the right, z₂ upwards."
)

P = MANIFOLD_PARAMS
FIXED = {"n_z": 2}  # the manifold is a picture of a 2-D latent space
top = st.columns([3, 2])
with top[0]:
    dataset = ui.param_widget(P, "dataset", "vae", horizontal=True)
with top[1]:
    n = ui.slider("vae.grid", "Grid size (tiles per side)", 5, 30, 20, 1)

settings = {"dataset": dataset, **FIXED}
with st.expander("Training settings", expanded=False):
    settings |= ui.param_row(P, ("lr", "batch_size", "beta", "k"), "vae", dataset=dataset)
    rest = [name for name in P.names if name not in settings]  # every other declared parameter, four to a row
    for start in range(0, len(rest), 4):
        for col, name in zip(st.columns(4), rest[start : start + 4]):
            with col:
                settings[name] = ui.param_widget(P, name, "vae", dataset=dataset)

shown = pretrained(dataset)
data = vae_data(dataset)
if data is None:
    if shown is not None:
        model, meta = shown
        show_manifold(manifold_picture(model.decoder, model.config.image_shape, n), caption="Pretrained model")
    st.stop()

params = P.complete(settings)
run = ui.session_run(f"vae.manifold.{dataset}", VAETask, params, max_fps=LIVE_FPS)
ui.push_params(run, params)
ui.run_controls(run, "vae.manifold")


def draw_fast(snap: Snapshot) -> None:
    if snap.step == 0 and shown is not None:
        model, meta = shown
        picture = manifold_picture(model.decoder, model.config.image_shape, n)
        caption = (
            f"Pretrained: {meta['dataset']} N_z = 2, held-out ELBO {meta['test_elbo']:.1f} nats per image over "
            f"{meta.get('test_images', 'its held-out set')}. Press Play to train from scratch."
        )
    else:
        task: VAETask = run.task
        decoder = decoder_from_arrays(task.config, snap.arrays)
        picture = manifold_picture(decoder, task.config.image_shape, n)
        caption = f"Live: step {snap.step}, epoch {snap.latest('epoch', 0.0):.2f}, ELBO {snap.latest('elbo'):.1f} nats per image"
    left, right = st.columns([5, 2])
    with left:
        show_manifold(picture, caption)
    with right:
        st.markdown(
            "**MNIST**: digits morph into one another; similar digits are neighbours. **Frey faces**: expression and pose "
            "change smoothly as z moves. Press **Play** to train a fresh model and watch the manifold form."
        )
        if snap.step > 0:
            st.metric("ELBO (train batch)", f"{snap.latest('elbo'):.1f}")
            st.metric("Reconstruction E_q log p(x|z)", f"{snap.latest('recon'):.1f}")
            st.metric("KL(q(z|x) ‖ p(z))", f"{snap.latest('kl'):.2f}")
            st.metric("Examples seen", f"{int(snap.latest('samples_seen', 0)):,}")


live_panel(run, draw_fast, key="vae.manifold.panel")
