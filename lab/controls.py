"""Run controls and parameter widgets shared by every page.

- ``session_run``: one Run per browser tab and key, closed (thread joined) when the tab goes away.
- ``run_controls``: Play / Pause / Step / Reset and a speed control, plus the run's status message.
- Parameter widgets built from a Task's declarations (engine.params): ``param_widget`` for one,
  ``param_row`` for a row of them, ``param_column`` for a column (the stage's parameter panel), ``param_rest`` for those the page does not place (under "More
  settings"). A page only says which parameters it shows and where; the
  label (with the book's symbol and an "on Reset" mark), range, step, default and help come
  from the declaration. Every widget is bound to the URL (``?prefix.name=value``, seed
  included, so a copied link reproduces the setup) and persists across page switches.
  Their values go into ``run.update_params`` through ``push_params``; moving a slider never
  restarts training.
- Widgets for page-only settings that are no Task parameter (``slider``, ``select``, ...),
  bound to the URL the same way, and a lesson's named setups (``presets``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from engine.executor import make_run
from engine.params import ARRAY, RESET, Param, Params
from engine.run import FAILED, RUNNING, WAITING, Run, Task
from lab import stage
from lab.limits import admission
from lab.scrubber import scrubber

SPEEDS: dict[str, float | None] = {
    "1 step / 4 s": 0.25,
    "1 step / s": 1.0,
    "4 steps / s": 4.0,
    "15 steps / s": 15.0,
    "60 steps / s": 60.0,
    "full speed": None,
}


def _release(run: Run) -> None:
    run.close()


@st.cache_resource(scope="session", on_release=_release, show_spinner="Building the model ...")
def _cached_run(key: str, _make_task: Callable[[], Task], _params: dict, _run_kwargs: dict) -> Run:
    return make_run(_make_task, _params, **_run_kwargs)  # a thread here, or a Ray actor (engine.executor)


SHARED_RUNS: dict[str, str] = {
    "rbm.train": "the RBM training page's run; the Gibbs chain page samples its model (model 'given')",
}
"""Every run one page makes and another page reads, by its session_run key: the one place pages share a run."""


def _shared_key(key: str) -> str:
    return f"shared.{key}"


AWAY_PAUSE_SECONDS = 6.0
"""A page's run pauses itself when its page has not read it for this long: the page was left (or the tab closed)."""


def session_run(key: str, make_task: Callable[[], Task], params: Mapping[str, Any], **run_kwargs: Any) -> Run:
    """This tab's Run for ``key``, created on first use from ``make_task()`` and ``params``.

    Later calls return the same Run; while its page is open, the page's live panel reads it every
    second, and once the page is left the run pauses within :data:`AWAY_PAUSE_SECONDS` (so a run left
    playing does not slow the next demo); the thread is closed when the browser session ends. A key declared in
    :data:`SHARED_RUNS` is also offered to the pages that read it (:func:`shared_run`).
    """
    run = _cached_run(key, make_task, dict(params), {"idle_timeout": AWAY_PAUSE_SECONDS, "admission": admission(), "session": _session_id(), **run_kwargs})
    if key in SHARED_RUNS:
        st.session_state[_shared_key(key)] = run
    return run


def _session_id() -> str | None:
    """This browser session's id (a run counts against its session's limit, lab.limits)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def shared_run(key: str) -> Run | None:
    """The run another page of this session made under ``key`` (declared in :data:`SHARED_RUNS`), or None
    while that page has not been opened."""
    if key not in SHARED_RUNS:
        raise KeyError(f"{key!r} is not a shared run; shared runs: {', '.join(SHARED_RUNS)}")
    return st.session_state.get(_shared_key(key))


def array_param(array: Any) -> tuple | None:
    """An array (a drawing, a painted mask) as a run parameter: a flat tuple, which compares with ``==``
    (a NumPy array does not), so a new drawing is a changed parameter and an unchanged one is not; None stays None."""
    return None if array is None else tuple(np.asarray(array).ravel().tolist())


def push_params(run: Run, params: Mapping[str, Any]) -> None:
    """Send widget values that differ from the run's into it; show refusals as errors."""
    current = run.params
    changed = {k: v for k, v in params.items() if current.get(k) != v}
    if not changed:
        return
    try:
        run.update_params(**changed)
    except ValueError as err:
        st.error(f"Not applied: {err}")


