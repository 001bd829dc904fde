"""Clamped sampling (book Figure 20.12): keep half of a digit, let the DAE / GSN chain resample the other half."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.gsn import ClampedChainTask, clamped_chain_params, noise_param, shape_only_split
from lab import controls as ui
from lab import stage, views
from lab.drawing import draw_digit
from lab.gsn.pictures import clamped_tiles, colour_filmstrip, colour_tiles, filmstrip, tiles_width
from lab.gsn.views import mnist_split, paint_mask, pixel_classifier, pretrained_models
from lab.live import live_panel

SOURCES = {"heldout": "held-out digits", "draw": "my drawing"}  # a page-only setting: a drawing becomes the task's image
NO_DIGITS = "Without MNIST the chains complete your drawing only: `genlab data fetch mnist`, or set GENLAB_DATA to a folder holding mnist/, for the held-out digits."

stage.title("Clamped chain: filling in the missing half")

models, titles = pretrained_models()
if not models:
    st.error("No pretrained chain in assets/gsn/: train one with `genlab train gsn --out assets/gsn/dae_walkback` (see assets/README.md).")
    st.stop()
split = mnist_split(notice=False)
without_data = split is None
if without_data:  # only a drawing can be clamped, and no classifier reads the completions
    split = shape_only_split(models)

P = clamped_chain_params(models, titles)
with stage.parameters():
    shown = {"model_name": ui.param_widget(P, "model_name", "gsn.clamped", horizontal=False)}
    if without_data:
        source = "draw"
        st.caption(NO_DIGITS)
    else:
        source = ui.select("gsn.clamped.source", "Digits", list(SOURCES), "heldout", format_func=SOURCES.get, horizontal=True)
        shown["first"] = ui.param_widget(P, "first", "gsn.clamped")
    drawn = draw_digit("gsn.clamped.canvas", split.image_shape) if source == "draw" else None
    shown["region"] = ui.param_widget(P, "region", "gsn.clamped", horizontal=False)
    painted = None
    if shown["region"] == "custom":
        st.caption("Paint the pixels to **keep** (clamped, shown gray); every pixel you leave unpainted is resampled by the chain.")
        under = drawn if drawn is not None or without_data else split.heldout[shown["first"] % len(split.heldout)].reshape(split.image_shape).numpy()
        painted = paint_mask("gsn.clamped.mask", split.image_shape, under)
    corruption = models[shown["model_name"]].config.corruption
    shown["noise"] = ui.param_widget(P.replace(noise=noise_param(corruption)), "noise", "gsn.clamped")
    shown |= ui.param_column(P, ("chain_steps", "n_examples", "init", "seed", "rbm"), "gsn.clamped")
region, n_examples = shown["region"], shown["n_examples"]

if source == "draw" and drawn is None:
    st.info("Draw a digit in the sidebar: every chain will complete your drawing." + (f"\n\n{NO_DIGITS}" if without_data else ""))
    st.stop()
if region == "custom" and (painted is None or not painted.any()):
    st.info("Paint the pixels to keep on the small canvas in the sidebar (at least one); the chain resamples the rest.")
    st.stop()
if region == "custom" and painted.all():
    st.warning("You painted every pixel, so nothing is left to resample: erase part of the paint (or pick a named region).")
    st.stop()

params = P.complete({**shown, "image": ui.array_param(drawn), "mask": ui.array_param(painted)})
run = ui.session_run("gsn.clamped", lambda: ClampedChainTask(models, split, None if without_data else pixel_classifier(), titles=titles), params, steps_per_second=8.0)
ui.push_params_restarting(run, params)
ui.run_controls(run, "gsn.clamped", step_label="Frame", default_speed="15 steps / s")

ncols = 4 if n_examples <= 16 else 8


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    mask = a["mask"]
    left, right = st.columns([1, 1])
    with left:
        st.markdown(f"**Now** ({titles.get(snap.params['model_name'], snap.params['model_name'])})")
        chains = views.show_frames(lambda s: colour_tiles(s.arrays["current"], s.arrays["mask"], ncols), snap, target_width=400,
                                   caption=lambda s: f"chain step {int(s.arrays['film_steps'][-1])}")  # fmt: skip
    with right:
        frames = a["film_steps"]
        st.markdown(f"**Filmstrip**: steps {int(frames[0])} → {int(frames[-1])}")
        views.show_image(colour_filmstrip(a["film"], mask, rows=min(8, len(a["current"]))), target_width=2 * tiles_width(len(a["film"]), a["film"].shape[-1]))
    return chains


def draw_references(snap: Snapshot) -> None:
    """What was clamped, and the RBM's clamped Gibbs chain beside the DAE / GSN one."""
    a = snap.arrays
    mask = a["mask"]
    if "labels" in a:
        st.markdown("**The true digits** (what was clamped came from these)")
        st.image(clamped_tiles(a["original"][:8], None, 8, scale=3), output_format="PNG")
    else:
        st.markdown("**Your drawing** (every chain completes it)")
        st.image(clamped_tiles(a["original"][:1], None, 1, scale=3), output_format="PNG")
    if "rbm_current" in a:
        left, right = st.columns([1, 1])
        with left:
            st.markdown(f"**RBM, clamped Gibbs sampling: step {int(a['film_steps'][-1])}** (E[v | h] in the free pixels)")
            st.image(clamped_tiles(a["rbm_current"], mask, ncols, scale=4), width=400, output_format="PNG")
        with right:
            st.markdown("**RBM filmstrip**: the same frames, time runs left to right")
            st.image(filmstrip(a["rbm_film"], mask, rows=min(8, len(a["rbm_current"])), scale=2), output_format="PNG")


