"""Gradient estimators: the score function (REINFORCE), with and without a baseline, against the reparameterization
trick, on E_q[f(z)] for a Gaussian q (Kingma & Welling section 2.3-2.4, eqs. 5, 7-8), and on the ELBO of the
pretrained MNIST VAE with respect to the encoder's mu (eq. 10)."""

from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go
import streamlit as st

from engine.data import DataError, Split
from engine.inference.gradient_estimators import ESTIMATORS, VAEGradients
from engine.run import Snapshot
from engine.tasks.inference.gradients import PARAMS, PRESETS, VAE_ESTIMATES, VAE_PARAMS, GradientsTask, component_index, mnist_vae_gradients
from engine.tasks.vae import data_root, heldout_images, heldout_rows, load_vae_data
from lab import controls as ui
from lab import live, stage, views
from lab.inference.gradients_figures import NAMES, bias_figure, estimates_figure, number, vae_figure, variance_figure
from lab.vae.views import pretrained

REDRAW_EVERY = 0.25  # seconds between redraws while the run plays (Plotly updates the charts in place)
MNIST_NOTICE = "The VAE part (at the bottom) needs the MNIST test images: `genlab data fetch mnist`. The 1-D / 2-D part works without them."

stage.title("Score function vs reparameterization")


@st.cache_resource(show_spinner="Loading MNIST ...")
def _mnist(root: str | None) -> Split:
    return load_vae_data("mnist", root, download=False)


def mnist() -> Split | None:
    try:
        return _mnist(data_root())
    except DataError:
        return None


data = mnist()
with stage.parameters():
    if data is None:
        st.info(MNIST_NOTICE, icon=":material/cloud_off:")
    ui.presets("grad", PRESETS, help="Each preset sets f, q and L and starts again.")
    shown = ui.param_column(PARAMS, ("function", "dim"), "grad", horizontal=("dim",))
    two_d = shown["dim"] == 2
    P = PARAMS
    if not two_d:
        P = PARAMS.replace(component=replace(PARAMS["component"], choices=("mu1", "sigma1")))
        if st.session_state.get("grad.component") not in (None, "mu1", "sigma1"):
            st.session_state["grad.component"] = "mu1"
    shown |= ui.param_column(P, ("component", "samples", "n_estimates", "mu1", "sigma1"), "grad", horizontal=("component",))
    if two_d:
        shown |= ui.param_column(P, ("mu2", "sigma2"), "grad")
    shown |= ui.param_column(P, ("baseline",), "grad")
    if shown["baseline"] == "constant":
        shown |= ui.param_column(P, ("baseline_value",), "grad")
    shown |= ui.param_rest(P, [*shown, "mu2", "sigma2", "baseline_value"], "grad", per_row=1)
    st.markdown("**VAE part**")
    vae_shown = ui.param_column(VAE_PARAMS, ("image", "vae_samples"), "grad.vae")

params = P.complete(shown)
run = ui.session_run("grad", GradientsTask, params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "grad", step_label="New batch", default_speed="4 steps / s", export_plot="grad-estimates")
LABEL = P["component"].labels


