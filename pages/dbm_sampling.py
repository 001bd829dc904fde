"""DBM Gibbs sampling beside DBN ancestral sampling, from the same seed (book 20.3, 20.4.1)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from engine.run import Snapshot
from engine.tasks.dbm import SamplingTask
from lab import controls as ui
from lab import stage, views
from lab.dbm.pictures import samples_grid, units_picture
from lab.dbm.views import pretrained_dbm
from lab.live import live_panel

stage.title("DBM Gibbs chains vs DBN ancestral sampling")

trained = pretrained_dbm()
if trained is None:
    st.error("This page needs the pretrained MNIST DBM (assets/dbm/mnist, see assets/README.md).")
    st.stop()

P = SamplingTask.PARAMS
with stage.parameters():
    shown = ui.param_column(P, ("n_chains", "seed"), "dbm.s")
    shown |= ui.param_rest(P, shown, "dbm.s", per_row=1)
params = P.complete(shown)
run = ui.session_run("dbm.sample", lambda: SamplingTask(trained), params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "dbm.s", step_label="One sweep", default_speed="15 steps / s")
shape = trained.dbm.config.image_shape or (28, 28)


def draw_fast(snap: Snapshot) -> np.ndarray:
    a = snap.arrays
    st.markdown(f"**Sweep {int(a['sweeps'])}** · the means P(v = 1 | h¹) of each chain")
    width = 560 if len(a["dbm_v"]) <= 32 else 380  # up to 4 rows of 8 chains across the column, 8 rows at a height that fits the screen
    left, right = st.columns(2)
    with left:
        dbm_samples = views.show_frames(lambda s: samples_grid(s.arrays["dbm_v"], shape, target_width=width), snap, caption="DBM: Gibbs over all layers", target_width=width)
    with right:
        views.show_frames(lambda s: samples_grid(s.arrays["dbn_v"], shape, target_width=width), snap, caption="DBN: top-RBM Gibbs, one pass down", target_width=width)
    return dbm_samples


def draw_slow(snap: Snapshot) -> None:
    a = snap.arrays
    left, right = st.columns(2)
    with left:
        views.show_image(units_picture(a["dbm_h1"][:16]), caption="DBM h¹ states (one row per chain)", target_width=560)
        views.show_image(units_picture(a["dbm_h2"][:16]), caption="DBM h² states (one row per chain)", target_width=560)
    with right:
        views.show_image(units_picture(a["dbn_h1"][:16]), caption="DBN h¹ states from the top RBM (one row per chain)", target_width=560)


live_panel(run, draw_fast, draw_slow, key="dbm.s.live")
stage.explain(
    r"Left, the DBM: every layer takes part in a two-block Gibbs sweep, the odd layer $\mathbf h^{(1)}$ given $(\mathbf v, \mathbf h^{(2)})$, "
    r"then $\mathbf v$ and $\mathbf h^{(2)}$ given $\mathbf h^{(1)}$ (eqs. 20.26-20.27). Right, the DBN built from the same pretraining RBMs: "
    r"Gibbs steps in its top RBM $P(\mathbf h^{(1)}, \mathbf h^{(2)})$, then one directed pass down $P(\mathbf v \mid \mathbf h^{(1)})$ (section 20.3). "
    r"Both start from random states drawn with the same seed; shown are the means $P(\mathbf v = 1 \mid \mathbf h^{(1)})$."
)
