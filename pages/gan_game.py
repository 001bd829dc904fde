"""The a*b game and the Dirac-GAN: why simultaneous gradient steps circle, and what makes them converge (book 20.10.4)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitDuplicateElementKey

from engine.models.game import (
    DIRAC_RULES,
    RULES,
    DiracGAN,
    bilinear_eigenvalues,
    bilinear_field,
    bilinear_trajectory,
    radius,
    theory_radius,
)
from engine.tasks.gan import DIRAC_PARAMS, GAME_PARAMS
from lab import controls as ui
from lab import stage, views
from lab.gan.figures import eigen_figure, game_figure, radius_figure

VIEW = 2.0
FRAMES = 40
PICTURE_HEIGHT = 460
RULE_NAMES = {
    "simultaneous": "simultaneous GD",
    "alternating": "alternating GD",
    "extragradient": "extragradient",
    "optimistic": "optimistic GD",
    "consensus": "consensus",
    "flow": "continuous flow",
}
THEORY = {
    "simultaneous": "√(1 + η²)",
    "alternating": "1 (for η < 2)",
    "extragradient": "√(1 − η² + η⁴)",
    "optimistic": "root of λ² − (1 + 2iη)λ + iη",
    "consensus": "√((1 − ηγ)² + η²)",
    "flow": "1 (a rotation by η)",
}

stage.title("The a·b game: why GAN training can circle")

with stage.parameters():
    st.markdown("**The a·b game**")
    rules = st.pills("Update rules", list(RULES), selection_mode="multi", default=["simultaneous", "alternating", "extragradient", "flow"],
                     format_func=RULE_NAMES.get, key="game.rules", bind="query-params", persist_state="session")  # fmt: skip
    game = ui.param_column(GAME_PARAMS, ("lr", "steps"), "game")
    if "consensus" in (rules or []):
        game["gamma"] = ui.param_widget(GAME_PARAMS, "gamma", "game")
    st.markdown("**The Dirac-GAN**")
    d_rules = st.pills("Update rules", list(DIRAC_RULES), selection_mode="multi", default=list(DIRAC_RULES), key="dirac.rules", bind="query-params", persist_state="session") or ["simultaneous"]
    dirac = {"loss": ui.param_widget(DIRAC_PARAMS, "loss", "dirac", horizontal=False)}
    dirac |= ui.param_column(DIRAC_PARAMS, ("lr", "r1", "noise", "steps"), "dirac")

def _start_at(state_key: str) -> Callable[[views.Click], None]:
    """A click on the field: the clicked (invisible) grid point becomes the start."""
    return lambda click: ui.set_url_point(state_key, (click.x, click.y))


def _tolerate_double_run(panel):
    """Streamlit can run an auto-rerunning fragment twice in one script run; the second drawing (same chart keys) is skipped."""

    @functools.wraps(panel)
    def wrapper() -> None:
        try:
            panel()
        except StreamlitDuplicateElementKey:
            pass

    return wrapper


def _verdict(r: float) -> str:
    if r > 1 + 1e-9:
        return "spirals out"
    if r < 1 - 1e-9:
        return "converges"
    return "orbits"


def _play_controls(key: str, settings: Callable[[], dict], figure_upto: Callable[[int], go.Figure], steps: int) -> None:
    """The panel's run bar: Play animates the steps from the start, Show all draws them at once, Export saves the
    picture (PNG) and the animation's frames (GIF), drawn by ``figure_upto(step)``."""
    with st.container(horizontal=True, vertical_alignment="center", key=f"{key}-runbar"):
        if st.button("Play", icon=":material/play_arrow:", key=f"{key}.play", type="primary", help="Key: Space"):
            st.session_state[f"{key}.frame"] = 0
            st.session_state[f"{key}.playing"] = True
        if st.button("Show all", icon=":material/fast_forward:", key=f"{key}.all"):
            st.session_state[f"{key}.playing"] = False
        stage.figure_export(key, settings, lambda: [(upto, figure_upto(upto)) for upto in _frame_steps(steps)])


