"""EM on a 2-D Gaussian mixture as coordinate ascent on L(v, θ, q), one half-step at a time (book section 19.2, eq. 19.1)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from engine.run import Snapshot
from engine.tasks.inference.em import E_STEP, PRESETS, EMTask
from lab import controls as ui
from lab import live, stage, views
from lab.inference.em_figures import em_figure, gap_figure, rise_figure

P = EMTask.PARAMS
REDRAW_EVERY = 0.25  # seconds between redraws while the run plays (the charts keep their keys and update in place)

stage.title("EM as coordinate ascent on L(v, θ, q)")

with stage.parameters():
    ui.presets("em", PRESETS, help="EM climbs; a bad start climbs too, to a lower hill; a partial E-step (generalized EM) still raises L.")
    shown = ui.param_column(P, ("layout", "k", "init", "e_fraction", "n_iter", "seed"), "em")
    shown |= ui.param_rest(P, shown, "em", per_row=1)

params = P.complete(shown)
run = ui.session_run("em.run", EMTask, params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "em", step_label="Half-step", default_speed="4 steps / s", export_plot="em.scene")


def what_happened(snap: Snapshot) -> str:
    a = snap.arrays
    half, kinds = int(a["half_steps"]), a["kinds"]
    if half == 0:
        return "θ⁽⁰⁾ with uniform q: next, an E-step"
    done = "E-step" if kinds[-1] == E_STEP else "M-step"
    following = "M-step" if kinds[-1] == E_STEP else "E-step"
    if int(a["iteration"]) >= int(snap.params["n_iter"]):
        return f"iteration {int(a['iteration'])}: done"
    return f"iteration {int(a['iteration']) + (kinds[-1] == E_STEP)}, after the {done}: next, an {following}"


def e_step_words(fraction: float) -> str:
    if fraction >= 1.0:
        return "E-step: q(h|v) ← p(h|v; θ), the gap closes"
    return f"Partial E-step: {fraction:.0%} of the points (ringed) get q(h|v) ← p(h|v; θ), the gap shrinks"


def scene(snap: Snapshot) -> go.Figure:
    """The points coloured by q(h|v), with the mixture's ellipses, and log p(v) and L in the title."""
    a = snap.arrays
    log_p, bound = float(a["log_p"][-1]), float(a["bound"][-1])
    return em_figure(a, f"Points coloured by q(h|v); K = {len(a['weights'])}", f"log p(v) = {views.number(log_p, '.4f')}, L = {views.number(bound, '.4f')}")


def draw_live(snap: Snapshot) -> None:
    a = snap.arrays
    gap = max(float(a["gap"][-1]), 0.0)
    with stage.picture():
        views.run_plot(scene, snap, key="em.scene")
    st.caption(
        f"{what_happened(snap)}. Gap KL(q ‖ p(h|v)) = {views.number(gap, '.2e')} nats per point. "
        f"Falls so far: L {int(a['bound_falls'])}, log p(v) {int(a['log_p_falls'])}. "
        f"Ellipses: 1σ (solid) and 2σ (dashed); ×: means μₖ. {e_step_words(float(snap.params['e_fraction']))}; M-step: θ ← argmax L(v, θ, q), L rises."
    )
    with stage.charts():
        c = st.columns(2)
        with c[0]:
            views.plot(gap_figure(a), key="em.gap")
        with c[1]:
            views.plot(rise_figure(a), key="em.rise")


live_area, moment = live.rewindable(run)
with live_area:
    live.redrawn(run, draw_live, REDRAW_EVERY, at=moment)
stage.explain(
    r"A Gaussian mixture has a hidden class $h \in \{1, \dots, K\}$ with $p(h = k) = \pi_k$ and "
    r"$p(\mathbf v \mid h = k) = \mathcal N(\mathbf v; \boldsymbol\mu_k, \boldsymbol\Sigma_k)$. Any $q(h \mid \mathbf v)$ gives a lower bound "
    "\n\n"
    r"$$\mathcal L(\mathbf v, \boldsymbol\theta, q) = \log p(\mathbf v; \boldsymbol\theta) - D_{\mathrm{KL}}\big(q(h \mid \mathbf v) \,\|\, p(h \mid \mathbf v; \boldsymbol\theta)\big) \quad\text{(eq. 19.1)}"
    r"\; = \; \mathbb E_{h \sim q}\big[\log p(h, \mathbf v; \boldsymbol\theta)\big] + H(q) \quad\text{(eqs. 19.2-19.6)},$$"
    "\n\n"
    r"summed over the data points. EM (section 19.2) is coordinate ascent on $\mathcal L$: the **E-step** sets $q(h \mid \mathbf v^{(i)}) = p(h \mid \mathbf v^{(i)}; \boldsymbol\theta)$, "
    r"which maximises $\mathcal L$ over $q$ and makes the gap zero; the **M-step** maximises $\mathcal L$ over $\boldsymbol\theta$ with $q$ fixed: "
    r"$\pi_k = N_k / N$, $\boldsymbol\mu_k = \sum_i q_{ik} \mathbf v^{(i)} / N_k$, $\boldsymbol\Sigma_k = \sum_i q_{ik} (\mathbf v^{(i)} - \boldsymbol\mu_k)(\mathbf v^{(i)} - \boldsymbol\mu_k)^\top / N_k$ "
    r"with $N_k = \sum_i q_{ik}$ (plus $10^{-6}$ on the diagonal, scikit-learn's `reg_covar`). The M-step raises $\log p(\mathbf v; \boldsymbol\theta)$ at least as much as $\mathcal L$, "
    r"so the gap opens again; the next E-step closes it. Hence $\log p(\mathbf v; \boldsymbol\theta)$ never falls."
    "\n\n"
    r"A **partial E-step** (generalized EM) gives only a random share of the points their posterior (those points are ringed): $\mathcal L$ still never falls, "
    r"but the gap does not close, and $\log p(\mathbf v; \boldsymbol\theta)$ itself may fall now and then. "
    r"EM climbs to the nearest fixed point: from a bad start it stops on a lower hill (a local optimum). "
    r"Numbers are in nats per data point. Each point's colour mixes the components' colours by its responsibilities $q(h = k \mid \mathbf v)$. "
    r"The fixed point equals scikit-learn's `GaussianMixture` from the same start (`genlab eval inference --page em`)."
)