def push_params_restarting(run: Run, params: Mapping[str, Any]) -> None:
    """:func:`push_params` for a page whose Reset-time settings take effect at once (chains, examples, the model
    shown): when one of them changed, the run starts again from step 0 with it, keeps playing if it was, and a
    notice names what changed."""
    declared = getattr(run.task, "PARAMS", None)
    resetting = declared.acting(RESET) if declared is not None else ()
    changed = [name for name in resetting if name in params and run.params.get(name) != params[name]]
    push_params(run, params)
    applied = [name for name in changed if run.params.get(name) == params[name]]
    if not applied:
        return
    playing = run.status == RUNNING
    run.reset()
    if playing:
        run.start()
    names = ", ".join(declared[name].label or name for name in applied)
    st.toast(f"{names} changed: the run started again from step 0{' and plays on' if playing else ''}.", icon=":material/restart_alt:")


def run_controls(run: Run, key: str, *, step_label: str = "Step", show_speed: bool = True, default_speed: str = "full speed", export: bool = True,
                 export_plot: str | None = None) -> None:  # fmt: skip
    """The run bar: Play / Pause / Step / Reset buttons, the speed control, (``export``, for a page whose live panel
    returns its picture, or whose Plotly stage plot ``export_plot`` keeps its figures) the Export menu and the Timeline
    (lab.scrubber) on one row (they wrap, never clip), and the run's status line. Keys (lab.stage): Space plays or
    pauses, the right arrow steps, R resets."""
    if st.session_state.pop(f"{key}.preset_pending", False):  # a preset was applied (presets): start again from it
        run.reset()
    running = run.status in (RUNNING, WAITING)
    with st.container(horizontal=True, vertical_alignment="center", key=f"{key}-runbar"):
        if st.button("Play", icon=":material/play_arrow:", key=f"{key}.play", disabled=running or run.status == FAILED, type="primary", help="Key: Space"):
            run.start()
            st.rerun()
        if st.button("Pause", icon=":material/pause:", key=f"{key}.pause", disabled=not running, help="Key: Space"):
            run.pause()
            st.rerun()
        if st.button(step_label, icon=":material/skip_next:", key=f"{key}.step", disabled=running or run.status == FAILED, help="Key: right arrow"):
            run.step(run.speed[1])
        if st.button("Reset", icon=":material/restart_alt:", key=f"{key}.reset", help="Key: R"):
            run.reset()
            st.rerun()
        if show_speed:
            label = st.select_slider(
                "Speed",
                options=list(SPEEDS),
                value=default_speed,
                key=f"{key}.speed",
                bind="query-params",
                persist_state="session",
                label_visibility="collapsed",
                help="Slow motion down to one step every 4 seconds",
                width=120,
            )
            if run.speed[0] != SPEEDS[label]:
                run.set_speed(SPEEDS[label])
        if export:
            stage.export_menu(run, key, plot=export_plot)
        scrubber(run, key)
    status_line(run)


def _limits_text() -> str:
    limits = admission().limits
    parts = ([f"{limits.max_running} run{'s' * (limits.max_running != 1)}"] if limits.max_running else []) + ([f"{limits.per_session} per session"] if limits.per_session else [])
    return " and ".join(parts) or "as many runs as asked"


WAITING_POLL_S = 1.0
"""How often a page waiting for a free worker looks at its place in line."""


def status_line(run: Run) -> None:
    """The run's state in words: its place in line while it waits for a free worker (updated every second, the page
    redrawn when its turn comes), a warning when it paused itself, an error when it failed."""
    if run.status == WAITING:

        @st.fragment(run_every=WAITING_POLL_S)
        def waiting() -> None:
            snap = run.snapshot()  # the page is open: the run keeps its place (engine.admission)
            if snap.status != WAITING:  # its turn came (or it stopped): the run bar changes
                st.rerun()
            place = run.waiting_place()
            if place is None:  # waiting for room in a Ray cluster (engine.ray_run)
                st.info(snap.message, icon=":material/hourglass_top:")
                return
            ahead = "you are next" if place == 1 else f"{place - 1} ahead"
            st.info(f"Waiting for a free worker: {ahead}. This server plays at most {_limits_text()} at once; the run starts by itself. "
                    "Press Pause to leave the line.", icon=":material/hourglass_top:")  # fmt: skip

        waiting()
        return
    snap = run.snapshot()
    if snap.status == FAILED:
        st.error(f"The run failed: {snap.message}. Press Reset to start again.", icon=":material/error:")
    elif snap.message:
        st.warning(snap.message, icon=":material/pause_circle:")


# --------------------------------------------------------------------------- parameter widgets
# Each returns the widget's value. Keys double as URL query parameters: ``prefix.name``.

_BOUND = {"bind": "query-params", "persist_state": "session"}


