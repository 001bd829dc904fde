"""VAE latent space: encoded test points, click anywhere to decode, interpolate between two points, upload a digit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from engine.tasks.vae import DATASET_NAMES, heldout_images, heldout_rows
from lab import controls as ui
from lab import stage, views
from lab.drawing import draw_digit, read_upload
from lab.vae.pictures import tiles
from lab.vae.views import pretrained, vae_data

GRID_SIDE = 41
INTERPOLATION_STEPS = 10

stage.title("VAE: the latent space, click to decode")

choices = [d for d in ("mnist", "frey") if pretrained(d) is not None]
if not choices:
    st.error("No pretrained VAE in assets/vae/: train one with `genlab train vae --dataset mnist --n-z 2 --out assets/vae/mnist_z2`.")
    st.stop()
with stage.parameters():
    dataset = ui.select("vae.latent.data", "Dataset", choices, choices[0], format_func=DATASET_NAMES.get, horizontal=True)
model, meta = pretrained(dataset)
data = vae_data(dataset)
if data is None:
    st.stop()
shape = model.config.image_shape
x_test = heldout_rows(data)
with torch.no_grad():
    mu, log_var = model.encoder(x_test)
mu_np = mu.numpy()

picks_key = f"vae.latent.picks.{dataset}"
st.session_state.setdefault(picks_key, [])
picks: list[int] = st.session_state[picks_key]


def ellipse(center: np.ndarray, std: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 80)
    return center[0] + scale * std[0] * np.cos(t), center[1] + scale * std[1] * np.sin(t)


def latent_figure(extra: list[go.Scatter]) -> go.Figure:
    lo, hi = np.floor(mu_np.min(0) - 0.5), np.ceil(mu_np.max(0) + 0.5)
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], GRID_SIDE), np.linspace(lo[1], hi[1], GRID_SIDE))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=g1.ravel(), y=g2.ravel(), mode="markers", name="decode here", showlegend=False, hoverinfo="x+y",
            marker={"size": 18, "color": "rgba(0,0,0,0)"}, selected={"marker": {"color": "black", "size": 14}}, unselected={"marker": {"opacity": 1}},
        )
    )  # fmt: skip
    if data.heldout_labels is not None:
        groups = [(str(lab), np.where(data.heldout_labels == lab)[0]) for lab in np.unique(data.heldout_labels)]
    else:
        groups = [("test frames", np.arange(len(mu_np)))]
    for i, (name, idx) in enumerate(groups):
        fig.add_trace(
            go.Scatter(
                x=mu_np[idx, 0], y=mu_np[idx, 1], mode="markers", name=name, customdata=idx, hovertemplate="test image %{customdata}<extra></extra>",
                marker={"size": 7, "color": views.PALETTE[i % len(views.PALETTE)], "line": {"width": 0.5, "color": "white"}},
                selected={"marker": {"size": 14}}, unselected={"marker": {"opacity": 0.85}},
            )
        )  # fmt: skip
    for trace in extra:
        fig.add_trace(trace)
    fig.update_layout(clickmode="event+select", dragmode="pan", legend={"title": {"text": "label"}, "itemsizing": "constant"})
    fig.update_xaxes(range=[lo[0], hi[0]])
    fig.update_yaxes(range=[lo[1], hi[1]], scaleanchor="x", scaleratio=1)
    return views.style(fig, f"q(z | x) means of {len(mu_np)} held-out {DATASET_NAMES[dataset]}", "z₁", "z₂", height=540)


def decode(z: np.ndarray) -> np.ndarray:
    return model.decode_mean(torch.as_tensor(z, dtype=torch.float32)).numpy()


def show_big(image: np.ndarray, caption: str) -> None:
    views.show_image(tiles(image[None], 1, pad=0), caption=caption, target_width=200)


# ---------------------------------------------------------------- the input image: uploaded or picked
SOURCES = {"pick": "a held-out image", "draw": "my drawing", "upload": "an uploaded picture"}
probe, probe_name = None, ""
with st.sidebar:
    st.markdown("**Where does q(z|x) put this image?**")
    source = ui.select("vae.latent.src", "Image", list(SOURCES), "pick", format_func=SOURCES.get, horizontal=True) if dataset == "mnist" else "pick"
    pick = ui.number("vae.latent.pick", "Held-out image number", 0, len(x_test) - 1, 0)
    if source == "draw":
        pixels = draw_digit("vae.latent.canvas", shape)
        if pixels is not None:
            probe, probe_name = torch.from_numpy(pixels.reshape(1, -1)), "your drawing"
    elif source == "upload":
        upload = st.file_uploader("A digit: any size or colour, converted to 28 x 28 grayscale", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key="vae.latent.upload")
        if upload is not None:
            pixels = read_upload(upload, shape)
            if pixels is not None:
                probe, probe_name = torch.from_numpy(pixels.reshape(1, -1)), "your upload"
    if st.button("Clear the two interpolation picks", key="vae.latent.clear"):
        picks.clear()

if probe is None:
    probe, probe_name = x_test[pick : pick + 1], f"held-out image {pick}"
with torch.no_grad():
    p_mu, p_lv = (t[0].numpy() for t in model.encoder(probe))
p_std = np.exp(0.5 * p_lv)

plot_key = f"vae.latent.plot.{dataset}"
click_key = f"vae.latent.click.{dataset}"


def remember(click: views.Click) -> None:
    """A click decodes its point; a click on a test image's dot (trace 1 on) also picks it for the interpolation."""
    index = None
    if click.curve > 0 and click.customdata is not None:
        index = int(click.customdata[0] if isinstance(click.customdata, list) else click.customdata)
        if not picks or picks[-1] != index:
            picks.append(index)
            del picks[:-2]
    st.session_state[click_key] = (click, index)


