"""A GAN on MNIST: a fixed-noise sample grid evolving, loss curves, and the nearest training image beside samples (book 20.10.4, 20.14)."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from engine import checkpoint
from engine.data import DataError, data_root, load
from engine.models.gan_mnist import real_neighbour_distances
from engine.run import Snapshot
from engine.tasks.gan import MNIST_COMPARISONS, MnistGANTask, pretrained_samples, read_pretrained
from lab import compare, stage, views
from lab import controls as ui

P = MnistGANTask.PARAMS


@st.cache_resource(show_spinner="Loading the pretrained GAN ...")
def pretrained() -> checkpoint.Checkpoint | None:
    return read_pretrained()


@st.cache_resource(show_spinner="Loading MNIST ...")
def mnist_images(root: str) -> np.ndarray:
    return load("mnist", "test", root=root, download=False).as_float()


@st.cache_resource(show_spinner=False)
def neighbour_scale(root: str) -> tuple[float, float, float]:
    d = real_neighbour_distances(mnist_images(root))
    return float(np.percentile(d, 5)), float(np.median(d)), float(np.percentile(d, 95))


stage.title("GAN on MNIST, live")

ckpt = pretrained()
try:
    images = mnist_images(str(data_root()))
except DataError as err:
    if ckpt is not None:  # no training without the data, but the pretrained generator can still be shown
        with stage.picture():
            views.show_image(views.tile_grid(pretrained_samples(ckpt), ncols=8, pad=2), caption="G(z) of the pretrained GAN for 64 fixed z (training needs MNIST)", target_width=620)
    st.info(f"{err}\n\nThis page trains on MNIST's test split (set GENLAB_DATA to the folder holding mnist/).", icon=":material/cloud_off:")
    st.stop()

if ckpt is None:
    P = P.replace(start=dataclasses.replace(P["start"], choices=("scratch",), default="scratch"))  # no checkpoint on this machine
with stage.parameters():
    comparison = compare.choice("ganm", MNIST_COMPARISONS)
    shown = ui.param_column(P, ("start", "loss", "lr_g", "lr_d", "batch_size", "seed"), "ganm", horizontal=("start",))
    shown |= ui.param_rest(P, shown, "ganm", per_row=1)
params = P.complete(shown)
run = compare.session_run("ganm.run", lambda: MnistGANTask(images, ckpt), comparison, params)
ui.push_params(run, params)
ui.run_controls(run, "ganm")
task: MnistGANTask = compare.task_of(run)


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    left, right = views.beside([3, 2], gap="large")
    with left:
        grid = views.show_frames(lambda s: views.tile_grid(s.arrays["grid"], ncols=8, pad=2), snap, caption=lambda s: f"G(z) for 64 fixed z, step {s.step:,}", target_width=620)
    with right:
        pairs = np.concatenate([a["nearest_samples"], a["nearest"]], axis=2)
        views.show_image(views.tile_grid(pairs, ncols=2, pad=3, pad_value=255), caption=f"A sample | its nearest training image (step {int(a['nearest_step']):,})", target_width=420)
    return grid


def draw_slow(snap: Snapshot) -> None:
    st.markdown("Nearest-neighbour distances (Euclidean, in pixels): " + ", ".join(f"{d:.1f}" for d in snap.arrays["nearest_dist"]))
    m = st.columns(2)
    m[0].metric("Steps / s", f"{snap.steps_per_second:.0f}")
    m[1].metric("D(G(z)) on fakes", views.number(snap.latest("d_fake")), help="D's average probability that a generated batch is real; 0.5 when D cannot tell. Shown from the first step on.")
    losses = {k: snap.metrics[k] for k in ("loss_d", "loss_g") if k in snap.metrics}
    if losses:
        views.plot(views.curves(losses, "Losses (per batch)", "loss", names={"loss_d": "D loss", "loss_g": "G loss"}), key="ganm.loss")


compare.live_panel(run, comparison, draw_fast, draw_slow, key="ganm.live", slow_fps=1, P=P,
                   metrics={"d_fake": ("D(G(z)) on fakes", "probability"), "loss_g": ("G's loss", "nats")})
st.caption(f"Model: **{task.source}** · trains on the 10,000 MNIST test images (the only split available offline). Start, seed and the networks' sizes apply on Reset.")
lo, mid, hi = neighbour_scale(str(data_root()))
stage.explain(
    r"A multilayer-perceptron GAN: $G$ maps $\mathbf z \sim \mathcal N(\mathbf 0, I)$ (32 numbers) through two hidden layers to $28 \times 28$ pixels; $D$ maps pixels to a logit. "
    r"$D$ maximizes $\log D(\mathbf x) + \log\big(1 - D(G(\mathbf z))\big)$, $G$ maximizes $\log D(G(\mathbf z))$ (the non-saturating game, section 20.10.4). "
    r"The grid always shows the same 64 noise vectors $\mathbf z$, so you watch one set of samples change as training goes on."
    "\n\n"
    "Memorization check (section 20.14): a generator that copied its training set would show each sample identical to its neighbour, "
    f"at distance near 0. For scale: a real test digit's nearest other test digit lies at {mid:.1f} (median; 5-95%: {lo:.1f} to {hi:.1f}). "
    "Pretrained checkpoint: assets/gan/mnist_mlp (command in assets/README.md)."
)
