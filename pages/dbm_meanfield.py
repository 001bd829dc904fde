"""DBM mean-field inference, iteration by iteration (book 20.4.2, eqs. 20.33-20.34; 19.4; 19.5)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from engine.params import RESET
from engine.run import Snapshot
from engine.tasks.dbm import MeanFieldTask
from lab import controls as ui
from lab import views
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

st.title("Deep Boltzmann machine: mean-field inference")
st.caption(
    "The posterior P(h¹, h² | v) of a DBM is intractable, so we fit a factorial Q(h | v) = ∏ μ^h (1 − μ)^(1−h) by the fixed-point "
    "updates μ¹ⱼ = σ(Σᵢ vᵢ W¹ᵢⱼ + Σₖ W²ⱼₖ μ²ₖ + c¹ⱼ) (eq. 20.33) and μ²ₖ = σ(Σⱼ μ¹ⱼ W²ⱼₖ + c²ₖ) (eq. 20.34). Each update maximises "
    "the lower bound L(v, Q) = E_Q[−E(v, h)] + H(Q) − log Z on log P(v) over one layer, so updating the layers in turn never lowers it; "
    "updating both at once (parallel) can oscillate. With only part of the image observed, the free pixels are latent too: Q covers "
    "(free pixels, h¹, h²), each free pixel gets its own μ_v = σ(bᵢ + Σⱼ W¹ᵢⱼ μ¹ⱼ), updated after h², and L is a lower bound on "
    "log P(observed pixels), with the free pixels' entropy in H(Q)."
)

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
top = st.columns([2, 2, 2, 2])
with top[0]:
    source = ui.select("dbm.mf.source", "Image", list(SOURCES), "pick", format_func=SOURCES.get, horizontal=True)
    index_param = P["index"]
    index = ui.number("dbm.mf.index", f"{ui.widget_label(index_param)} (0-{len(data.heldout) - 1})", index_param.low, len(data.heldout) - 1, index_param.default,
                      help=ui.widget_help(replace(index_param, high=len(data.heldout) - 1)))  # fmt: skip
drawn = None
if source == "draw":
    with st.sidebar:
        st.subheader("Your digit")
        drawn = draw_digit("dbm.mf.canvas", shape)
    if drawn is None:
        st.info(f"Draw a digit in the sidebar: until you do, mean field runs on held-out test image {index}.")
shown = {"index": index, "image": ui.array_param(drawn)}
for col, name in zip(top[1:], ("clamp", "init", "binarize"), strict=True):
    with col:
        shown[name] = ui.param_widget(P, name, "dbm.mf", horizontal=False)
shown |= ui.param_row(P, ("n_iter", "damping", "coupling", "schedule"), "dbm.mf", horizontal=("schedule",))
shown |= ui.param_rest(P, shown, "dbm.mf")

params = P.complete(shown)
image, coupling, n_iter = params["image"], params["coupling"], params["n_iter"]
run = ui.session_run("dbm.mf", lambda: MeanFieldTask(trained, data.heldout), params)
ui.push_params(run, params)
setup = tuple(params[name] for name in P.acting(RESET))
if st.session_state.get("dbm.mf.setup") != setup:
    if "dbm.mf.setup" in st.session_state:
        run.reset()
    st.session_state["dbm.mf.setup"] = setup
ui.run_controls(run, "dbm.mf", step_label="One iteration", default_speed="4 steps / s")
described = "your drawing" if image is not None else f"held-out test image {index}"
st.caption(f"Pretrained DBM {'-'.join(map(str, sizes))} on MNIST{'' if coupling == 1.0 else f', with W² × {coupling:g}'}, on {described}. Changing the image "
           "(or drawing again), the observed pixels, the start, the binarization or the coupling restarts; damping and schedule apply to the next iteration.")  # fmt: skip
GIBBS = f"{MeanFieldTask.gibbs_chains} chains × {MeanFieldTask.gibbs_keep} sweeps after {MeanFieldTask.gibbs_burn_in}"


def draw_fast(snap: Snapshot) -> None:
    a = snap.arrays
    st.markdown(f"**Iteration {int(a['iteration'])} of {snap.params.get('n_iter', n_iter)}**")
    c = st.columns(4)
    with c[0]:
        views.show_image(image_picture(a["v"], shape, observed=a["observed"]), caption="v (blue: free pixels, their μ_v)", target_width=250)
    with c[1]:
        views.show_image(layer_picture(a["mu1"]), caption=f"μ¹: {len(a['mu1'])} units of h¹", target_width=250)
    with c[2]:
        views.show_image(layer_picture(a["mu2"]), caption=f"μ²: {len(a['mu2'])} units of h²", target_width=250)
    with c[3]:
        views.show_image(image_picture(a["reconstruction"], shape), caption="σ(b + W¹μ¹): what μ¹ says about v", target_width=250)
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
    if "bound" not in m or not len(m["bound"].values):
        st.info("Press **Play** or **One iteration** to run mean field.")
        return
    bounds = snap.arrays["compare_bounds"]
    c = st.columns(3)
    with c[0]:
        views.plot(bound_figure(m["bound"], float(snap.arrays["initial_bound"]), {"DBN pass": float(bounds[0]), "inference net": float(bounds[1])}), key=f"dbm-mf-bound-{snap.version}")
    with c[1]:
        views.plot(change_figure(m["change"]), key=f"dbm-mf-change-{snap.version}")
    with c[2]:
        views.plot(gap_figure(m["bound"]), key=f"dbm-mf-gap-{snap.version}")


live_panel(run, draw_fast, draw_slow, key="dbm.mf.live")
st.caption(
    "The bound is shown up to log Z (the same constant for every Q): differences between curves and lines are real. "
    "The DBN pass uses each pretraining RBM's up-weights once; the learned inference network (Salakhutdinov & Larochelle 2010) "
    "was trained to predict the converged mean field in one bottom-up pass. Both read a whole image and cannot take a partial one: "
    "with part of the image observed they are given the image with 0.5 in the free pixels, so they are guesses, not the posterior "
    "given the observed pixels; their dashed bound lines use that guess for h and Q(free pixel = 1) = 0.5, so they are bounds on "
    "the same log P(observed pixels) as the mean-field curve. The Gibbs columns are the true posterior, which need not be factorial: "
    "two-block Gibbs sampling with only the observed pixels clamped, over (free pixels, h²) given h¹ and h¹ given (v, h²), "
    "so the free pixels are sampled, never held at 0.5. "
    "Curves: the bound per iteration (linear scale, nats), the update size max |Δμ| over all layers (and the free pixels) on a log scale, "
    "and on a log scale the bound still to gain, L at the latest iteration minus L at each earlier one (iterations whose bound is "
    "not below the latest, e.g. when parallel updates oscillate, are left out)."
)
