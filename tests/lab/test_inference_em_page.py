"""The EM page under AppTest: it renders its picture at once, a half-step changes the picture's data (the E-step
recolours the points, the M-step moves the ellipses), presets and widgets drive the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tests.lab.conftest import stage_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "inference_em.py")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def scene(at: AppTest) -> dict:
    """The stage picture's figure (its Plotly JSON)."""
    return next(fig for key, fig in stage_figures(at).items() if key.endswith("em.scene"))


def point_colours(fig: dict) -> list:
    return fig["data"][0]["marker"]["color"]


def first_mean(fig: dict) -> tuple:
    mean = next(t for t in fig["data"] if t.get("marker", {}).get("symbol") == "x")
    return mean["x"][0], mean["y"][0]


def caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "Gap KL" in c.value)


def test_the_page_opens_with_its_picture_and_a_half_step_changes_it():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    start = scene(at)
    assert "uniform q" in caption(at) and "nan" not in caption(at)
    at.button(key="em.step").click().run()  # the E-step: q changes, θ does not
    after_e = scene(at)
    assert point_colours(after_e) != point_colours(start) and first_mean(after_e) == first_mean(start)
    assert "after the E-step" in caption(at)
    at.button(key="em.step").click().run()  # the M-step: θ changes
    after_m = scene(at)
    assert first_mean(after_m) != first_mean(after_e)
    assert "after the M-step" in caption(at)
    assert not at.exception


def test_a_preset_sets_the_widgets_and_restarts_the_run():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="em.step").click().run()
    at.selectbox(key="em.preset").set_value("A bad start finds a local optimum").run()
    at.button(key="em.apply").click().run()
    assert not at.exception
    assert at.radio(key="em.init").value == "bad" and at.number_input(key="em.seed").value == 2
    assert "uniform q" in caption(at)


def test_a_partial_e_step_leaves_a_gap_and_more_components_draw_more_ellipses():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.slider(key="em.e_fraction").set_value(0.2).run()
    at.button(key="em.step").click().run()
    gap = float(caption(at).split("Gap KL(q ‖ p(h|v)) = ")[1].split(" ")[0])
    assert gap > 1e-3
    at.slider(key="em.k").set_value(5).run()  # on Reset: the run starts again with 5 components
    assert not at.exception
    assert sum(t.get("marker", {}).get("symbol") == "x" for t in scene(at)["data"]) == 5
