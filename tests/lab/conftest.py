"""AppTest helpers: every test starts with empty Streamlit caches (no run leaks between tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "lab" / "app.py")


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def short_live_run_benches(monkeypatch):
    """A bench's Run-against-loop contenders run 0.2 s each here: the 2 s of a real bench only matter for its numbers."""
    import lab.run_vs_loop

    monkeypatch.setattr(lab.run_vs_loop, "SECONDS", 0.2)


def live_frames(at) -> dict[str, tuple[dict, list]]:
    """What the page handed the frame renderer (lab.frames) in its last run, per picture slot: the batch's
    header (steps, captions, size) and its frames, read back from the component's bytes."""
    from lab.frames import unpack

    shown = {}
    for element in at.get("bidi_component"):
        if element.proto.component_name.endswith("genlab_frames"):
            header, frames = unpack(element.proto.bytes)
            shown[header["slot"]] = (header, frames)
    return shown


def picture_captions(at) -> list[str]:
    """The caption under every picture: those of ``st.image`` and, for each live canvas, its newest frame's."""
    still = [i.proto.imgs[0].caption for i in at.get("image")]
    return still + [header["captions"][-1] for header, _ in live_frames(at).values() if header.get("captions")]


def shown_pictures(at) -> list[bytes]:
    """Every picture the page shows, as bytes to compare between runs: still images and each canvas's frames."""
    return [i.proto.SerializeToString() for i in at.get("image")] + [b"".join(f.tobytes() for f in frames) for _, frames in live_frames(at).values()]


def _in_place_figures(at) -> dict[str, dict]:
    """Every Plotly figure the page handed its in-place plots (lab.plot_in_place) in its last run, by element id
    (which ends with the plot's key), as the JSON the browser draws."""
    import json

    specs = {}
    for element in at.get("bidi_component"):
        if element.proto.component_name.endswith("genlab_plot"):
            specs[element.proto.id] = json.loads(json.loads(element.proto.json)["figure"])
    return specs


def stage_figures(at) -> dict[str, dict]:
    """The page's stage pictures drawn as in-place Plotly figures, by element id (charts left out)."""
    from lab.views import CHART_SUFFIX

    return {key: fig for key, fig in _in_place_figures(at).items() if not key.endswith(CHART_SUFFIX)}


def chart_figures(at) -> dict[str, dict]:
    """The page's charts (``views.plot``: curves, histograms) as in-place Plotly figures, by element id."""
    from lab.views import CHART_SUFFIX

    return {key: fig for key, fig in _in_place_figures(at).items() if key.endswith(CHART_SUFFIX)}
