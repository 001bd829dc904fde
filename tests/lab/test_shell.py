"""The app shell under AppTest: Home renders, and the shared run controls and live panel drive a run."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lab.catalog import LAB_PAGES
from tests.lab.conftest import APP


def test_home_renders_without_exception():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Generative Models Lab"
    assert any("Computing on" in c.value for c in at.caption)


def test_every_catalog_page_renders():
    at = AppTest.from_file(APP, default_timeout=120).run()
    for page in LAB_PAGES:
        at.switch_page(str(page.path)).run()
        assert not at.exception, f"{page.title}: {at.exception}"


def counter_page():
    """A page wired exactly like a model page, around a task whose steps are known."""
    import numpy as np
    import streamlit as st

    from lab import controls, live, views

    class Counter:
        def check_params(self, p):
            if p["increment"] > 100:
                raise ValueError("increment must be at most 100")

        def reset(self, p):
            self.n = 0

        def step(self, p):
            self.n += p["increment"]
            return {"n": self.n}

        def arrays(self):
            return {"picture": np.full((4, 4), self.n % 256, dtype=np.uint8)}

    increment = controls.number("demo.inc", "Increment", 0, 1000, 1)
    run = controls.session_run("demo", Counter, {"increment": increment})
    controls.push_params(run, {"increment": increment})
    controls.run_controls(run, "demo")

    def draw(snap):
        st.markdown(f"step {snap.step} n {snap.latest('n', 0):.0f}")
        views.show_image(snap.arrays["picture"])

    live.live_panel(run, draw, key="demo")


def markdown_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_step_button_and_live_parameter_change():
    at = AppTest.from_function(counter_page, default_timeout=30).run()
    assert not at.exception
    assert "step 0 n 0" in markdown_text(at)
    at.button(key="demo.step").click().run()
    assert "step 1 n 1" in markdown_text(at)
    at.number_input(key="demo.inc").set_value(10).run()
    at.button(key="demo.step").click().run()
    assert "step 2 n 11" in markdown_text(at)


def test_out_of_range_parameter_shows_an_error_and_keeps_the_old_value():
    at = AppTest.from_function(counter_page, default_timeout=30).run()
    at.number_input(key="demo.inc").set_value(500).run()
    assert any("increment must be at most 100" in e.value for e in at.error)
    at.button(key="demo.step").click().run()
    assert "step 1 n 1" in markdown_text(at)


def test_play_pause_reset():
    import time

    at = AppTest.from_function(counter_page, default_timeout=30).run()
    at.button(key="demo.play").click().run()
    assert at.button(key="demo.play").disabled and not at.button(key="demo.pause").disabled
    time.sleep(0.3)
    at.run()  # AppTest does not tick run_every: a rerun draws the latest snapshot
    assert "step 0 " not in markdown_text(at)
    at.button(key="demo.pause").click().run()
    assert not at.button(key="demo.play").disabled
    at.button(key="demo.reset").click().run()
    assert "step 0 n 0" in markdown_text(at)
