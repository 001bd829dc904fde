"""Free-running chain: the DAE / GSN Markov chain wandering between digit classes, with a classifier's label over time."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.run import Snapshot
from engine.tasks.gsn import FreeChainTask, free_chain_params, noise_param, shape_only_split
from lab import controls as ui
from lab import stage, views
from lab.gsn.pictures import colour_filmstrip, colour_tiles, tiles_width
from lab.gsn.views import mnist_split, pixel_classifier, pretrained_models
from lab.live import live_panel

stage.title("Free-running chain: does it mix between digits?")

models, titles = pretrained_models()
if not models:
    st.error("No pretrained chain in assets/gsn/ (see assets/README.md).")
    st.stop()
split = mnist_split(notice=False)
P = free_chain_params(models, titles)
without_data = split is None
if without_data:  # the chains run from noise, unlabelled
    split = shape_only_split(models)
    P = P.replace(start=dataclasses.replace(P["start"], choices=("noise",), default="noise"))
with stage.parameters():
    if without_data:  # said beside the picture, not above it
        st.caption("Without MNIST the chains start from noise and no classifier labels them: `genlab data fetch mnist`, or set GENLAB_DATA to a folder holding mnist/.")
    shown = {"model_name": ui.param_widget(P, "model_name", "gsn.chain", horizontal=False), "start": ui.param_widget(P, "start", "gsn.chain")}
    corruption = models[shown["model_name"]].config.corruption
    shown["noise"] = ui.param_widget(P.replace(noise=noise_param(corruption)), "noise", "gsn.chain")
    shown |= ui.param_column(P, ("chain_steps", "n_chains", "seed"), "gsn.chain")

params = P.complete(shown)
run = ui.session_run("gsn.chain", lambda: FreeChainTask(models, split, None if without_data else pixel_classifier(), titles), params, steps_per_second=8.0)
ui.push_params_restarting(run, params)
ui.run_controls(run, "gsn.chain", step_label="Frame", default_speed="15 steps / s")

ncols = max(1, round(params["n_chains"] ** 0.5))


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    left, right = st.columns([1, 1])
    with left:
        st.markdown(f"**{len(a['current'])} chains**, means of p(x | h)")
        chains = views.show_frames(lambda s: colour_tiles(s.arrays["current"], None, ncols), snap, target_width=440,
                                   caption=lambda s: f"chain step {int(s.arrays['film_steps'][-1])}")  # fmt: skip
    with right:
        st.markdown(f"**Filmstrip** of 8 chains, steps {int(a['film_steps'][0])} → {int(a['film_steps'][-1])}")
        views.show_image(colour_filmstrip(a["film"], None, rows=8), target_width=2 * tiles_width(len(a["film"]), a["film"].shape[-1]))
    return chains


def label_figure(history: np.ndarray, steps_per_frame: int) -> go.Figure:
    colours = [[i / 10, views.PALETTE[i]] for i in range(10)] + [[(i + 1) / 10, views.PALETTE[i]] for i in range(10)]
    colours = sorted(colours, key=lambda c: c[0])
    fig = go.Figure(go.Heatmap(z=history.T, x=np.arange(len(history)) * steps_per_frame, zmin=-0.5, zmax=9.5, colorscale=colours,
                               colorbar={"title": "digit", "tickvals": list(range(10))}, hovertemplate="frame %{x}, chain %{y}: %{z}<extra></extra>"))  # fmt: skip
    return views.style(fig, "Classifier's label of every chain over time (one row per chain)", "chain steps (latest window)", "chain", height=420)


def draw_slow(snap: Snapshot) -> None:
    a = snap.arrays
    if "label_history" in a:
        counts = np.bincount(a["label_history"][-1], minlength=10)
        st.markdown("**Classifier's labels now**: " + "  ".join(f"{d}: {c}" for d, c in enumerate(counts)))
    if "label_history" not in a or len(a["label_history"]) < 2:
        st.caption("Press **Play** to watch the labels change over time.")
        return
    views.plot(label_figure(a["label_history"], snap.params["chain_steps"]), key="gsn-chain-labels")
    st.markdown(
        f"Distinct classes visited per chain: **{snap.latest('classes_visited'):.2f}**; "
        f"fraction of frames where a chain's label switched: **{snap.latest('label_switch_rate'):.3f}**"
    )


live_panel(run, draw_fast, draw_slow, key="gsn.chain")
stage.explain(
    r"Book section 20.11.1, Figure 20.11: $\mathbf x \to$ corrupt $\tilde{\mathbf x} \sim C(\tilde{\mathbf x} \mid \mathbf x) \to$ encode $\mathbf h = f(\tilde{\mathbf x}) \to$ "
    r"decode $p(\mathbf x \mid \mathbf h) \to$ sample $\mathbf x'$. Repeat. Bengio et al. (2013): if $p(\mathbf x \mid \tilde{\mathbf x})$ is the true denoising distribution, "
    r"this chain's stationary distribution is the data's. A classifier labels every chain at every frame: a chain that **mixes** hops between classes."
)
