"""Learned inference: the amortization gap (book 19.5; Kingma & Welling section 2; Cremer et al. 2018), on the shipped
2-D-latent MNIST VAE: the encoder's ELBO, a q optimized per image, and log p(x) by quadrature."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.data import DataError
from engine.run import Snapshot
from engine.tasks.inference.amortized import POSTERIOR_POINTS, PRESETS, AmortizedGapTask
from engine.tasks.vae import data_root, heldout_images, heldout_rows, load_vae_data
from lab import controls as ui
from lab import live, stage, views
from lab.inference.amortized_figures import elbo_figure, gaps_figure, mean_gaps_figure, stage_figure
from lab.vae.views import pretrained

P = AmortizedGapTask.PARAMS
PICTURE_EVERY = 0.25  # seconds between redraws of the picture while the run plays (Plotly updates it in place)
CHARTS_EVERY = 1.0

stage.title("Learned inference: the amortization gap")

trained = pretrained("mnist")
try:
    data = load_vae_data("mnist", data_root(), download=False)
except DataError as err:
    st.info(f"This page needs the MNIST test images: run `genlab data fetch mnist`, then reload.\n\n{err}", icon=":material/cloud_off:")
    st.stop()
if trained is None:
    st.error("No pretrained MNIST VAE in assets/vae/: train one with `genlab train vae --dataset mnist --n-z 2 --out assets/vae/mnist_z2`.")
    st.stop()
model, _ = trained
heldout = heldout_rows(data)

with stage.parameters():
    ui.presets("amortized", PRESETS, help="Image 0: the encoder is right; image 18: it misses the posterior; image 16: no Gaussian fits.")
    shown = ui.param_column(P, ("first", "n_images"), "amortized")
    index_param = replace(P["index"], high=shown["n_images"] - 1)
    shown["index"] = ui.number("amortized.index", f"{ui.widget_label(index_param)} (0-{shown['n_images'] - 1})", 0, shown["n_images"] - 1, 0,
                               help=ui.widget_help(index_param))  # fmt: skip
    shown |= ui.param_column(P, ("lr", "hermite"), "amortized")
    shown |= ui.param_rest(P, shown, "amortized", per_row=1)

params = P.complete(shown)
run = ui.session_run("amortized", lambda: AmortizedGapTask(model, heldout), params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "amortized", step_label="One step", default_speed="15 steps / s", export_plot="amortized-stage")


def shown_image(snap: Snapshot) -> tuple[int, int]:
    """(position in the set, held-out image number) of the image the picture shows."""
    i = min(int(params["index"]), len(snap.arrays["log_px"]) - 1)
    return i, int(snap.params["first"]) + i


def picture(snap: Snapshot) -> go.Figure:
    """The image shown: its true posterior, the encoder's q and the optimized q, and the bar of the gaps."""
    i, number = shown_image(snap)
    return stage_figure(snap.arrays, i, snap.step, number)


def draw_picture(snap: Snapshot) -> None:
    views.run_plot(picture, snap, key="amortized-stage")


def draw_charts(snap: Snapshot) -> None:
    a, m = snap.arrays, snap.metrics
    i, number = shown_image(snap)
    gap = a["log_px"] - a["amortized_elbo"]
    st.markdown(f"**Means over the N = {len(gap)} images** (nats)")
    c = st.columns(4)
    c[0].metric("Amortization gap", views.number(float(np.mean(a["optimized_elbo"] - a["amortized_elbo"]))), help="Mean over the set of optimized ELBO − amortized ELBO, nats.")
    c[1].metric("Approximation gap", views.number(float(np.mean(a["log_px"] - a["optimized_elbo"]))), help="Mean over the set of log p(x) − optimized ELBO, nats.")
    c[2].metric("Encoder's gap", views.number(float(np.mean(gap))), help="The encoder's whole gap KL(q(z|x) ‖ p(z|x)), averaged over the set.")
    c[3].metric("log p(x)", views.number(float(np.mean(a["log_px"]))), help=f"By quadrature on a {POSTERIOR_POINTS} × {POSTERIOR_POINTS} grid per image.")
    c = st.columns(3)
    with c[0]:
        views.plot(gaps_figure(a, np.arange(len(gap)) + int(snap.params["first"]), i), key="amortized-gaps")
    with c[1]:
        views.plot(elbo_figure(a["history_steps"], a["history"], i, float(a["log_px"][i]), float(a["amortized_elbo"][i])), key="amortized-elbo")
    with c[2]:
        if m.get("amortization_gap") is None:
            st.info("Press **Play** or **One step** to optimize every image's q.")
        else:
            views.plot(mean_gaps_figure(m), key="amortized-mean")
    st.caption(f"Image shown: {heldout_images(data, 1, number)}. The set: {heldout_images(data, len(gap), int(snap.params['first']))}.")


