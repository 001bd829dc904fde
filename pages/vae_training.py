"""VAE training: the ELBO split into reconstruction and KL, live; latent sizes and AEVB vs wake-sleep compared (K&W Figures 2 and 5)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine.run import Snapshot
from engine.tasks.vae import COMPARISONS, CompareTask, VAETask, decoder_from_arrays, heldout_images
from lab import compare, stage, views
from lab import controls as ui
from lab.live import live_panel
from lab.vae.pictures import tiles
from lab.vae.views import vae_data

PRIOR_Z = torch.randn((64, 20), generator=torch.Generator().manual_seed(1234))
RULE_NAMES = VAETask.PARAMS["rule"].labels
VIEWS = {"one": "one model", "compare": "eight compared"}  # the page's two panels, one on the stage at a time: each has its own run, the stage one live picture
ONE_MODEL = (
    r"ELBO $\mathcal L(\mathbf x) = \mathbb E_{q(\mathbf z \mid \mathbf x)}[\log p(\mathbf x \mid \mathbf z)] - \mathrm{KL}\big(q(\mathbf z \mid \mathbf x) \,\|\, p(\mathbf z)\big)$ "
    r"(K&W eq. 10): the reconstruction term rewards decoding $\mathbf x$ back from $\mathbf z \sim q(\mathbf z \mid \mathbf x)$; the KL term keeps $q$ close to the prior "
    r"$\mathcal N(\mathbf 0, I)$. With $\beta \ne 1$ the objective is $\mathbb E_q[\log p(\mathbf x \mid \mathbf z)] - \beta \cdot \mathrm{KL}$."
    "\n\n"
    r"The picture shows the decoder means $\mathbb E[\mathbf x \mid \mathbf z]$ for 64 fixed draws $\mathbf z \sim p(\mathbf z)$ (K&W Figure 5)."
)
COMPARISON = (
    r"Kingma & Welling, Figure 2: the held-out lower bound against the number of training examples seen, for $N_z = 2, 5, 10, 20$, "
    r"each trained by AEVB (solid) and by wake-sleep (dashed) on the same minibatches. Figure 5: decoder means at the same 36 draws $\mathbf z \sim p(\mathbf z)$ for each model. "
    "The two rules train the very same encoder and decoder; only the learning rule differs."
)

P = VAETask.PARAMS
CP = CompareTask.PARAMS
with stage.parameters():
    view = ui.select("vae.train.view", "Show", list(VIEWS), "one", format_func=VIEWS.get, horizontal=True)
    if view == "one":
        pair = compare.choice("vae.train", COMPARISONS)
        dataset = ui.param_widget(P, "dataset", "vae.train", horizontal=False)
        shown = {"dataset": dataset}
        shown |= ui.param_column(P, ("n_z", "rule", "hidden", "lr", "batch_size", "beta", "k", "seed"), "vae.train", dataset=dataset)
        shown |= ui.param_rest(P, shown, "vae.train", dataset=dataset, per_row=1)
    else:
        cmp_dataset = ui.param_widget(CP, "dataset", "vae.cmp", horizontal=False)
        cmp_shown = {"dataset": cmp_dataset, "lr": ui.param_widget(CP, "lr", "vae.cmp", dataset=cmp_dataset)}
        cmp_shown |= ui.param_rest(CP, cmp_shown, "vae.cmp", dataset=cmp_dataset, per_row=1)


def nats(snap: Snapshot, metric: str) -> str:
    value = snap.latest(metric)
    return "—" if np.isnan(value) else f"{value:.1f}"


def one_model() -> None:
    """The one model's run: samples and the ELBO's terms live."""
    data = vae_data(dataset)
    if data is None:
        st.stop()
    params = P.complete(shown)
    run = compare.session_run(f"vae.train.{dataset}", VAETask, pair, params)
    ui.push_params(run, params)
    ui.run_controls(run, "vae.train")
    task: VAETask = compare.task_of(run)

    def draw_samples(snap: Snapshot) -> np.ndarray:
        decoder = decoder_from_arrays(task.config, snap.arrays)
        with torch.no_grad():
            means = decoder.mean(PRIOR_Z[:, : task.config.n_z]).reshape(-1, *task.config.image_shape).numpy()
        left, right = views.beside([3, 2])
        samples = tiles(means, 8)
        with left:
            views.show_image(samples, caption=f"E[x | z] for 64 fixed z ~ p(z), step {snap.step}", target_width=470)
        with right:
            st.metric("ELBO (train batch)", nats(snap, "elbo"))
            st.metric("ELBO (held out)", nats(snap, "test_elbo"))
            m = st.columns(2)
            m[0].metric("E_q log p(x|z)", nats(snap, "recon"))
            m[1].metric("KL(q ‖ p(z))", nats(snap, "kl"))
            st.metric("Examples seen", f"{int(snap.latest('samples_seen', 0)):,}  (epoch {snap.latest('epoch', 0.0):.2f})")
        return samples

    def draw_curves(snap: Snapshot) -> None:
        if snap.step == 0:
            st.info("Press Play: the curves start with the first step.")
            return
        left, right = st.columns(2)
        names = {"elbo": "ELBO (train batch)", "test_elbo": "ELBO (held out)", "iwae": "L_k (train batch)"}
        with left:
            series = {key: snap.metrics[key] for key in names if key in snap.metrics}
            views.plot(views.curves(series, "The bound, nats per image", "nats", names=names), key="vae.train.elbo")
        with right:
            fig = views.curves({"recon": snap.metrics["recon"]}, "Its two terms", "E_q log p(x|z)", names={"recon": "E_q log p(x|z)"})
            kl = snap.metrics["kl"]
            fig.add_trace(go.Scatter(x=kl.steps, y=kl.values, name="KL(q ‖ p(z))", yaxis="y2", line={"width": 3, "color": views.PALETTE[1]}))
            fig.update_layout(yaxis2={"title": {"text": "KL"}, "overlaying": "y", "side": "right"}, legend={"orientation": "h", "y": -0.25})
            views.plot(fig, key="vae.train.terms")

    compare.live_panel(run, pair, draw_samples, draw_curves, key="vae.train.panel", P=P,
                       metrics={"elbo": ("ELBO (train batch)", "nats per image"), "test_elbo": ("ELBO (held out)", "nats per image")})
    st.caption(f"Nats per image. Data: {data.source}. ELBO (held out): one sample of q per image over {heldout_images(data, task.eval_size)}.")
    stage.explain(ONE_MODEL)


def comparison() -> None:
    """Eight models (four latent sizes, two learning rules) trained on one minibatch stream."""
    data = vae_data(cmp_dataset)
    if data is None:
        st.stop()
    cmp_params = CP.complete(cmp_shown)
    cmp_run = ui.session_run(f"vae.compare.{cmp_dataset}", CompareTask, cmp_params, max_fps=5.0)
    ui.push_params(cmp_run, cmp_params)
    ui.run_controls(cmp_run, "vae.compare", show_speed=False, export=False)

    def draw_prior_samples(snap: Snapshot) -> None:
        latents = cmp_run.task.latents
        for rule_key in ("aevb", "wake-sleep"):
            cols = st.columns([1.3] + [2] * len(latents), vertical_alignment="center")
            cols[0].markdown(f"**{RULE_NAMES[rule_key]}**")
            for col, n in zip(cols[1:], latents):
                with col:
                    views.show_image(tiles(snap.arrays[f"prior/{rule_key}/{n}"][:36], 6), caption=f"N_z = {n}", target_width=200)

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
        views.plot(views.style(fig, "Held-out ELBO against training examples seen", "training examples seen", "ELBO (nats per image)", height=460), key="vae.cmp.fig")

    live_panel(cmp_run, draw_prior_samples, draw_comparison, key="vae.compare.panel", fps=5.0, slow_fps=2.0)
    st.caption(
        f"Eight models train at once (4 sizes × 2 rules, {cmp_shown['hidden']} hidden units each) on one minibatch stream: a few steps per second on a laptop CPU. "
        f"Held-out ELBO over {heldout_images(data, cmp_run.task.eval_size)}."
    )
    stage.explain(COMPARISON)


stage.title("VAE: training, live" if view == "one" else "VAE: latent sizes and learning rules compared")
if view == "one":
    one_model()
else:
    comparison()