def shown_component(snap: Snapshot) -> tuple[str, int, str]:
    """The component shown (the widget's at once, not at the next step), its index in the snapshot and its label."""
    component = params["component"]
    try:
        index = component_index(component, len(snap.arrays["truth"]) // 2)
    except ValueError:  # the snapshot predates a change of dimension
        component = snap.params["component"]
        index = component_index(component, len(snap.arrays["truth"]) // 2)
    return component, index, LABEL[component]


def estimates(snap: Snapshot) -> go.Figure:
    """The estimates of the component shown."""
    _, index, label = shown_component(snap)
    return estimates_figure(snap.arrays, index, label)


def draw_live(snap: Snapshot) -> None:
    a = snap.arrays
    component, index, label = shown_component(snap)
    with stage.picture():
        views.run_plot(estimates, snap, key="grad-estimates")
    st.caption(
        r"Per sample, $z = \mu + \sigma\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$: score function $f(z)\,\nabla_\theta \log q(z)$ (K&W eq. 5); "
        rf"with baseline $(f(z) - b)\,\nabla_\theta \log q(z)$, $b = {float(a['batch_baseline']):.3g}$; reparameterized $\nabla_\theta f(\mu + \sigma\varepsilon)$ (eqs. 7-8). "
        f"Each estimate averages L = {int(a['batch_samples'])} samples; {a['estimates'].shape[1]} new estimates per estimator each step, {int(a['estimates_drawn']):,} so far."
    )
    with stage.charts():
        c = st.columns(2)
        series = {e: snap.metrics[f"{e}_{component}"] for e in ESTIMATORS if f"{e}_{component}" in snap.metrics}
        with c[0]:
            if series:
                views.plot(bias_figure(series, float(a["truth"][index]), label), key="grad-bias")
            else:
                st.info("Press **Play** or **New batch**: the running means start with the first step.")
        with c[1]:
            slopes = {e: float(a["variance_slopes"][i, index]) for i, e in enumerate(ESTIMATORS)}
            views.plot(variance_figure(a, index, slopes, label), key="grad-variance")


live_area, moment = live.rewindable(run)
with live_area:
    live.redrawn(run, draw_live, REDRAW_EVERY, at=moment)
stage.explain(
    r"We want $\nabla_\theta\, \mathbb E_{q_\theta(z)}[f(z)]$ for $q_\theta(z) = \mathcal N(z; \mu, \operatorname{diag}\sigma^2)$, $\theta = (\mu, \sigma)$. "
    r"Kingma & Welling (section 2.2, eq. 5) note the naive Monte Carlo estimator"
    "\n\n"
    r"$$\nabla_\theta\, \mathbb E_{q}[f(z)] = \mathbb E_{q}\big[f(z)\, \nabla_\theta \log q_\theta(z)\big] \approx \frac1L \sum_{l=1}^L f(z^{(l)})\, \nabla_\theta \log q_\theta(z^{(l)}),"
    r"\qquad \nabla_\mu \log q = \frac{\varepsilon}{\sigma},\ \nabla_\sigma \log q = \frac{\varepsilon^2 - 1}{\sigma},$$"
    "\n\n"
    r"the score-function (REINFORCE) estimator, which 'exhibits very high variance'. Since $\mathbb E_q[\nabla_\theta \log q] = 0$, subtracting a baseline $b$ "
    r"that does not depend on the samples, $(f(z) - b)\, \nabla_\theta \log q(z)$, keeps it unbiased; here $b$ is either a constant or the running mean of $f$ over every "
    r"sample drawn before the current step (100 pilot samples at the start). The reparameterization trick (section 2.4, eqs. 7-8) writes $z = \mu + \sigma \varepsilon$ and "
    r"differentiates through it:"
    "\n\n"
    r"$$\nabla_\theta\, \mathbb E_{\varepsilon}[f(\mu + \sigma\varepsilon)] \approx \frac1L \sum_{l=1}^L \nabla_\theta f(\mu + \sigma \varepsilon^{(l)}), \qquad "
    r"\nabla_\mu = \nabla_z f(z),\ \nabla_\sigma = \nabla_z f(z) \odot \varepsilon.$$"
    "\n\n"
    r"**Exact answers.** The dashed line is the exact gradient: closed form for the quadratic $\|z - c\|^2$, $c = (1, -0.5)$ ($\nabla_\mu = 2(\mu - c)$, $\nabla_\sigma = 2\sigma$) and "
    r"the sinusoid $\sum_i \sin(3 z_i)$ ($\mathbb E_q = \sum_i \sin(3\mu_i)\, e^{-9\sigma_i^2/2}$), Gauss-Hermite quadrature (160 nodes per dimension) for the bumpy "
    r"$\tfrac14\|z\|^2 + \sin(4z_1)\tanh(2z_D)$. Each estimator's exact single-sample variance $\mathrm{Var}_1$ comes from the same quadrature; the mean of $L$ "
    r"independent samples has variance $\mathrm{Var}_1 / L$: slope $-1$ on the log-log chart, whose points are measured every step on 300 fresh estimates per $L$, "
    r"with the baseline of that step. The histogram's rows share the x axis but each has its own count scale."
    "\n\n"
    r"**Which wins.** For a smooth $f$ the reparameterized estimator uses $\nabla f$ and has the lowest variance; for a fast-varying $f$ (the sinusoid) $\nabla f$ "
    r"swings wildly and the score function can win. A baseline far from $\mathbb E_q[f]$ (try $b = -5$ on the quadratic) raises the variance instead."
)

# --------------------------------------------------------------------------- the VAE: grad_mu of the ELBO at one test image
st.subheader("The MNIST VAE: ∇ of the ELBO with respect to the encoder's μ")
vae = pretrained("mnist")
if data is None or vae is None:
    st.info("This part needs the pretrained MNIST VAE (assets/vae/mnist_z2) and the MNIST test images on disk: `genlab data fetch mnist`.", icon=":material/cloud_off:")
    st.stop()
vp = VAE_PARAMS.complete(vae_shown)
heldout = heldout_rows(data)


@st.cache_data(show_spinner="Estimating the ELBO's gradient ...", max_entries=32)
def vae_gradients(image: int, samples: int) -> VAEGradients:
    return mnist_vae_gradients(vae[0], heldout, image, samples)


result = vae_gradients(vp["image"], vp["vae_samples"])
left, right = st.columns([3, 1])
with left:
    views.plot(vae_figure(result), key="grad-vae")
with right:
    st.metric("Exact ∂L/∂μ₁, ∂L/∂μ₂", f"{result.truth[0]:.1f}, {result.truth[1]:.1f}", help="Gauss-Hermite quadrature, 60 × 60 nodes.")
    for name, variance in (("score", result.score_variance), ("reparam", result.reparam_variance)):
        st.metric(f"Var, {NAMES[name]}", number(float(variance.sum())), help="Summed over the two components.")
    st.metric("Variance ratio", f"{result.score_variance.sum() / result.reparam_variance.sum():,.0f}×")
st.caption(
    rf"$\mathcal L(x) = \mathbb E_{{q(z|x)}}[\log p(x|z)] - D_{{KL}}(q(z|x)\,\|\,p(z))$ (K&W eq. 10) with the KL term exact ($\nabla_\mu D_{{KL}} = \mu$); "
    rf"$\mathbb E_q[\log p(x|z)]$ by the score function $\log p(x|z)\,(z - \mu)/\sigma^2$ and by reparameterization $\nabla_z \log p(x|z)$, "
    f"{VAE_ESTIMATES:,} estimates each, at q's own μ = ({result.mu[0]:.2f}, {result.mu[1]:.2f}), σ = ({result.sigma[0]:.3f}, {result.sigma[1]:.3f}). "
    f"Image: {heldout_images(data, 1, vp['image'])}; pretrained N_z = 2 VAE."
)
