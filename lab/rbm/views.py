"""What the RBM and Gibbs chain pages draw with Streamlit: cached pretrained models and data, the AIS panel (no model math here)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from engine import data as datasets
from engine.eval.ais import AISResult, ais_log_z
from engine.models.rbm import MAX_ENUMERABLE, RBM
from engine.tasks.rbm import PRETRAINED, TRAIN_PARAMS, heldout_log_likelihood, load_pretrained, load_rbm_data
from lab import stage, views
from lab.rbm.pictures import filter_picture

DATASET_NAMES = dict(TRAIN_PARAMS["dataset"].labels)


@st.cache_resource(show_spinner="Loading the pretrained RBM ...")
def pretrained(name: str) -> tuple[RBM, dict]:
    """A pretrained RBM from assets/rbm, shared read-only by every session."""
    return load_pretrained(name)


@st.cache_resource(show_spinner="Loading the data ...")
def _data(name: str, root: str) -> datasets.Split:
    return load_rbm_data(name, root, download=False)


def data_if_available(name: str) -> datasets.Split | None:
    """The dataset when it is on this machine, else None (nothing downloaded, nothing drawn)."""
    try:
        return _data(name, str(datasets.data_root()))
    except datasets.DataError:
        return None


def without_data(name: str, start: str) -> None:
    """What the RBM page shows when ``name`` is not on this machine: how to get it, and the pretrained model's
    filters when there is one (MNIST, Frey), so the page still opens on something to look at."""
    message = (f"{DATASET_NAMES[name]} is not on this machine, so nothing can train on it here: run `genlab data fetch {name}` "
               "(or point GENLAB_DATA at a folder holding it) and reload this page. The 8x8 digits and bars and stripes train right away.")  # fmt: skip
    if start != "pretrained" or name not in PRETRAINED:
        st.info(message, icon=":material/cloud_off:")
        return
    rbm, extra = pretrained(name)
    filters = rbm.W.T.reshape(-1, *rbm.config.image_shape).numpy()
    with stage.picture():
        views.show_image(filter_picture(filters), caption=f"The pretrained {extra['title']}: filters W:,j ({rbm.n_hidden} hidden units)", target_width=900)
    st.info(message + " The Gibbs chain page (in the menu) samples this model without any data.", icon=":material/cloud_off:")


def run_ais(rbm: RBM, data: datasets.Split | None, n_betas: int, n_chains: int) -> tuple[AISResult, dict]:
    """AIS with a Streamlit progress bar; the held-out log-likelihood with its scheme, and the exact value when enumerable."""
    bar = st.progress(0.0, text="Annealing ...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Annealing: {done:,} of {total:,} inverse temperatures")

    base = data.train if data is not None and len(data.train) else None
    result = ais_log_z(rbm, n_chains=n_chains, n_betas=n_betas, data=base, progress=progress)
    bar.empty()
    out: dict = {"exact_log_z": rbm.exact_log_z() if enumerable(rbm) else None}
    if data is not None and len(data.heldout):
        out["ll"] = heldout_log_likelihood(rbm, data, result.log_z, result.log_z_low, result.log_z_high)
        if out["exact_log_z"] is not None:
            z = out["exact_log_z"]
            out["exact_ll"] = heldout_log_likelihood(rbm, data, z, z, z).mean
    return result, out


def enumerable(rbm: RBM, limit: int = 20) -> bool:
    """Whether exact log Z is quick enough to show beside AIS (2^20 states at most)."""
    return rbm.n_hidden <= limit if rbm.gaussian else min(rbm.n_visible, rbm.n_hidden) <= limit


def ais_figure(result: AISResult, exact: float | None) -> go.Figure:
    """The AIS estimate with its +-3 standard-error interval, and the exact log Z when known."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[result.log_z], y=["AIS"], mode="markers", marker={"size": 16, "color": views.PALETTE[0]}, name="AIS estimate",
        error_x={"type": "data", "symmetric": False, "array": [result.log_z_high - result.log_z],
                 "arrayminus": [result.log_z - result.log_z_low], "thickness": 3, "width": 12},
    ))  # fmt: skip
    if exact is not None:
        fig.add_trace(go.Scatter(x=[exact], y=["exact"], mode="markers", marker={"size": 16, "symbol": "diamond", "color": views.PALETTE[1]}, name="exact"))
    return views.style(fig, "log Z: AIS with ±3 standard errors" + (" vs exact enumeration" if exact is not None else ""), "log Z (nats)", None, height=260)


ENUMERABLE_NOTE = f"Exact log Z sums over every state of the smaller layer: shown when it has at most 20 units (the engine allows {MAX_ENUMERABLE})."
