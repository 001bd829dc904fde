"""Which KL? A Gaussian q fitted to a 2-D target p by KL(q || p) or KL(p || q), live (book section 19.4, figure 3.6)."""

from __future__ import annotations

import streamlit as st

from engine.run import Snapshot
from engine.tasks.inference.kl import PRESETS, WhichKLTask
from lab import controls as ui
from lab import live, stage, views
from lab.inference.kl_figures import NAMES, divergence_figure, fit_figure

P = WhichKLTask.PARAMS
KEY = "kl"
REDRAW_EVERY = 0.5  # seconds between redraws while the run plays (Plotly updates the charts in place)
EQUATIONS = {
    "reverse": r"\mathrm{KL}(q\,\|\,p) = \mathbb{E}_{q}\big[\log \tfrac{q}{p}\big]",
    "forward": r"\mathrm{KL}(p\,\|\,q) = \mathbb{E}_{p}\big[\log \tfrac{p}{q}\big]",
}
OPTIMUM_HELP = ("The optimum is the minimized divergence at the dashed q: moment matching for KL(p‖q); for KL(q‖p) with a Gaussian p, p itself "
                "(full q) or the precisions Λᵢᵢ (factorized q). KL(q‖p) on the mixture has no closed form: each mode is a local optimum.")
IDEAS = {
    "reverse": "Reverse (eq. 3.50 with q first, the variational choice of 19.4): q is punished where p is small, so it seeks a mode.",
    "forward": "Forward (eq. 3.50 with p first): q is punished where p has mass it misses, so it covers all of it.",
}

stage.title("Which KL? Fitting q by KL(q‖p) or KL(p‖q)")

with stage.parameters():
    ui.presets(KEY, PRESETS, help="Section 19.4 and figure 3.6: mean field under-estimates variance; forward KL covers, reverse KL picks a mode.")
    shown = ui.param_column(P, ("target", "rho", "separation", "divergence", "family", "lr"), KEY, horizontal=("target", "divergence", "family"))
    st.markdown("**Where q starts** (a change restarts the fit)")
    shown |= ui.param_column(P, ("start_x1", "start_x2", "start_std"), KEY)
    shown |= ui.param_rest(P, shown, KEY, per_row=1)

params = P.complete(shown)
run = ui.session_run(f"{KEY}.run", WhichKLTask, params, max_fps=12)
ui.push_params_restarting(run, params)
ui.run_controls(run, KEY, export_plot=f"{KEY}.fit", default_speed="15 steps / s")


def picture_title(snap: Snapshot) -> str:
    p = snap.params
    target = f"Gaussian, ρ = {p['rho']:g}" if p["target"] == "gaussian" else f"two modes, d = {p['separation']:g}"
    return f"p: {target} · q: {p['family']} · step {snap.step:,}"


def draw_readouts(snap: Snapshot) -> None:
    """The minimized divergence's equation and both divergences now, in a few short lines (they fit beside the picture at 150% zoom)."""
    which = snap.params["divergence"]
    now = dict(zip(("kl_reverse", "kl_forward"), snap.arrays["kl_now"]))
    optimum = snap.arrays["kl_optimum"]
    st.latex(EQUATIONS[which])
    lines = [f"{NAMES[k]} = **{views.number(float(now[k]), '.4f')}**" + (" (minimized)" if k == f"kl_{which}" else "") for k in ("kl_reverse", "kl_forward")]
    lines.append(f"optimum: **{views.number(float(optimum[0]), '.4f')}**" if len(optimum) else "optimum: no closed form")
    st.markdown("  \n".join(lines), help=OPTIMUM_HELP)


def draw_picture(snap: Snapshot) -> None:
    left, right = st.columns([2, 1])
    with left:
        views.run_plot(lambda s: fit_figure(s.arrays, picture_title(s)), snap, key=f"{KEY}.fit")
    with right:
        draw_readouts(snap)


def draw_curves(snap: Snapshot) -> None:
    views.plot(divergence_figure(snap.metrics, snap.params["divergence"]), key=f"{KEY}.curves")


live_area, moment = live.rewindable(run)
with live_area, stage.picture():
    live.redrawn(run, draw_picture, REDRAW_EVERY, at=moment)
with live_area, stage.charts():
    live.redrawn(run, draw_curves, REDRAW_EVERY, at=moment)
grid = run.task.grid
st.caption(
    IDEAS[run.params["divergence"]] + " Blue: p's density; red: q's contours at 1σ and 2σ (Mahalanobis distance 1 and 2); dashed: the optimum where it has a closed form. "
    f"Each step is θ ← θ − η ∇θ KL, both KLs by quadrature on a {grid.n} × {grid.n} grid over [−{grid.axis[-1]:g}, {grid.axis[-1]:g}]²."
)
stage.explain(
    r"The KL divergence (eq. 3.50) is not symmetric. Variational inference (section 19.4) minimizes "
    r"$D_{\mathrm{KL}}(q\,\|\,p)$, the gap $\log p(\mathbf v) - \mathcal L(\mathbf v, \boldsymbol\theta, q)$ of eq. 19.1: "
    r"it is large wherever $q$ puts mass and $p$ has little, so $q$ stays inside $p$ and, on the two-mode mixture, "
    r"picks one mode (figure 3.6, right). $D_{\mathrm{KL}}(p\,\|\,q)$ is large wherever $p$ has mass and $q$ has little, "
    r"so $q$ spreads over both modes (figure 3.6, left); for a Gaussian $q$ its minimum matches $p$'s mean and covariance."
    "\n\n"
    r"For a Gaussian $p = \mathcal N(\boldsymbol\mu, \boldsymbol\Sigma)$ with precision $\boldsymbol\Lambda = \boldsymbol\Sigma^{-1}$, "
    r"the factorized (mean-field, eq. 19.17) $q(\mathbf x) = q(x_1)\,q(x_2)$ minimizing $D_{\mathrm{KL}}(q\,\|\,p)$ is "
    r"$q(x_i) = \mathcal N(\mu_i, 1/\Lambda_{ii})$: with unit variances and correlation $\rho$, its variances are "
    r"$1 - \rho^2$, smaller than $p$'s marginal variances $\Sigma_{ii} = 1$ (mean field under-estimates variance). "
    r"Minimizing $D_{\mathrm{KL}}(p\,\|\,q)$ instead gives $q(x_i) = \mathcal N(\mu_i, \Sigma_{ii})$, the marginals. "
    r"A full-covariance $q$ contains $p$, so either divergence reaches 0 at $q = p$."
    "\n\n"
    r"$q = \mathcal N(\mathbf m, LL^\top)$ with $L = \begin{pmatrix} e^{a} & 0 \\ c & e^{b}\end{pmatrix}$ ($c = 0$ when factorized); "
    r"each step moves $\boldsymbol\theta = (\mathbf m, a, b, c)$ by $-\eta\,\nabla_{\boldsymbol\theta}\mathrm{KL}$, with $q$'s standard "
    r"deviations kept in [0.1, 4] and its mean in [−4, 4]² so that the grid resolves it."
)
