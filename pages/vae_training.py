"""VAE training: the ELBO split into reconstruction and KL, live; latent sizes and AEVB vs wake-sleep compared (K&W Figures 2 and 5)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine.run import Snapshot
from engine.tasks.vae import CompareTask, VAETask, decoder_from_arrays, heldout_images
from lab import controls as ui
from lab import views
from lab.live import live_panel
from lab.vae.pictures import LIVE_FPS, tiles
from lab.vae.views import vae_data

PRIOR_Z = torch.randn((64, 20), generator=torch.Generator().manual_seed(1234))
RULE_NAMES = VAETask.PARAMS["rule"].labels

st.title("VAE: training, live")
st.caption(
    "ELBO L(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z)) (K&W eq. 10): the reconstruction term rewards decoding x back "
    "from z ~ q(z|x); the KL term keeps q close to the prior N(0, I). With β ≠ 1 the objective is E_q[log p(x|z)] − β·KL."
)

# ---------------------------------------------------------------- one model
st.header("One model")
P = VAETask.PARAMS
cols = st.columns(4)
with cols[0]:
    dataset = ui.param_widget(P, "dataset", "vae.train", horizontal=False)
shown = {"dataset": dataset}
for col, name in zip(cols[1:], ("n_z", "rule", "hidden"), strict=True):
    with col:
        shown[name] = ui.param_widget(P, name, "vae.train", dataset=dataset, horizontal=False)
shown |= ui.param_row(P, ("lr", "batch_size", "beta", "k", "seed"), "vae.train", dataset=dataset)
shown |= ui.param_rest(P, shown, "vae.train", dataset=dataset)

data = vae_data(dataset)
if data is None:
    st.stop()
params = P.complete(shown)
run = ui.session_run(f"vae.train.{dataset}", VAETask, params, max_fps=LIVE_FPS)
ui.push_params(run, params)
ui.run_controls(run, "vae.train")
st.caption(f"Data: {data.source}. ELBO (held out): one sample of q per image over {heldout_images(data, run.task.eval_size)}.")


def nats(snap: Snapshot, metric: str) -> str:
    value = snap.latest(metric)
    return "—" if np.isnan(value) else f"{value:.1f}"


def draw_samples(snap: Snapshot) -> None:
    task: VAETask = run.task
    decoder = decoder_from_arrays(task.config, snap.arrays)
    with torch.no_grad():
        means = decoder.mean(PRIOR_Z[:, : task.config.n_z]).reshape(-1, *task.config.image_shape).numpy()
    left, right = st.columns([2, 3])
    with left:
        views.show_image(tiles(means, 8), caption=f"E[x | z] for 64 fixed z ~ p(z), step {snap.step} (K&W Figure 5)", target_width=420)
    with right:
        m = st.columns(2)
        m[0].metric("ELBO (train batch)", nats(snap, 'elbo'))
        m[1].metric("ELBO (held out)", nats(snap, 'test_elbo'))
        m = st.columns(2)
        m[0].metric("E_q log p(x|z)", nats(snap, 'recon'))
        m[1].metric("KL(q ‖ p(z))", nats(snap, 'kl'))
        st.metric("Examples seen", f"{int(snap.latest('samples_seen', 0)):,}  (epoch {snap.latest('epoch', 0.0):.2f})")


def draw_curves(snap: Snapshot) -> None:
    if snap.step == 0:
        st.info("Press Play: the curves start with the first step.")
        return
    left, right = st.columns(2)
    names = {"elbo": "ELBO (train batch)", "test_elbo": "ELBO (held out)", "iwae": "L_k (train batch)"}
    with left:
        series = {key: snap.metrics[key] for key in names if key in snap.metrics}
        views.plot(views.curves(series, "The bound, nats per image", "nats", names=names), key=f"vae.train.elbo.{snap.version}")
    with right:
        fig = views.curves({"recon": snap.metrics["recon"]}, "Its two terms", "E_q log p(x|z)", names={"recon": "E_q log p(x|z)"})
        kl = snap.metrics["kl"]
        fig.add_trace(go.Scatter(x=kl.steps, y=kl.values, name="KL(q ‖ p(z))", yaxis="y2", line={"width": 3, "color": views.PALETTE[1]}))
        fig.update_layout(yaxis2={"title": {"text": "KL"}, "overlaying": "y", "side": "right"}, legend={"orientation": "h", "y": -0.25})
        views.plot(fig, key=f"vae.train.terms.{snap.version}")


live_panel(run, draw_samples, draw_curves, key="vae.train.panel")

# ---------------------------------------------------------------- the comparison
st.header("Latent sizes and learning rules, side by side")
st.caption(
    "Kingma & Welling, Figure 2: the held-out lower bound against the number of training examples seen, for N_z = 2, 5, 10, 20, "
    "each trained by AEVB (solid) and by wake-sleep (dashed) on the same minibatches. Figure 5: decoder means at the same 36 draws z ~ p(z) for each model. "
    "The two rules train the very same encoder and decoder; only the learning rule differs."
)
CP = CompareTask.PARAMS
cols = st.columns([2, 2, 3])
with cols[0]:
    cmp_dataset = ui.param_widget(CP, "dataset", "vae.cmp", horizontal=False)
with cols[1]:
    cmp_shown = {"dataset": cmp_dataset, "lr": ui.param_widget(CP, "lr", "vae.cmp", dataset=cmp_dataset)}
cmp_shown |= ui.param_rest(CP, cmp_shown, "vae.cmp", dataset=cmp_dataset)
with cols[2]:
    st.markdown(
        f"Eight models train at once (4 sizes × 2 rules, {cmp_shown['hidden']} hidden units each) on one minibatch stream: "
        "a few steps per second on a laptop CPU."
    )
if vae_data(cmp_dataset) is None:
    st.stop()
cmp_params = CP.complete(cmp_shown)
cmp_run = ui.session_run(f"vae.compare.{cmp_dataset}", CompareTask, cmp_params, max_fps=5.0)
ui.push_params(cmp_run, cmp_params)
ui.run_controls(cmp_run, "vae.compare", show_speed=False)
st.caption(f"Held-out ELBO over {heldout_images(vae_data(cmp_dataset), cmp_run.task.eval_size)}.")


def draw_prior_samples(snap: Snapshot) -> None:
    latents = cmp_run.task.latents
    cols = st.columns(len(latents))
    for col, n in zip(cols, latents):
        with col:
            views.show_image(tiles(snap.arrays[f"prior/aevb/{n}"][:36], 6), caption=f"AEVB, N_z = {n}", target_width=260)
    cols = st.columns(len(latents))
    for col, n in zip(cols, latents):
        with col:
            views.show_image(tiles(snap.arrays[f"prior/wake-sleep/{n}"][:36], 6), caption=f"wake-sleep, N_z = {n}", target_width=260)


def draw_comparison(snap: Snapshot) -> None:
    if snap.step == 0:
        st.info("Press Play to train all eight models.")
        return
    fig = go.Figure()
    batch = cmp_run.task.batch_size
    for i, n in enumerate(cmp_run.task.latents):
        for rule_key, dash in (("aevb", "solid"), ("wake-sleep", "dash")):
            s = snap.metrics.get(f"{rule_key}/{n}/test")
            if s is None:
                continue
            fig.add_trace(
                go.Scatter(x=np.asarray(s.steps) * batch, y=s.values, mode="lines+markers", marker={"size": 6}, name=f"{RULE_NAMES[rule_key]}, N_z = {n}", line={"color": views.PALETTE[i], "width": 3, "dash": dash})
            )
    fig.update_xaxes(type="log")
    views.plot(views.style(fig, "Held-out ELBO against training examples seen", "training examples seen", "ELBO (nats per image)", height=460), key=f"vae.cmp.fig.{snap.version}")


live_panel(cmp_run, draw_prior_samples, draw_comparison, key="vae.compare.panel", fps=5.0, slow_fps=2.0)