def _frame_steps(steps: int) -> list[int]:
    """The steps shown by each of the animation's FRAMES frames."""
    return [max(1, round(steps * frame / FRAMES)) for frame in range(1, FRAMES + 1)]


def _upto(key: str, steps: int) -> tuple[int, bool]:
    """Steps to show now: grows over FRAMES frames while playing, else every step."""
    if not st.session_state.get(f"{key}.playing"):
        return steps, False
    frame = st.session_state.get(f"{key}.frame", 0) + 1
    st.session_state[f"{key}.frame"] = frame
    if frame >= FRAMES:
        st.session_state[f"{key}.playing"] = False
        return steps, False
    return _frame_steps(steps)[frame - 1], True


# --------------------------------------------------------------------------- the bilinear game
game = GAME_PARAMS.complete(game)
lr, steps, gamma = game["lr"], game["steps"], game["gamma"]
rules = rules or ["simultaneous"]
# What each panel drew last: its start and trajectories. A click on the field reruns only the panel; the Export
# menu, made before it, draws from here. (A bare string here would be drawn on the page: Streamlit's magic.)
drawn: dict[str, tuple] = {}


def game_picture(upto: int) -> go.Figure:
    start, trajs = drawn["game"]
    return game_figure(trajs, lambda a, b: bilinear_field(a, b), VIEW, upto, f"From ({start[0]:.2f}, {start[1]:.2f}), step {upto} of {steps}", "a (minimizes)", "b (maximizes)", height=PICTURE_HEIGHT)


_play_controls("game", lambda: {"rules": rules, "start": list(drawn["game"][0]), **game}, game_picture, steps)


@st.fragment(run_every=0.25 if st.session_state.get("game.playing") else None)
@_tolerate_double_run
def bilinear_panel() -> None:
    start = ui.url_point("game.start", (1.0, 0.5))
    upto, playing = _upto("game", steps)
    trajs = {r: bilinear_trajectory(start[0], start[1], lr, steps, r, gamma) for r in rules}
    drawn["game"] = (start, trajs)
    field, radii = st.columns([3, 2])
    with field:
        views.stage_plot(game_picture(upto), key="game.chart", on_click=_start_at("game.start"))
    with radii:
        views.stage_plot(radius_figure({r: radius(t) for r, t in trajs.items()}, upto), key="game.radius")
    if not playing and st.session_state.get("game.frame", 0) >= FRAMES:
        st.session_state["game.frame"] = 0
        st.rerun()


with stage.picture():
    bilinear_panel()
rows = []
for r in rules:
    ev = bilinear_eigenvalues(lr, r, gamma)
    mag = float(np.abs(ev).max())
    rows.append({"rule": RULE_NAMES[r], "largest |λ| (computed)": f"{mag:.6f}", "theory": THEORY[r], "= theory": f"{theory_radius(lr, r, gamma):.6f}", "so it": _verdict(mag)})
st.dataframe(rows, hide_index=True, width="stretch")
steps_note, eigen = st.columns([3, 2])
with steps_note:
    st.caption(
        "One simultaneous step is (a, b) ↦ (a − ηb, b + ηa): √(1 + η²) times a rotation, so the radius grows by exactly √(1 + η²) per step. "
        "Alternating steps (b sees the new a) have determinant 1 and conserve a² + b² − ηab: a closed orbit. "
        "Extragradient takes the step with the gradient at a look-ahead point and scales the radius by √(1 − η² + η⁴): a contraction for η < 1 only."
    )
with eigen:
    views.plot(eigen_figure({r: bilinear_eigenvalues(lr, r, gamma) for r in rules}, f"Eigenvalues of one update (η = {lr:g})"), key="game.eigs")
stage.explain(
    r"Book section 20.10.4: $V(a, b) = a \cdot b$, player $a$ minimizes, player $b$ maximizes. The only equilibrium is $(0, 0)$. "
    r"Gradient steps follow the field $\big(-\partial V/\partial a, +\partial V/\partial b\big) = (-b, a)$, which turns around the equilibrium instead of pointing at it. "
    r"**Click anywhere** on a picture to start from there; press **Play** to watch the steps unfold."
)