live_area, moment = live.rewindable(run)
with live_area, stage.picture():
    live.redrawn(run, draw_picture, PICTURE_EVERY, at=moment)
st.caption(
    r"Blue: the true posterior p(z|x) = p(x|z) p(z) / p(x) on a grid. Red: the encoder's q(z|x); green: a diagonal Gaussian q optimized for this image alone "
    r"(1σ solid, 2σ dotted). Bar: log p(x) = ELBO(q*) + approximation gap = amortized ELBO + amortization gap + approximation gap (Cremer et al. 2018)."
)
with stage.charts():
    live.redrawn(run, draw_charts, CHARTS_EVERY, at=moment)
stage.explain(
    r"A VAE's encoder *amortizes* inference (section 19.5): one network maps every $\mathbf x$ to a Gaussian "
    r"$q(\mathbf z \mid \mathbf x) = \mathcal N(\boldsymbol\mu(\mathbf x), \operatorname{diag}\boldsymbol\sigma^2(\mathbf x))$. "
    r"Every Gaussian $q$ gives a lower bound (eq. 19.1, K&W eq. 3):"
    "\n\n"
    r"$$\mathcal L(\mathbf x, q) = \mathbb E_{q}[\log p(\mathbf x \mid \mathbf z)] - D_{\mathrm{KL}}\big(q \,\|\, p(\mathbf z)\big) = \log p(\mathbf x) - D_{\mathrm{KL}}\big(q \,\|\, p(\mathbf z \mid \mathbf x)\big).$$"
    "\n\n"
    r"For each image we also optimize its own $q^*$ (the two means and two log variances) by natural-gradient ascent, "
    r"$\boldsymbol\mu \leftarrow \boldsymbol\mu + \epsilon\, \boldsymbol\sigma^2 \odot \partial\mathcal L/\partial\boldsymbol\mu$, "
    r"$\log\boldsymbol\sigma^2 \leftarrow \log\boldsymbol\sigma^2 + 2\epsilon\, \partial\mathcal L/\partial\log\boldsymbol\sigma^2$, starting from the encoder's $q$. "
    r"The gap of the encoder splits in two (Cremer, Li & Duvenaud 2018):"
    "\n\n"
    r"$$\log p(\mathbf x) - \mathcal L(\mathbf x, q_{\text{encoder}}) = \underbrace{\log p(\mathbf x) - \mathcal L(\mathbf x, q^*)}_{\text{approximation gap}} "
    r"+ \underbrace{\mathcal L(\mathbf x, q^*) - \mathcal L(\mathbf x, q_{\text{encoder}})}_{\text{amortization gap}}.$$"
    "\n\n"
    r"The approximation gap is what no diagonal Gaussian can close (a curved or two-lobed posterior); the amortization gap is what a better encoder, "
    r"or a few steps of optimization per image, would gain. Everything is deterministic: $\mathbb E_q[\log p(\mathbf x\mid\mathbf z)]$ by $n\times n$ "
    r"Gauss-Hermite quadrature, the KL to the prior in closed form (K&W appendix B), and "
    rf"$\log p(\mathbf x) = \log \int p(\mathbf x \mid \mathbf z)\, p(\mathbf z)\, d\mathbf z$ on a {POSTERIOR_POINTS} × {POSTERIOR_POINTS} grid around each posterior "
    r"(log-sum-exp in float64). Bernoulli $p(\mathbf x\mid\mathbf z)$ on held-out MNIST test images binarized once ('fixed', seed 0)."
)