def widget_label(p: Param) -> str:
    """The label a declaration gets on a page: its title with the symbol, and "· on Reset" when it acts on Reset."""
    return p.title + (" · on Reset" if p.when == RESET else "")


def widget_help(p: Param) -> str:
    """The declaration's help, with what is allowed and when it acts."""
    acts = "Acts when you press Reset." if p.when == RESET else "Acts on the next step."
    allowed = "" if p.kind is bool or p.choices is not None else f" Allowed: {p.allowed()}."
    return f"{p.help}{allowed} {acts}".strip()


def _choice_name(p: Param) -> Callable[[Any], str]:
    return lambda c: p.labels.get(c, f"{c:g}" if isinstance(c, float) else str(c))


def hidden_params() -> frozenset[str]:
    """The parameters a lesson link asks the page not to show: ``?hide=lr,momentum`` (their values still come from the URL)."""
    return frozenset(name.strip() for name in st.query_params.get("hide", "").split(",") if name.strip())


def url_point(key: str, default: tuple[float, float]) -> tuple[float, float]:
    """A 2-D point a page keeps under ``key`` (a clicked start point), in session state and in the URL as
    ``?key=x,y`` so that a lesson link holds it: the session's point, else the link's, else ``default``. A link's
    value that is not two finite numbers is refused with a warning."""
    if key not in st.session_state:
        text, point = st.query_params.get(key), default
        if text is not None:
            try:
                x, y = (float(v) for v in text.split(","))
                if not (np.isfinite(x) and np.isfinite(y)):
                    raise ValueError(text)
                point = (x, y)
            except ValueError:
                st.warning(f"Not applied from the link: {key} = {text!r} is not a point 'x,y'.", icon=":material/link_off:")
        st.session_state[key] = point
    return st.session_state[key]


def set_url_point(key: str, point: tuple[float, float]) -> None:
    """Make ``point``, rounded to the 4 significant digits the URL keeps, the page's ``key`` (see :func:`url_point`)."""
    text = f"{point[0]:.4g},{point[1]:.4g}"
    st.session_state[key] = tuple(float(v) for v in text.split(","))
    st.query_params[key] = text


def url_value(p: Param, key: str, default: Any) -> Any:
    """The value the URL gives ``key`` (as a bound widget writes it: a choice by its label), else ``default``
    (with a warning naming the allowed range when the URL's value is out of it)."""
    text = st.query_params.get(key)
    if text is None:
        return default
    options = p.choices if p.choices is not None else p.ticks
    if options is not None:
        name = _choice_name(p)
        return next((o for o in options if text in (name(o), str(o))), default)
    if p.kind is bool:
        return text.lower() in ("true", "1")
    try:
        value = p.kind(text)
        p.check(value)
    except ValueError as err:
        st.warning(f"Not applied from the link: {err}.", icon=":material/link_off:")
        return default
    return value


def param_widget(params: Params, name: str, prefix: str, *, dataset: str | None = None, horizontal: bool | None = None) -> Any:
    """The widget of one declared parameter, at its starting value for ``dataset``; returns its value.

    Choices become a radio row (``horizontal``, the default for up to three) or a select box;
    a bool a toggle; ``ticks`` a slider over those values; a number with a ``step`` a slider,
    without one a number box. A parameter the URL hides (:func:`hidden_params`) gets no widget: its value
    is the URL's, else its default."""
    p = params[name]
    key, label, help, value = f"{prefix}.{name}", widget_label(p), widget_help(p), p.default_for(dataset)
    if p.per_dataset and dataset is not None:
        seen = f"{key}@dataset"
        if st.session_state.get(seen, dataset) != dataset and key in st.session_state:
            del st.session_state[key]  # a new dataset starts from its own default, as the CLI does
        st.session_state[seen] = dataset
    if name in hidden_params():
        return url_value(p, key, value)
    if p.kind is bool:
        return st.toggle(label, value=value, key=key, help=help, **_BOUND)
    if p.choices is not None:
        options = list(p.choices)
        if horizontal if horizontal is not None else len(options) <= 3:
            return st.radio(label, options, index=options.index(value), key=key, help=help, format_func=_choice_name(p), horizontal=True, **_BOUND)
        return st.selectbox(label, options, index=options.index(value), key=key, help=help, format_func=_choice_name(p), **_BOUND)
    if p.ticks is not None:
        return st.select_slider(label, options=list(p.ticks), value=value, key=key, help=help, format_func=_choice_name(p), **_BOUND)
    if p.step is not None:
        return st.slider(label, min_value=p.kind(p.low), max_value=p.kind(p.high), value=p.kind(value), step=p.kind(p.step), key=key, help=help, **_BOUND)
    return st.number_input(label, min_value=p.kind(p.low), max_value=p.kind(p.high), value=p.kind(value), key=key, help=help, **_BOUND)


