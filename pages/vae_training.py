"""VAE training: the ELBO split into reconstruction and KL, live; latent sizes and AEVB vs wake-sleep compared (K&W Figures 2 and 5)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine.run import Snapshot
from engine.tasks.vae import DEFAULT_HIDDEN, CompareTask, VAETask, decoder_from_arrays, heldout_images
from lab import controls as ui
from lab import views
from lab.live import live_panel
from lab.vae.pictures import LIVE_FPS, tiles
from lab.vae.views import DATASET_NAMES, vae_data

PRIOR_Z = torch.randn((64, 20), generator=torch.Generator().manual_seed(1234))
RULE_NAMES = {"aevb": "AEVB", "wake-sleep": "wake-sleep"}

st.title("VAE: training, live")
st.caption(
    "ELBO L(x) = E_q(z|x)[log p(x|z)] − KL(q(z|x) ‖ p(z)) (K&W eq. 10): the reconstruction term rewards decoding x back "
    "from z ~ q(z|x); the KL term keeps q close to the prior N(0, I). With β ≠ 1 the objective is E_q[log p(x|z)] − β·KL."
)

# ---------------------------------------------------------------- one model
st.header("One model")
cols = st.columns(4)
with cols[0]:
    dataset = ui.select("vae.train.data", "Dataset", list(DATASET_NAMES), "mnist", format_func=DATASET_NAMES.get)
with cols[1]:
    n_z = ui.select("vae.train.nz", "N_z (latent size, on Reset)", [2, 5, 10, 20], 2)
with cols[2]:
    rule = ui.select("vae.train.rule", "Learning rule (on Reset)", ["aevb", "wake-sleep"], "aevb", format_func=RULE_NAMES.get)
with cols[3]:
    hidden = ui.select("vae.train.hidden", "Hidden units (on Reset)", [50, 100, 200, 400, 500], DEFAULT_HIDDEN[dataset])
cols = st.columns(5)
with cols[0]:
    lr = ui.log_slider("vae.train.lr", "Learning rate (Adam)", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2], 1e-3)
with cols[1]:
    batch = ui.select("vae.train.batch", "Batch size", [10, 20, 50, 100, 200, 500], 100)
with cols[2]:
    beta = ui.slider("vae.train.beta", "β (KL weight)", 0.0, 4.0, 1.0, 0.1, help="AEVB only. β = 1 is the ELBO.")
with cols[3]:
    k = ui.select("vae.train.k", "IWAE k", [1, 2, 5, 10, 20], 1, help="AEVB only. k > 1 trains the importance-weighted bound L_k.")
with cols[4]:
    seed = ui.number("vae.train.seed", "Seed (on Reset)", 0, 9999, 0)

data = vae_data(dataset)
if data is None:
    st.stop()
params = {**VAETask.DEFAULTS, "dataset": dataset, "n_z": n_z, "rule": rule, "hidden": hidden, "lr": lr, "batch_size": batch, "beta": beta, "k": k, "seed": seed}
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
cols = st.columns([2, 2, 3])
with cols[0]:
    cmp_dataset = ui.select("vae.cmp.data", "Dataset", list(DATASET_NAMES), "mnist", format_func=DATASET_NAMES.get)
with cols[1]:
    cmp_lr = ui.log_slider("vae.cmp.lr", "Learning rate (Adam, all models)", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 1e-3)
with cols[2]:
    st.markdown("Eight models train at once (4 sizes × 2 rules, 200 hidden units each) on one minibatch stream: a few steps per second on a laptop CPU.")
if vae_data(cmp_dataset) is None:
    st.stop()
cmp_params = {**CompareTask.DEFAULTS, "dataset": cmp_dataset, "lr": cmp_lr}
cmp_run = ui.session_run(f"vae.compare.{cmp_dataset}", CompareTask, cmp_params, max_fps=5.0)
ui.push_params(cmp_run, {"lr": cmp_lr})
ui.run_controls(cmp_run, "vae.compare", show_speed=False)
st.caption(f"Held-out ELBO over {heldout_images(vae_data(cmp_dataset), cmp_run.task.eval_size)}.")


def draw_prior_samples(snap: Snapshot) -> None:
    latents = CompareTask.DEFAULTS["latents"]
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
    batch = CompareTask.DEFAULTS["batch_size"]
    for i, n in enumerate(CompareTask.DEFAULTS["latents"]):
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
