"""VAE posterior: the true p(z|x) by quadrature against the approximate q(z|x); the ELBO gap and IWAE bounds."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine.eval.quadrature import high_density_box, posterior_gap_on_grid, posterior_grid
from engine.eval.vae_bounds import importance_bound_curve
from engine.tasks.vae import DATASET_NAMES, heldout_images, heldout_rows
from lab import controls as ui
from lab import stage, views
from lab.vae.pictures import tiles
from lab.vae.views import pretrained, vae_data

KS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
N_WEIGHTS = 20000

stage.title("VAE: the true posterior p(z|x) against q(z|x)")

choices = [d for d in ("mnist", "frey") if pretrained(d) is not None]
if not choices:
    st.error("No pretrained VAE in assets/vae/: train one with `genlab train vae --dataset mnist --n-z 2 --out assets/vae/mnist_z2`.")
    st.stop()
with stage.parameters():
    dataset = ui.select("vae.post.data", "Dataset", choices, choices[0], format_func=DATASET_NAMES.get, horizontal=True)
model, meta = pretrained(dataset)
data = vae_data(dataset)
if data is None:
    st.stop()
heldout = heldout_rows(data)
with st.sidebar:
    index = ui.number("vae.post.x", "Held-out image number", 0, len(heldout) - 1, 13, help="MNIST: try 0 (q fits), 13, and 16, 18 or 45 (q sits in the wrong place entirely: the amortization gap)")
    contours = ui.toggle("vae.post.log", "Contours of log p(z|x) (instead of p(z|x))", False)


def view_box(posterior: tuple[float, float, float, float], mu: np.ndarray, std: np.ndarray) -> tuple[float, float, float, float]:
    """The smallest square-ish box holding the posterior's high-density region and q's 3-sigma ellipse, padded by 15%."""
    lo1, hi1 = min(posterior[0], mu[0] - 3 * std[0]), max(posterior[1], mu[0] + 3 * std[0])
    lo2, hi2 = min(posterior[2], mu[1] - 3 * std[1]), max(posterior[3], mu[1] + 3 * std[1])
    half = 0.5 * 1.15 * max(hi1 - lo1, hi2 - lo2)
    c1, c2 = 0.5 * (lo1 + hi1), 0.5 * (lo2 + hi2)
    return c1 - half, c1 + half, c2 - half, c2 + half


@st.cache_data(show_spinner="Integrating p(x|z) p(z) over the grid ...", max_entries=64)
def analyse(dataset: str, index: int) -> dict:
    model, _ = pretrained(dataset)
    x = heldout[index]
    full = posterior_grid(model, x, n=121)
    with torch.no_grad():
        mu, log_var = (t[0] for t in model.encoder(x[None]))
    grid = posterior_grid(model, x, n=121, box=view_box(high_density_box(full), mu.numpy(), np.exp(0.5 * log_var.numpy())))
    curve = importance_bound_curve(model, x, KS, N_WEIGHTS, seed=index)
    gap = posterior_gap_on_grid(grid, mu, log_var, log_px=full.log_px)  # normalized by the full grid's p(x)
    return {"grid": grid, "log_px": full.log_px, "mu": mu.numpy(), "std": np.exp(0.5 * log_var.numpy()), "curve": curve, "kl_grid": gap.kl, "q_mass": gap.q_mass}


res = analyse(dataset, int(index))
grid, mu, std, curve = res["grid"], res["mu"], res["std"], res["curve"]
elbo, log_px = curve[1], res["log_px"]

picture, readouts = stage.picture().columns([3, 2])
with picture:
    fig = go.Figure()
    z = grid.log_density if contours else np.exp(grid.log_density)
    if contours:
        z = np.maximum(z, z.max() - 20.0)
    fig.add_trace(
        go.Contour(
            x=grid.z1, y=grid.z2, z=z, colorscale="Blues", ncontours=18, name="p(z|x)",
            colorbar={"title": {"text": "log p(z|x)" if contours else "p(z|x)"}}, line={"width": 0.5},
        )
    )  # fmt: skip
    t = np.linspace(0, 2 * np.pi, 120)
    for s, dash in ((1, "solid"), (2, "dash"), (3, "dot")):
        fig.add_trace(
            go.Scatter(x=mu[0] + s * std[0] * np.cos(t), y=mu[1] + s * std[1] * np.sin(t), mode="lines", name=f"q(z|x): {s}σ", line={"color": "#d62728", "width": 3, "dash": dash})
        )
    fig.add_trace(go.Scatter(x=[mu[0]], y=[mu[1]], mode="markers", name="mean of q", marker={"color": "#d62728", "size": 12, "symbol": "x"}))
    fig.update_xaxes(range=[grid.z1[0], grid.z1[-1]])
    fig.update_yaxes(range=[grid.z2[0], grid.z2[-1]], scaleanchor="x", scaleratio=1)
    fig.update_layout(legend={"orientation": "h", "y": -0.22})
    posterior_picture = views.style(fig, f"p(z|x) (blue) and q(z|x) (red), image {index}", "z₁", "z₂")
    views.stage_plot(posterior_picture, key=f"vae.post.fig.{dataset}.{index}.{contours}")

with readouts, stage.readouts():
    img_cols = st.columns(3)
    with img_cols[0]:
        views.show_image(tiles(data.heldout[index].reshape(1, *model.config.image_shape).numpy(), 1, pad=0), caption="x (held out)", target_width=160)
    with img_cols[1]:
        recon = model.decode_mean(torch.from_numpy(mu[None])).numpy()
        views.show_image(tiles(recon, 1, pad=0), caption="E[x|z], mean of q", target_width=160)
    with img_cols[2]:
        row, col = np.unravel_index(np.argmax(grid.log_density), grid.log_density.shape)
        mode = np.array([[grid.z1[col], grid.z2[row]]], dtype=np.float32)
        views.show_image(tiles(model.decode_mean(torch.from_numpy(mode)).numpy(), 1, pad=0), caption="E[x|z], mode of p", target_width=160)
    st.markdown(  # one compact table, so that all three fit beside the picture in presenter mode too
        "| nats | |\n| --- | ---: |\n"
        f"| log p(x) (quadrature) | **{log_px:.2f}** |\n| ELBO | **{elbo:.2f}** |\n| KL(q ‖ p(z\\|x)) = gap | **{log_px - elbo:.2f}** |"
    )
    stage.figure_export("vae-posterior", lambda: {"dataset": dataset, "image": int(index), "log_contours": bool(contours)}, lambda: [(0, posterior_picture)], animation="")
st.caption(
    f"Nats. ELBO = E_q[log p(x|z)] − KL(q ‖ p(z)) from {N_WEIGHTS:,} samples of q. Check: the KL computed directly on the grid, "
    f"∫ q log(q / p(z|x)) dz = {res['kl_grid']:.2f} (q's mass on the grid: {res['q_mass']:.3f}). "
    f"x is held-out image {index}: {heldout_images(data, 1, int(index))}."
)
ks = np.array(list(curve))
fig = go.Figure()
fig.add_trace(go.Scatter(x=ks, y=[curve[k] for k in ks], mode="lines+markers", name="L_k (IWAE)", line={"width": 3, "color": "#d62728"}, marker={"size": 9}))
fig.add_trace(go.Scatter(x=[ks[0], ks[-1]], y=[log_px, log_px], mode="lines", name="log p(x)", line={"width": 3, "dash": "dash", "color": "#1f77b4"}))
fig.update_xaxes(type="log")
fig.update_layout(legend={"orientation": "h", "y": -0.3})
views.plot(views.style(fig, "L_k climbs to log p(x) as k grows", "k (importance samples)", "nats", height=360), key="vae.post.lk")
stage.explain(
    r"For one image $\mathbf x$ and a 2-D latent space, $p(\mathbf z \mid \mathbf x) = p(\mathbf x \mid \mathbf z)\, p(\mathbf z) / p(\mathbf x)$ is computed on a fine grid "
    r"($\log p(\mathbf x)$ by quadrature, log-sum-exp in float64). The encoder's $q(\mathbf z \mid \mathbf x)$ is a Gaussian with diagonal covariance: "
    r"its ellipses cannot follow a tilted or curved posterior."
    "\n\n"
    r"$$\log p(\mathbf x) = \mathrm{ELBO} + \mathrm{KL}\big(q(\mathbf z \mid \mathbf x) \,\|\, p(\mathbf z \mid \mathbf x)\big).$$"
    "\n\n"
    r"The importance-weighted bound (Burda et al. 2015): $\mathcal L_k = \mathbb E\Big[\log \frac1k \sum_i \frac{p(\mathbf x, \mathbf z_i)}{q(\mathbf z_i \mid \mathbf x)}\Big]$, "
    r"$\mathbf z_i \sim q(\mathbf z \mid \mathbf x)$; $\mathcal L_1 = \mathrm{ELBO} \le \mathcal L_k \le \mathcal L_{k+1} \le \log p(\mathbf x)$."
)