def param_row(params: Params, names: Sequence[str], prefix: str, *, dataset: str | None = None, widths: Sequence[float] | None = None, horizontal: Sequence[str] = ()) -> dict[str, Any]:
    """A row of columns, one declared parameter's widget in each; returns {name: value}."""
    cols = st.columns(list(widths) if widths is not None else len(names))
    values = {}
    for col, name in zip(cols, names, strict=True):
        with col:
            values[name] = param_widget(params, name, prefix, dataset=dataset, horizontal=True if name in horizontal else None)
    return values


def param_column(params: Params, names: Sequence[str], prefix: str, *, dataset: str | None = None, horizontal: Sequence[str] = ()) -> dict[str, Any]:
    """Declared parameters' widgets one under the other (the stage's parameter panel); returns {name: value}."""
    return {name: param_widget(params, name, prefix, dataset=dataset, horizontal=True if name in horizontal else None) for name in names}


def param_rest(params: Params, placed: Iterable[str], prefix: str, *, dataset: str | None = None, per_row: int = 4) -> dict[str, Any]:
    """Every declared parameter the page has not placed (less those carrying arrays), in a "More settings"
    expander, ``per_row`` to a row: a parameter added to a declaration shows on every page of its task at once."""
    rest = [p.name for p in params if p.name not in set(placed) and p.kind is not ARRAY]
    if not rest:
        return {}
    values: dict[str, Any] = {}
    with st.expander("More settings", icon=":material/tune:"):
        for start in range(0, len(rest), per_row):
            for col, name in zip(st.columns(per_row), rest[start : start + per_row]):
                with col:
                    values[name] = param_widget(params, name, prefix, dataset=dataset)
    return values


def presets(prefix: str, choices: Mapping[str, Mapping[str, Any]], *, help: str | None = None) -> None:
    """A lesson's named setups: choosing one and pressing Apply sets those widgets (so the URL holds the setup, seed
    included) and restarts the run from them when the run bar is drawn (:func:`run_controls` with the same key)."""

    def apply() -> None:
        values = choices[st.session_state[f"{prefix}.preset"]]
        for name, value in values.items():
            st.session_state[f"{prefix}.{name}"] = value
            if "dataset" in values:  # the preset's own values, not the new dataset's defaults (param_widget)
                st.session_state[f"{prefix}.{name}@dataset"] = values["dataset"]
        st.session_state[f"{prefix}.preset_pending"] = True

    st.selectbox("Lesson preset", list(choices), key=f"{prefix}.preset", help=help, **_BOUND)
    st.button("Apply preset", on_click=apply, icon=":material/tune:", key=f"{prefix}.apply", help="Sets the settings above and restarts the run from them")


def slider(key: str, label: str, min_value: float, max_value: float, value: float, step: float | None = None, help: str | None = None, format: str | None = None) -> Any:
    """A linear slider."""
    return st.slider(label, min_value=min_value, max_value=max_value, value=value, step=step, key=key, help=help, format=format, **_BOUND)


def log_slider(key: str, label: str, options: Sequence[float], value: float, help: str | None = None) -> float:
    """A slider over log-spaced values (learning rates, precisions)."""
    return st.select_slider(label, options=list(options), value=value, key=key, help=help, format_func=lambda v: f"{v:g}", **_BOUND)


def select(key: str, label: str, options: Sequence[Any], value: Any, help: str | None = None, format_func: Callable[[Any], str] = str, horizontal: bool = False) -> Any:
    """A choice among a few options (radio when horizontal, else a select box)."""
    options = list(options)
    if horizontal:
        return st.radio(label, options, index=options.index(value), key=key, help=help, format_func=format_func, horizontal=True, **_BOUND)
    return st.selectbox(label, options, index=options.index(value), key=key, help=help, format_func=format_func, **_BOUND)


def toggle(key: str, label: str, value: bool, help: str | None = None) -> bool:
    """An on/off switch."""
    return st.toggle(label, value=value, key=key, help=help, **_BOUND)


def number(key: str, label: str, min_value: int, max_value: int, value: int, step: int = 1, help: str | None = None) -> int:
    """An integer box (seeds, sizes)."""
    return st.number_input(label, min_value=min_value, max_value=max_value, value=value, step=step, key=key, help=help, **_BOUND)
