"""DBM mean-field inference, iteration by iteration (book 20.4.2, eqs. 20.33-20.34; 19.4; 19.5)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.dbm import PRESETS_MEANFIELD, MeanFieldTask
from lab import controls as ui
from lab import stage, views
from lab.dbm.pictures import image_picture, layer_picture
from lab.dbm.views import (
    bound_figure,
    change_figure,
    dbm_images,
    gap_figure,
    pretrained_dbm,
)
from lab.drawing import draw_digit
from lab.live import live_panel

stage.title("Deep Boltzmann machine: mean-field inference")

trained = pretrained_dbm()
data = dbm_images("mnist")
if trained is None or data is None:
    st.error("This page needs the pretrained MNIST DBM (assets/dbm/mnist, see assets/README.md) and the MNIST test split on disk (`genlab data fetch mnist`).")
    st.stop()
sizes = trained.dbm.sizes

P = MeanFieldTask.PARAMS
if trained.net is None:  # this checkpoint cannot start Q from an inference network
    P = P.replace(init=replace(P["init"], choices=tuple(i for i in P["init"].choices if i != "inference net")))
SOURCES = {"pick": "a test image", "draw": "my drawing"}
shape = trained.dbm.config.image_shape or (28, 28)
with stage.parameters():
    ui.presets("dbm.mf", PRESETS_MEANFIELD)
    source = ui.select("dbm.mf.source", "Image", list(SOURCES), "pick", format_func=SOURCES.get, horizontal=True)
    index_param = P["index"]
    index = ui.number("dbm.mf.index", f"{ui.widget_label(index_param)} (0-{len(data.heldout) - 1})", index_param.low, len(data.heldout) - 1, index_param.default,
                      help=ui.widget_help(replace(index_param, high=len(data.heldout) - 1)))  # fmt: skip
    drawn = None
    if source == "draw":
        st.markdown("**Your digit**")
        drawn = draw_digit("dbm.mf.canvas", shape)
    shown = {"index": index, "image": ui.array_param(drawn)}
    shown |= {name: ui.param_widget(P, name, "dbm.mf", horizontal=False) for name in ("clamp", "init", "binarize")}
    shown |= ui.param_column(P, ("n_iter", "damping", "coupling", "schedule"), "dbm.mf", horizontal=("schedule",))
    shown |= ui.param_rest(P, shown, "dbm.mf", per_row=1)

params = P.complete(shown)
image, coupling, n_iter = params["image"], params["coupling"], params["n_iter"]
run = ui.session_run("dbm.mf", lambda: MeanFieldTask(trained, data.heldout), params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "dbm.mf", step_label="One iteration", default_speed="4 steps / s")
GIBBS = f"{MeanFieldTask.gibbs_chains} chains × {MeanFieldTask.gibbs_keep} sweeps after {MeanFieldTask.gibbs_burn_in}"


def draw_fast(snap: Snapshot) -> np.ndarray | None:
    a = snap.arrays
    st.markdown(f"**Iteration {int(a['iteration'])} of {snap.params.get('n_iter', n_iter)}**")
    c = st.columns(4)
    with c[0]:
        visible = views.show_frames(lambda s: image_picture(s.arrays["v"], shape, observed=s.arrays["observed"]), snap, caption="v (blue: free pixels, their μ_v)", target_width=250)
    with c[1]:
        views.show_frames(lambda s: layer_picture(s.arrays["mu1"]), snap, caption=f"μ¹: {len(a['mu1'])} units of h¹", target_width=250)
    with c[2]:
        views.show_frames(lambda s: layer_picture(s.arrays["mu2"]), snap, caption=f"μ²: {len(a['mu2'])} units of h²", target_width=250)
    with c[3]:
        views.show_frames(lambda s: image_picture(s.arrays["reconstruction"], shape), snap, caption="σ(b + W¹μ¹): what μ¹ says about v", target_width=250)
    return visible


def draw_comparison(snap: Snapshot) -> None:
    a = snap.arrays
    partial = not bool(a["observed"].all())
    given = "the observed pixels" if partial else "v"
    filled = " of the image with 0.5 in the free pixels" if partial else ""
    st.markdown("**Beside mean field** (same image): one-pass guesses and the true posterior")
    c = st.columns(4)
    bounds = a["compare_bounds"]
    with c[0]:
        views.show_image(layer_picture(a["dbn_mu1"]), caption=f"DBN bottom-up pass μ¹{filled} (bound {bounds[0]:.1f})", target_width=250)
    with c[1]:
        if "net_mu1" in a:
            views.show_image(layer_picture(a["net_mu1"]), caption=f"Learned inference net μ¹{filled} (bound {bounds[1]:.1f})", target_width=250)
        else:
            st.info("No inference network in this checkpoint.")
    with c[2]:
        views.show_image(layer_picture(a["gibbs_mu1"]), caption=f"True posterior mean of h¹ given {given}, by Gibbs ({GIBBS})", target_width=250)
    with c[3]:
        if partial:
            views.show_image(image_picture(a["gibbs_v"], shape, observed=a["observed"]), caption="True posterior mean of the free pixels (blue) given the observed ones, by Gibbs", target_width=250)
        else:
            views.show_image(layer_picture(a["gibbs_h1"][0]), caption="One posterior sample of h¹ (Gibbs)", target_width=250)


def draw_slow(snap: Snapshot) -> None:
    m = snap.metrics
    draw_comparison(snap)
    if "bound" not in m or not len(m["bound"].values):
        st.info("Press **Play** or **One iteration** to run mean field.")
        return
    bounds = snap.arrays["compare_bounds"]
    c = st.columns(3)
    with c[0]:
        views.plot(bound_figure(m["bound"], float(snap.arrays["initial_bound"]), {"DBN pass": float(bounds[0]), "inference net": float(bounds[1])}), key="dbm-mf-bound")
    with c[1]:
        views.plot(change_figure(m["change"]), key="dbm-mf-change")
    with c[2]:
        views.plot(gap_figure(m["bound"]), key="dbm-mf-gap")


live_panel(run, draw_fast, draw_slow, key="dbm.mf.live")
if source == "draw" and drawn is None:
    st.info(f"Draw a digit in the sidebar: until you do, mean field runs on held-out test image {index}.")
described = "your drawing" if image is not None else f"held-out test image {index}"
st.caption(f"Pretrained DBM {'-'.join(map(str, sizes))} on MNIST{'' if coupling == 1.0 else f', with W² × {coupling:g}'}, on {described}. Changing the image "
           "(or drawing again), the observed pixels, the start, the binarization or the coupling restarts; damping and schedule apply to the next iteration.")  # fmt: skip
stage.explain(
    r"The posterior $P(\mathbf h^{(1)}, \mathbf h^{(2)} \mid \mathbf v)$ of a DBM is intractable, so we fit a factorial "
    r"$Q(\mathbf h \mid \mathbf v) = \prod_j \mu_j^{h_j} (1 - \mu_j)^{1 - h_j}$ by the fixed-point updates"
    "\n\n"
    r"$$\mu^{(1)}_j = \sigma\Big(\sum_i v_i W^{(1)}_{i,j} + \sum_k W^{(2)}_{j,k}\, \mu^{(2)}_k + c^{(1)}_j\Big) \quad\text{(eq. 20.33)}, \qquad "
    r"\mu^{(2)}_k = \sigma\Big(\sum_j \mu^{(1)}_j W^{(2)}_{j,k} + c^{(2)}_k\Big) \quad\text{(eq. 20.34)}.$$"
    "\n\n"
    r"Each update maximises the lower bound $\mathcal L(\mathbf v, Q) = \mathbb E_Q[-E(\mathbf v, \mathbf h)] + H(Q) - \log Z$ on $\log P(\mathbf v)$ "
    r"over one layer, so updating the layers in turn never lowers it; updating both at once (parallel) can oscillate. "
    r"With only part of the image observed, the free pixels are latent too: $Q$ covers (free pixels, $\mathbf h^{(1)}$, $\mathbf h^{(2)}$), "
    r"each free pixel gets its own $\mu^{v}_i = \sigma\big(b_i + \sum_j W^{(1)}_{i,j}\, \mu^{(1)}_j\big)$, updated after $\mathbf h^{(2)}$, "
    r"and $\mathcal L$ is a lower bound on $\log P(\text{observed pixels})$, with the free pixels' entropy in $H(Q)$."
    "\n\n"
    r"The bound is shown up to $\log Z$ (the same constant for every $Q$): differences between curves and lines are real. "
    r"The DBN pass uses each pretraining RBM's up-weights once; the learned inference network (Salakhutdinov & Larochelle 2010) "
    r"was trained to predict the converged mean field in one bottom-up pass. Both read a whole image and cannot take a partial one: "
    r"with part of the image observed they are given the image with 0.5 in the free pixels, so they are guesses, not the posterior "
    r"given the observed pixels; their dashed bound lines use that guess for $\mathbf h$ and $Q(\text{free pixel} = 1) = 0.5$, so they are bounds on "
    r"the same $\log P(\text{observed pixels})$ as the mean-field curve. The Gibbs columns are the true posterior, which need not be factorial: "
    r"two-block Gibbs sampling with only the observed pixels clamped, over (free pixels, $\mathbf h^{(2)}$) given $\mathbf h^{(1)}$ and $\mathbf h^{(1)}$ given "
    r"($\mathbf v$, $\mathbf h^{(2)}$), so the free pixels are sampled, never held at 0.5."
    "\n\n"
    r"Curves: the bound per iteration (linear scale, nats), the update size $\max |\Delta\mu|$ over all layers (and the free pixels) on a log scale, "
    r"and on a log scale the bound still to gain, $\mathcal L$ at the latest iteration minus $\mathcal L$ at each earlier one (iterations whose bound is "
    r"not below the latest, e.g. when parallel updates oscillate, are left out)."
)