def draw_slow(snap: Snapshot) -> None:
    draw_references(snap)
    if snap.params["image"] is not None:
        st.caption("Your drawing has no true label, so no accuracy is plotted: judge the completions by eye.")
        return
    acc = snap.metrics.get("accuracy")
    if acc is None or len(acc.steps) < 2:
        st.caption("Press **Play**: the classifier's accuracy on the completed digits will be plotted here.")
        return
    series = {"accuracy": acc, **({"rbm_accuracy": snap.metrics["rbm_accuracy"]} if "rbm_accuracy" in snap.metrics else {})}
    fig = views.curves(series, "Can a classifier read the completed digits?", "accuracy", xlabel="frame",
                       names={"accuracy": f"{titles.get(snap.params['model_name'], snap.params['model_name'])} chain", "rbm_accuracy": "RBM clamped Gibbs chain"})  # fmt: skip
    fig.update_yaxes(range=[0, 1])
    if "fill_baselines" in snap.arrays:
        intact, mean_fill, _ = snap.arrays["fill_baselines"]
        fig.add_hline(y=float(intact), line_dash="dot", line_color="#555", annotation_text=f"intact digits {intact:.0%}", annotation_position="top left")
        fig.add_hline(y=float(mean_fill), line_dash="dash", line_color="#b00", annotation_text=f"floor: mean-image fill {mean_fill:.0%}",
                      annotation_position="bottom left")  # fmt: skip
    views.plot(fig, key="gsn-clamped-acc")


live_panel(run, draw_fast, draw_slow, key="gsn.clamped")
stage.explain(
    r"Book section 20.11.2, Figure 20.12. Every chain step corrupts $\mathbf x$, encodes, decodes and samples $\mathbf x' \sim p(\mathbf x \mid \mathbf h)$; "
    r"then the **clamped** pixels (gray) are put back to the observed digit and only the **free** pixels (amber) keep their new values. "
    r"This only *approximates* sampling $p(\mathbf x_{\text{free}} \mid \mathbf x_{\text{clamped}})$: clamped Gibbs sampling converges to the exact conditional "
    r"of a Boltzmann machine's explicit joint, but a DAE / GSN defines $p(\mathbf x)$ only implicitly, as the stationary distribution of a learned, "
    r"approximate transition, and clamping changes that chain, so the completions are not guaranteed to be exact draws from the model's conditional."
    "\n\n"
    r"Accuracy is that of a logistic-regression classifier on pixels (trained on the 8000 training digits) applied to the "
    r"chain's current Bernoulli means; the true labels are the held-out digits' labels. The dashed line is the floor a "
    r"chain must beat: the same classifier on these digits with the free pixels filled by the mean training image (no model "
    r"at all); a blank fill scores lower still. Compare *walkback* with *one-step* "
    r"training and the DAE with the GSN. The RBM comparison (sidebar) runs block Gibbs sampling of the pretrained MNIST RBM "
    r"with the same pixels clamped (book section 20.2): the RBM has an explicit energy $E(\mathbf v, \mathbf h)$, linear in $\mathbf v$, so with the clamped "
    r"pixels fixed (gray levels included) its chain converges to the exact conditional $P(\mathbf v_{\text{free}} \mid \mathbf v_{\text{clamped}})$ of that energy. "
    r"It starts from the same state as the DAE / GSN chain and takes one Gibbs sweep per chain step. "
    r"(The DBM's clamped Gibbs sampling is not on this page yet.)"
)