clicked, clicked_index = st.session_state.get(click_key, (None, None))

extra = [
    go.Scatter(x=ex, y=ey, mode="lines", line={"color": "black", "width": 2, "dash": dash}, name=f"q(z|x) {s}σ", hoverinfo="skip")
    for s, dash in ((1, "solid"), (2, "dot"))
    for ex, ey in [ellipse(p_mu, p_std, s)]
]
extra.append(go.Scatter(x=[p_mu[0]], y=[p_mu[1]], mode="markers", name=probe_name, marker={"symbol": "star", "size": 20, "color": "gold", "line": {"width": 1.5, "color": "black"}}))
if len(picks) == 2:
    a, b = mu_np[picks[0]], mu_np[picks[1]]
    extra.append(go.Scatter(x=[a[0], b[0]], y=[a[1], b[1]], mode="lines+markers", name="interpolation", line={"color": "black", "width": 3}, marker={"size": 12, "symbol": "x"}))

with stage.picture():
    left, right = st.columns([3, 1])
    with left:
        views.stage_plot(latent_figure(extra), key=plot_key, on_click=remember)
    with right, stage.readouts():
        if clicked is None:
            z = p_mu
            show_big(decode(z[None])[0], f"decoded at z = ({z[0]:.2f}, {z[1]:.2f}) (the star)")
            st.info("Click anywhere in the plane to decode that point.")
        else:
            z = np.array([clicked.x, clicked.y], dtype=np.float32)
            show_big(decode(z[None])[0], f"decoded at z = ({z[0]:.2f}, {z[1]:.2f})")
            if clicked_index is not None:
                show_big(data.heldout[clicked_index].reshape(shape).numpy(), f"held-out image {clicked_index}")

cols = st.columns([1, 1, 4], vertical_alignment="center")
with cols[0]:
    views.show_image(tiles(probe.reshape(1, *shape).numpy(), 1, pad=0), caption="x", target_width=120)
with cols[1]:
    views.show_image(tiles(decode(p_mu[None]), 1, pad=0), caption="E[x | z = mean of q]", target_width=120)
with cols[2]:
    st.markdown(f"**{probe_name}** (the star): q(z|x) = N(({p_mu[0]:.2f}, {p_mu[1]:.2f}), diag({p_std[0]:.2f}², {p_std[1]:.2f}²))")
    stage.figure_export("vae-latent", lambda: {"dataset": dataset, "image": probe_name, "picked": list(picks)}, lambda: [(0, latent_figure(extra))], animation="")
stage.explain(
    r"Each dot is a held-out image $\mathbf x$ placed at the mean of $q(\mathbf z \mid \mathbf x)$. Click **anywhere** in the plane to decode that $\mathbf z$ "
    r"(the decoder mean $\mathbb E[\mathbf x \mid \mathbf z]$ appears on the right); click two dots to walk the straight line between them. "
    r"The star and its ellipses ($1\sigma$, $2\sigma$) are $q(\mathbf z \mid \mathbf x)$ of the image chosen under *Settings*."
)

st.subheader("Straight-line interpolation in z")
if len(picks) < 2:
    st.write(f"Click two dots in the plot ({len(picks)} of 2 picked).")
else:
    a, b = mu_np[picks[0]], mu_np[picks[1]]
    t = np.linspace(0, 1, INTERPOLATION_STEPS)[:, None]
    path = (1 - t) * a + t * b
    views.show_image(
        tiles(decode(path), INTERPOLATION_STEPS),
        caption=f"E[x | z] for z = (1 − t)·z_A + t·z_B, t = 0 … 1; A = image {picks[0]}, B = image {picks[1]}",
        target_width=1100,
    )
st.caption(f"Model: assets/vae/{dataset}_z2 ({meta['data_source']}); {meta['likelihood']}. Dots: {heldout_images(data)}; held-out image i is the i-th of them.")