# --------------------------------------------------------------------------- the Dirac-GAN
st.subheader("Dirac-GAN")
dirac = DIRAC_PARAMS.complete(dirac)
loss, d_lr, r1, noise, d_steps = dirac["loss"], dirac["lr"], dirac["r1"], dirac["noise"], dirac["steps"]
games = {rule: DiracGAN(loss=loss, lr=d_lr, rule=rule, r1=r1, noise=noise) for rule in d_rules}


def dirac_picture(upto: int) -> go.Figure:
    start, trajs = drawn["dirac"]
    return game_figure(trajs, next(iter(games.values())).field, VIEW, upto, f"(θ, ψ) from ({start[0]:.2f}, {start[1]:.2f}), step {upto} of {d_steps}", "θ (generator)", "ψ (discriminator)", height=PICTURE_HEIGHT)


_play_controls("dirac", lambda: {"rules": d_rules, "start": list(drawn["dirac"][0]), **dirac}, dirac_picture, d_steps)


@st.fragment(run_every=0.25 if st.session_state.get("dirac.playing") else None)
@_tolerate_double_run
def dirac_panel() -> None:
    start = ui.url_point("dirac.start", (1.0, 1.0))
    upto, playing = _upto("dirac", d_steps)
    trajs = {rule: g.trajectory(start[0], start[1], d_steps) for rule, g in games.items()}
    drawn["dirac"] = (start, trajs)
    field, radii = st.columns([3, 2])
    with field:
        views.plot_in_place(dirac_picture(upto), key="dirac.chart", on_click=_start_at("dirac.start"))
    with radii:
        views.plot(radius_figure({r: radius(t) for r, t in trajs.items()}, upto, ylabel="√(θ² + ψ²) (log scale)", height=PICTURE_HEIGHT), key="dirac.radius")
    m = st.columns(len(trajs))
    for col, (rule, t) in zip(m, trajs.items(), strict=True):
        col.metric(f"{rule}: final distance to (0, 0)", f"{radius(t)[-1]:.2e}", delta=f"{radius(t)[-1] - radius(t)[0]:+.2e} from the start", delta_color="inverse")
    if not playing and st.session_state.get("dirac.frame", 0) >= FRAMES:
        st.session_state["dirac.frame"] = 0
        st.rerun()


dirac_panel()
eigs = {rule: g.eigenvalues() for rule, g in games.items()}
if loss == "wgan":
    jac = "[[1, η], [−η, 1 − ηγ]] (instance noise leaves the WGAN's expected gradient unchanged)"
    plain = np.sqrt(1 + d_lr**2)
else:
    jac = "[[1, η/2], [−η/2, 1 − ηγ − ησ²/2]] (σ′(0) = 1/4 and σ(0) = 1/2 with the logistic σ)"
    plain = np.sqrt(1 + d_lr**2 / 4)
verdicts, eigen = st.columns([3, 2])
with verdicts:
    for rule, ev in eigs.items():
        mag = float(np.abs(ev).max())
        st.markdown(f"**{rule}**: Jacobian of one update at the equilibrium has largest **|λ| = {mag:.6f}**, so it **{_verdict(mag)}**.")
    st.caption(
        f"Simultaneous steps: J = {jac}; without a regularizer (γ = σ = 0) |λ| = {plain:.6f} > 1, the iterates spiral out. "
        "Alternating steps (D moves first, G answers the new D): without a regularizer J has determinant 1, so near the equilibrium the iterates orbit."
    )
with eigen:
    views.plot(eigen_figure(eigs, "Eigenvalues of one update at (0, 0)"), key="dirac.eigs")
stage.explain(
    r"Mescheder et al. (2018): real data is a point mass at $0$, the generator a point mass at $\theta$, the discriminator $D(x) = \psi \cdot x$. "
    r"The equilibrium is $(\theta, \psi) = (0, 0)$. R1 penalizes $D$'s gradient on real data, $(\gamma/2) \cdot \psi^2$; instance noise blurs both samples with $\mathcal N(0, \sigma^2)$.",
    label="The Dirac-GAN",
)
