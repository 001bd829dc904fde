"""DBM Gibbs sampling beside DBN ancestral sampling, from the same seed (book 20.3, 20.4.1)."""

from __future__ import annotations

import streamlit as st

from engine.params import RESET
from engine.run import Snapshot
from engine.tasks.dbm import SamplingTask
from lab import controls as ui
from lab import views
from lab.dbm.pictures import samples_grid, units_picture
from lab.dbm.views import pretrained_dbm
from lab.live import live_panel

st.title("Sampling: DBM Gibbs chains vs DBN ancestral sampling")
st.caption(
    "Left, the DBM: every layer takes part in a two-block Gibbs sweep, the odd layer h¹ given (v, h²), then v and h² given h¹ "
    "(eqs. 20.26-20.27). Right, the DBN built from the same pretraining RBMs: Gibbs steps in its top RBM P(h¹, h²), then one "
    "directed pass down P(v | h¹) (section 20.3). Both start from random states drawn with the same seed; shown are the means P(v = 1 | h¹)."
)

trained = pretrained_dbm()
if trained is None:
    st.error("This page needs the pretrained MNIST DBM (assets/dbm/mnist, see assets/README.md).")
    st.stop()

P = SamplingTask.PARAMS
shown = {}
for col, name in zip(st.columns([2, 2, 4])[:2], ("n_chains", "seed"), strict=True):
    with col:
        shown[name] = ui.param_widget(P, name, "dbm.s")
shown |= ui.param_rest(P, shown, "dbm.s")
params = P.complete(shown)
run = ui.session_run("dbm.sample", lambda: SamplingTask(trained), params)
ui.push_params(run, params)
setup = tuple(params[name] for name in P.acting(RESET))
if st.session_state.get("dbm.s.setup") != setup:
    if "dbm.s.setup" in st.session_state:
        run.reset()
    st.session_state["dbm.s.setup"] = setup
ui.run_controls(run, "dbm.s", step_label="One sweep", default_speed="15 steps / s")
shape = trained.dbm.config.image_shape or (28, 28)


def draw_fast(snap: Snapshot) -> None:
    a = snap.arrays
    st.markdown(f"**Sweep {int(a['sweeps'])}**")
    left, right = st.columns(2)
    with left:
        st.subheader("DBM: Gibbs over all layers")
        views.show_image(samples_grid(a["dbm_v"], shape), caption="P(v = 1 | h¹) of each chain", target_width=560)
        views.show_image(units_picture(a["dbm_h1"][:16]), caption="h¹ states (one row per chain)", target_width=560)
        views.show_image(units_picture(a["dbm_h2"][:16]), caption="h² states (one row per chain)", target_width=560)
    with right:
        st.subheader("DBN: top-RBM Gibbs, then one pass down")
        views.show_image(samples_grid(a["dbn_v"], shape), caption="P(v = 1 | h¹) after the down pass", target_width=560)
        views.show_image(units_picture(a["dbn_h1"][:16]), caption="h¹ states from the top RBM (one row per chain)", target_width=560)


live_panel(run, draw_fast, key="dbm.s.live")
