"""Training a DAE or GSN live: reconstructions, chain samples and curves; walkback on or off."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.models.corruption import CORRUPTIONS
from engine.models.gsn import DEFAULT_HIDDEN_NOISE
from engine.run import Snapshot
from engine.tasks.gsn import GSNTrainTask
from lab import controls as ui
from lab import views
from lab.gsn_views import ASSETS, PRETRAINED, clamped_tiles, mnist_available
from lab.live import live_panel

RESET_KEYS = ("model", "dataset", "n_hidden", "init", "corruption", "seed", "batch_size")
STARTS = {"pretrained": "the pretrained checkpoint", "scratch": "random weights"}

st.title("Training a denoising autoencoder (or a GSN) as a generative model")
st.caption(
    "Book sections 20.11.3 and 20.12. Loss: the reconstruction negative log-likelihood -log p(x | h = f(x̃)) with "
    "x̃ ~ C(x̃ | x). **Walkback**: run the chain k steps from each training x and penalise every reconstruction "
    "against the original x, so the spurious modes the chain visits far from the data get trained away."
)

with st.sidebar:
    st.subheader("Model")
    model = ui.select("gsn.train.model", "Architecture", ["dae", "gsn"], "dae", format_func={"dae": "DAE (1 hidden layer)", "gsn": "GSN (2 hidden layers, h carried)"}.get)
    start = ui.select("gsn.train.start", "Start from", list(STARTS), "pretrained", format_func=STARTS.get, horizontal=True)
    dataset = ui.select("gsn.train.data", "Data (from scratch)", ["mnist", "digits"], "mnist", format_func={"mnist": "MNIST 28x28", "digits": "8x8 digits (offline)"}.get)
    n_hidden = ui.select("gsn.train.hidden", "Hidden units (from scratch)", [100, 250, 500], 500, horizontal=True)
    st.subheader("Training (live)")
    walkback = ui.slider("gsn.train.walkback", "Walkback steps k (1 = one-step)", 1, 10, 4, 1)
    corruption = ui.select("gsn.train.corruption", "Corruption C(x̃ | x)", CORRUPTIONS, "salt_pepper",
                           format_func={"salt_pepper": "salt-and-pepper", "gaussian": "Gaussian (level = std)", "masking": "masking (set to 0)"}.get)  # fmt: skip
    noise = ui.slider("gsn.train.noise", "Corruption level", 0.0, 1.0, 0.3, 0.05)
    lr = ui.log_slider("gsn.train.lr", "Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 1e-3)
    seed = ui.number("gsn.train.seed", "Seed", 0, 10_000, 0)

pretrained_name = "dae_walkback" if model == "dae" else "gsn"
init = str(ASSETS / pretrained_name) if start == "pretrained" and (ASSETS / f"{pretrained_name}.safetensors").exists() else None
if start == "pretrained" and init is None:
    st.info(f"No pretrained {model.upper()} in assets/gsn/: training from scratch.")
if init is not None:
    dataset = "mnist"
if dataset == "mnist" and not mnist_available():
    st.info("MNIST's test files are not in the data folder (set GENLAB_DATA): training the 8x8 digits from scratch instead.")
    dataset, init = "digits", None
params = {"model": model, "dataset": dataset, "n_hidden": n_hidden, "n_hidden2": n_hidden, "walkback": walkback, "corruption": corruption,
          "noise": noise, "lr": lr, "seed": seed, "init": init, "batch_size": 100, "hidden_noise": DEFAULT_HIDDEN_NOISE}  # fmt: skip
run = ui.session_run("gsn.train", GSNTrainTask, params)
if any(run.params.get(k) != params[k] for k in RESET_KEYS):
    ui.push_params(run, params)
    run.reset()
else:
    ui.push_params(run, params)
ui.run_controls(run, "gsn.train")
if init is not None:
    st.caption(f"Started from **{PRETRAINED[pretrained_name]}** (assets/gsn/{pretrained_name}); Reset reloads it.")


def draw_fast(snap: Snapshot) -> None:
    a = snap.arrays
    left, right = st.columns([1, 1])
    with left:
        st.markdown(f"**Step {snap.step}**: held-out x (top), corrupted x̃ (middle), reconstruction E[x | f(x̃)] (bottom)")
        rows = [a["inputs"], a["corrupted"], a["reconstructions"]]
        st.image(clamped_tiles(np.concatenate(rows), None, len(a["inputs"]), scale=3), output_format="PNG")
    with right:
        st.markdown("**16 chains**, one chain step per training step, started from noise")
        st.image(clamped_tiles(a["samples"], None, 4, scale=3), output_format="PNG")


def draw_slow(snap: Snapshot) -> None:
    series = {k: snap.metrics[k] for k in ("loss", "reconstruction_nll", "heldout_nll") if k in snap.metrics}
    if not series or all(len(s.steps) < 2 for s in series.values()):
        st.caption("Press **Play**: the curves appear here.")
        return
    names = {"loss": "walkback loss (mean over k steps)", "reconstruction_nll": "one-step reconstruction NLL (batch)",
             "heldout_nll": "one-step reconstruction NLL (held out)"}  # fmt: skip
    views.plot(views.curves(series, "Reconstruction negative log-likelihood", "nats per image", names=names), key=f"gsn-train-{snap.version}")


live_panel(run, draw_fast, draw_slow, key="gsn.train")
