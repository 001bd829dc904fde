"""Mean field, iteration by iteration: binary sparse coding against its exact posterior, and a 2-D Gaussian (book 19.4.1, 19.4.3)."""

from __future__ import annotations

import streamlit as st

from engine.run import Snapshot
from engine.tasks.inference.meanfield import PRESETS, MeanFieldTask
from lab import controls as ui
from lab import live, stage, views
from lab.inference.meanfield_figures import binary_figure, convergence_figure, gaussian_figure, pair_figure

P = MeanFieldTask.PARAMS
PICTURE_EVERY = 0.25  # seconds between redraws while the run plays (Plotly updates the figure in place)
BINARY_SHOWN = ("schedule", "damping", "n_iter", "dictionary", "n_hidden", "input", "beta", "bias", "seed")
GAUSSIAN_SHOWN = ("rho", "n_iter")

stage.title("Mean field against the exact posterior")

with stage.parameters():
    ui.presets("mf", PRESETS, help="Explaining away: one of two similar features takes the input. Parallel updates: both switch on and off together.")
    shown = {"part": ui.param_widget(P, "part", "mf", horizontal=False)}
    shown |= ui.param_column(P, BINARY_SHOWN if shown["part"] == "binary" else GAUSSIAN_SHOWN, "mf", horizontal=("schedule",))

params = P.complete(shown)
run = ui.session_run("mf", MeanFieldTask, params)
ui.push_params_restarting(run, params)
ui.run_controls(run, "mf", step_label="One iteration", default_speed="4 steps / s", export_plot="mf-picture")

BINARY_CAPTION = (
    r"Each unit: $\hat h_i = \sigma\big(b_i + \mathbf v^\top\beta\mathbf W_{:,i} - \tfrac12\mathbf W_{:,i}^\top\beta\mathbf W_{:,i}"
    r" - \sum_{j\ne i}\mathbf W_{:,j}^\top\beta\mathbf W_{:,i}\,\hat h_j\big)$ (eq. 19.44): the last term is explaining away."
)
GAUSSIAN_CAPTION = (
    r"Each factor: $q(h_i) = \mathcal N\big(\mu_i - \Lambda_{ii}^{-1}\sum_{j\ne i}\Lambda_{ij}(m_j - \mu_j),\ \Lambda_{ii}^{-1}\big)$, "
    r"from $\tilde q(h_i\mid\mathbf v) = \exp\mathbb E_{h_{-i}\sim q}\log\tilde p(\mathbf v,\mathbf h)$ (eq. 19.56)."
)


def draw_live(snap: Snapshot) -> None:
    a, part, n_iter = snap.arrays, snap.params["part"], int(snap.params["n_iter"])
    with stage.picture():
        views.run_plot(lambda s: binary_figure(s.arrays, n_iter, s.params["schedule"]) if part == "binary" else gaussian_figure(s.arrays, n_iter), snap, key="mf-picture")
    if part == "binary":
        st.caption(f"{BINARY_CAPTION} Features 1 and 2 have cosine {float(a['cosine_12']):.2f}.")
    else:
        st.caption(GAUSSIAN_CAPTION)
    with stage.charts():
        left, right = st.columns(2) if part == "binary" else (st.container(), None)
        with left:
            views.plot(convergence_figure(snap.metrics, part), key="mf-convergence")
        if right is not None:
            with right:
                views.plot(pair_figure(a["exact_pair_12"], a["q_pair_12"]), key="mf-pair")


live_area, moment = live.rewindable(run)
with live_area:
    live.redrawn(run, draw_live, PICTURE_EVERY, at=moment)
stage.explain(
    r"**Binary sparse coding** (section 19.4.1): $p(h_i = 1) = \sigma(b_i)$ and $p(\mathbf v\mid\mathbf h) = \mathcal N(\mathbf v; \mathbf W\mathbf h, \beta^{-1})$ "
    r"with 8-dimensional $\mathbf v$ and unit-norm features $\mathbf W_{:,i}$. The posterior $p(\mathbf h\mid\mathbf v)$ couples the units, so mean field fits "
    r"$q(\mathbf h\mid\mathbf v) = \prod_i \hat h_i^{h_i}(1-\hat h_i)^{1-h_i}$ by maximizing"
    "\n\n"
    r"$$\mathcal L(\mathbf v, \theta, q) = \mathbb E_{q}[\log p(\mathbf h, \mathbf v)] + H(q) = \log p(\mathbf v) - D_{\mathrm{KL}}\big(q(\mathbf h\mid\mathbf v)\,\|\,p(\mathbf h\mid\mathbf v)\big),$$"
    "\n\n"
    r"whose derivative in $\hat h_i$ vanishes at the update of eq. 19.44 (in the caption under the picture). Updating one unit at a time "
    r"maximizes $\mathcal L$ over that unit, so $\mathcal L$ never falls; updating all units at once from the same old $\hat{\mathbf h}$ can overshoot: "
    r"two features that explain the same input both switch on, then both off, and $\mathcal L$ oscillates. Damping "
    r"$\hat{\mathbf h} \leftarrow d\,\hat{\mathbf h} + (1-d)\,\sigma(\cdot)$ settles it. With few units, $\log p(\mathbf v)$ and the exact marginals "
    r"$p(h_i = 1\mid\mathbf v)$ are sums over the $2^n$ states of $\mathbf h$. **Explaining away**: when features 1 and 2 are similar and $\mathbf v$ is feature 1, "
    r"either explains it; the exact posterior puts its mass on (1, 0) and (0, 1), so both marginals are near ½, but a factorial $q$ cannot hold that "
    r"anti-correlation and picks one explanation: the gap $\log p(\mathbf v) - \mathcal L$ that remains (0.52 nats on the default setup) is its price. With orthogonal features "
    r"the posterior is factorial and mean field is exact (gap 0)."
    "\n\n"
    r"**Continuous latent variables** (section 19.4.3): for a Gaussian posterior $\mathcal N(\boldsymbol\mu, \boldsymbol\Lambda^{-1})$ the optimal factor "
    r"$\tilde q(h_i\mid\mathbf v) = \exp\big(\mathbb E_{h_{-i}\sim q}\log\tilde p(\mathbf v, \mathbf h)\big)$ (eq. 19.56) is Gaussian with variance $1/\Lambda_{ii}$ and mean "
    r"$\mu_i - \Lambda_{ii}^{-1}\sum_{j\ne i}\Lambda_{ij}(m_j - \mu_j)$. Updating $q(h_1)$ and $q(h_2)$ in turn, the means zig-zag to the true mean (the error "
    r"shrinks by $\rho^2$ per pair of updates) and the variances are $1/\Lambda_{ii} = (1-\rho^2)\,\Sigma_{ii}$: smaller than the true marginal variances, "
    r"so the red product-form contours sit inside the blue ones. What is left, $D_{\mathrm{KL}}(q\,\|\,p) = -\tfrac12\log(1-\rho^2)$, is the dashed line."
    "\n\n"
    r"Under the picture: the size of each update, $\max_i|\Delta\hat h_i|$ (or $\max_i|\Delta m_i|$), and, for binary sparse coding, the gap $\log p(\mathbf v) - \mathcal L$, on a log scale; "
    r"beside them, the joint of units 1 and 2: the exact $p(h_1, h_2\mid\mathbf v)$ (by enumeration) against the product $q(h_1)\,q(h_2)$, the only kind of joint a factorial $q$ can hold. "
    "The Gaussian part's posterior has mean (1, 0.5) and unit variances; q starts as N((−1.5, 2), I)."
)
