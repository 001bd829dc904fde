"""The stage: one projector-first layout for every lab page.

At a projector's 1280x720 the live picture is the star, so a page is laid out as

- a one-line title (:func:`title`);
- the run bar (lab.controls.run_controls) and, right under it, the live picture;
- the page's parameters in the sidebar (:func:`parameters`), built from the task's declarations;
- the explanation, with its equations typeset, in an expander under the picture (:func:`explain`).

Presenter mode (``?present=1``, the "Present" button or the P key) hides the navigation and the
parameters and enlarges the type. Keys on every page: Space plays or pauses, the right arrow takes
one step, R resets, P toggles presenter mode (the script :func:`frame` mounts; never while typing in
a field). The run bar's Export menu (:func:`export_menu`) saves the live picture; the Link menu
beside the title (:func:`lesson_link`) holds the page's URL with every setting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.run import Run, Snapshot
from lab.export import KEPT_FRAMES, FrameRing, frames_gif, settings_png
from lab.plot_export import rasterize
from lab.plot_in_place import as_drawn, figure_maker, figure_ring

TIMELINE_FPS = 4.0
"""Frames per second of the timeline's GIF: its moments are far apart in steps, each stays a while."""
PRESENT_KEY = "stage.present"
"""Session state of presenter mode; the URL carries it as ``?present=1``."""

CSS = """
<style>
.block-container {padding-top: 3.4rem; padding-bottom: 3rem;}
html, body, [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {font-size: 16px;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p, [data-testid="stImageCaption"] {font-size: 16px !important; color: #3d4150 !important;}
[data-testid="stWidgetLabel"] p {font-size: 15px;}
.st-key-stage-title h1 {font-size: clamp(1.15rem, 2.1vw, 1.6rem); line-height: 1.25; padding: 0.2rem 0;}
[data-testid="stMetricValue"] {font-size: 1.6rem;}
[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p {overflow: visible; white-space: nowrap;}
[data-testid="stImage"] img {max-height: calc(100vh - 280px); width: auto; object-fit: contain;}
canvas.genlab-frame {display: block; image-rendering: pixelated; max-width: 100%; height: auto; max-height: calc(100vh - 280px); object-fit: contain; object-position: left top;}
.genlab-frame-caption {font-size: 16px; color: #3d4150; padding-top: 0.3rem; line-height: 1.4;}
[class*="st-key-stage-plot-"] .genlab-plot {height: max(220px, calc(100vh - 280px));}
.st-key-stage-readouts {max-height: max(220px, calc(100vh - 280px)); overflow-y: auto; overflow-x: hidden; flex-wrap: nowrap;}
[class*="-runbar"] {column-gap: 0.6rem;}
[class*="-runbar"] button {padding-left: 0.6rem; padding-right: 0.6rem;}
</style>
"""

PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stExpandSidebarButton"], [data-testid="stHeader"] {display: none;}
.block-container {padding-top: 1.2rem;}
html, body, [data-testid="stMarkdownContainer"] p {font-size: 22px;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p, [data-testid="stImageCaption"] {font-size: 24px !important;}
.st-key-stage-title h1 {font-size: clamp(1.4rem, 2.6vw, 2.1rem);}
[data-testid="stImage"] img, canvas.genlab-frame {max-height: calc(100vh - 290px);}
[class*="st-key-stage-plot-"] .genlab-plot {height: max(220px, calc(100vh - 290px));}
.st-key-stage-readouts {max-height: max(220px, calc(100vh - 290px));}
.genlab-frame-caption {font-size: 24px;}
</style>
"""

STAGE_JS = """
export default function (component) {
    const slots = () => document.querySelectorAll('.st-key-stage-picture, .st-key-stage-charts');
    if (window.__genlabLayout !== component.data) {  // another page, presenter mode on or off: sizes start afresh
        window.__genlabLayout = component.data;
        slots().forEach((slot) => { slot.style.minHeight = ''; });
    }
    if (window.__genlabStage) return;
    window.__genlabStage = true;
    // a redrawn picture or chart is empty for a moment while it loads: its slot keeps the tallest size it has had
    setInterval(() => slots().forEach((slot) => {
        const height = slot.getBoundingClientRect().height;
        if (height > (parseFloat(slot.style.minHeight) || 0)) slot.style.minHeight = `${height}px`;
    }), 100);
    const press = (name) => {
        const boxes = [...document.querySelectorAll('[class*="st-key-"]')];
        const box = boxes.find((el) => [...el.classList].some((c) => c.startsWith('st-key-') && c.endsWith(name))
            && (name === 'stage-present' || el.closest('[class*="-runbar"]')));
        const button = box && box.querySelector('button');
        if (button && !button.disabled) { button.click(); return true; }
        return false;
    };
    document.addEventListener('keydown', (event) => {
        const target = event.target;
        if (event.ctrlKey || event.metaKey || event.altKey) return;
        if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
        let done = false;
        if (event.key === ' ') done = press('-play') || press('-pause');
        else if (event.key === 'ArrowRight') done = press('-step');
        else if (event.key === 'r' || event.key === 'R') done = press('-reset');
        else if (event.key === 'p' || event.key === 'P') done = press('stage-present');
        if (done) event.preventDefault();
    });
}
"""

_stage_script = st.components.v2.component("genlab_stage", js=STAGE_JS)


def presenting() -> bool:
    """Whether presenter mode is on: from the URL's ``present`` the first time, then from the button."""
    if PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = st.query_params.get("present", "0") in ("1", "true")
    return bool(st.session_state[PRESENT_KEY])


def _toggle_presenter() -> None:
    st.session_state[PRESENT_KEY] = not presenting()
    if st.session_state[PRESENT_KEY]:
        st.query_params["present"] = "1"
    else:
        st.query_params.pop("present", None)


def frame(page: str) -> None:
    """The stage on every page (the app calls it): its type and spacing, large in presenter mode; the keys; and slots
    that keep their size while their picture is redrawn, so the page does not jump while a run plays."""
    st.html(CSS + (PRESENTER_CSS if presenting() else ""))
    _stage_script(key="stage.script", data=f"{page}|{presenting()}", height=0)


def lesson_link() -> str:
    """This page's URL with every setting in it (widgets write theirs into the query string)."""
    base = (st.context.url or "").split("?")[0]  # no URL without a browser (AppTest)
    query = urlencode(st.query_params.to_dict(), safe=",")
    return f"{base}?{query}" if query else base


def title(text: str) -> None:
    """The page's title, one line at a projector's 1280x720, with the lesson link and the presenter-mode switch at its right."""
    with st.container(horizontal=True, vertical_alignment="center", key="stage-title"):
        st.title(text, anchor=False)
        with st.popover("Link", icon=":material/link:", help="A link to this page with these settings, for a lesson"):
            st.code(lesson_link(), language=None, wrap_lines=True)
            st.caption("The copy button is at the right of the link. Add `&hide=lr,momentum` (parameter names) to hide those settings, "
                       "and `&present=1` to open in presenter mode.")  # fmt: skip
        st.button("Present" if not presenting() else "Leave", icon=":material/slideshow:", key="stage-present", on_click=_toggle_presenter,
                  help="Presenter mode (key P): the navigation and the settings hide and the type grows; press again to leave.")  # fmt: skip


def picture() -> st.container:
    """The slot of the page's live picture (a live panel draws in it; a browser test checks it is on the first screen)."""
    return st.container(key="stage-picture")


def readouts() -> st.container:
    """The column of readouts (metrics, decoded images) beside a stage picture: never taller than the picture's own
    slot (lab.stage's CSS), it scrolls inside itself when the window is too low for all of it (a 150% zoom)."""
    return st.container(key="stage-readouts")


def charts() -> st.container:
    """The slot of the page's live charts, under the picture (it keeps its size while they are redrawn)."""
    return st.container(key="stage-charts")


@contextmanager
def parameters() -> Iterator[None]:
    """Where a page's parameter widgets go: the sidebar (hidden in presenter mode, their values still apply)."""
    with st.sidebar:
        st.markdown("**Settings**")
        yield


def explain(markdown: str, *, label: str = "What you see, and the equations") -> None:
    """The page's explanation under the picture: Markdown with typeset math ($...$ inline, $$...$$ displayed)."""
    with st.expander(label, icon=":material/menu_book:"):
        st.markdown(markdown)


def frames(run: Run) -> FrameRing:
    """The pictures this session's live panel drew of ``run`` (the last :data:`lab.export.KEPT_FRAMES`)."""
    key = f"stage.frames.{id(run)}"
    if key not in st.session_state:
        st.session_state[key] = FrameRing()
    return st.session_state[key]


def keep_picture_function(run: Run, picture_of: Callable[[Snapshot], np.ndarray]) -> None:
    """Remember how the live panel draws ``run``'s picture from a snapshot, for the timeline's GIF (:func:`export_menu`)."""
    st.session_state[f"stage.picture_of.{id(run)}"] = picture_of


def timeline_pictures(run: Run, pictures_of: Callable[[list[Snapshot]], list[np.ndarray]]) -> list[tuple[int, np.ndarray]]:
    """The picture of every moment the run's timeline kept (engine.timeline), oldest first, and of the run now, drawn
    by ``pictures_of`` (all at once: Plotly figures share one headless browser); those of another size than the latest
    (a setting changed the picture's size) are left out."""
    moments = [run.moment(step) for step in run.kept_steps()]
    now = run.snapshot(watch=False)
    if not moments or moments[-1].step != now.step:
        moments.append(now)
    pictures = list(zip([m.step for m in moments], pictures_of(moments), strict=True))
    shape = pictures[-1][1].shape
    return [(step, p) for step, p in pictures if p.shape == shape]


def _settings(run: Run, name: str, step: int) -> dict:
    return {"page": name, "step": step, **run.params}


def export_menu(run: Run, name: str, plot: str | None = None) -> None:
    """The run bar's Export menu: the live picture as PNG (its settings in the text chunk ``genlab-settings``) and its
    last frames as a GIF, made when a button is pressed (a download does not rerun the page). The live picture is the
    canvas the live panel drew, or the Plotly stage plot ``plot`` (its kept figures drawn into pixels by lab.plot_export)."""
    with st.popover("Export", icon=":material/download:", help="Save the live picture (PNG, with its settings inside) or its last frames (GIF)"):
        n = st.select_slider("Frames in the GIF", options=[10, 20, 30, KEPT_FRAMES], value=30, key=f"{name}-gif-frames")

        pictures, figures = (frames(run), None) if plot is None else (None, figure_ring(plot))  # the buttons call back outside the script run

        def last(count: int) -> list[tuple[int, np.ndarray]]:
            if figures is None:
                return pictures.last(count)
            kept = figures.last(count)
            return list(zip([step for step, _ in kept], rasterize([figure for _, figure in kept]), strict=True))

        def png() -> bytes:
            kept = last(1)
            if not kept:
                raise ValueError("no picture to save: play or step the run first")
            step, picture = kept[0]
            return settings_png(picture, _settings(run, name, step))

        def gif() -> bytes:
            kept = last(n)
            return frames_gif([picture for _, picture in kept], settings=_settings(run, name, kept[-1][0]))

        st.download_button("Picture (PNG)", data=png, file_name=f"{name}.png", mime="image/png", key=f"{name}-png", icon=":material/image:", on_click="ignore")
        st.download_button(f"Last {n} frames (GIF)", data=gif, file_name=f"{name}.gif", mime="image/gif", key=f"{name}-gif", icon=":material/animation:", on_click="ignore")
        if plot is None:
            picture_of = st.session_state.get(f"stage.picture_of.{id(run)}")
            pictures_of = None if picture_of is None else (lambda moments: [picture_of(m) for m in moments])
        else:
            figure_of = figure_maker(plot)
            pictures_of = None if figure_of is None else (lambda moments: rasterize([as_drawn(figure_of(m)) for m in moments]))
        if pictures_of is not None:

            def whole_timeline() -> bytes:
                kept = timeline_pictures(run, pictures_of)
                return frames_gif([picture for _, picture in kept], fps=TIMELINE_FPS, settings={**_settings(run, name, kept[-1][0]), "steps": [step for step, _ in kept]})

            st.download_button("Whole timeline (GIF)", data=whole_timeline, file_name=f"{name}-timeline.gif", mime="image/gif", key=f"{name}-timeline-gif", on_click="ignore",
                               icon=":material/timeline:", help="One frame per moment the run kept: steps 0, 1, 2, 5, 10, 20, ... and the recent ones")  # fmt: skip


def figure_export(name: str, settings: Callable[[], dict], figures: Callable[[], list[tuple[int, go.Figure]]], *, animation: str = "Animation (GIF)") -> None:
    """An Export menu for a picture a page computes rather than a run plays (the a·b game, the Dirac-GAN, the VAE's
    latent plane and posterior): the picture as PNG and its animation's frames as a GIF, each with ``settings()``
    inside (the PNG's text chunk ``genlab-settings``, with the picture's ``step``; the GIF's comment, with every
    frame's, ``frame_steps``). ``animation`` names the GIF's button; an empty name leaves it out. ``figures()`` gives
    (step, figure) pairs, the picture shown last; both are called only when a button is pressed (lab.plot_export
    draws the figures into pixels)."""
    what = "Save the picture (PNG, with its settings inside)" + (" or its animation (GIF)" if animation else "")
    with st.popover("Export", icon=":material/download:", help=what):

        def pictures(which: slice) -> tuple[list[int], list[np.ndarray]]:
            kept = figures()[which]
            return [step for step, _ in kept], rasterize([as_drawn(fig) for _, fig in kept])

        def png() -> bytes:
            steps, (picture,) = pictures(slice(-1, None))
            return settings_png(picture, {"page": name, "step": steps[-1], **settings()})

        def gif() -> bytes:
            steps, drawn = pictures(slice(None))
            return frames_gif(drawn, settings={"page": name, **settings(), "frame_steps": steps})

        st.download_button("Picture (PNG)", data=png, file_name=f"{name}.png", mime="image/png", key=f"{name}-png", icon=":material/image:", on_click="ignore")
        if animation:
            st.download_button(animation, data=gif, file_name=f"{name}.gif", mime="image/gif", key=f"{name}-gif", icon=":material/animation:", on_click="ignore")
