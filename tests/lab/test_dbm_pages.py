"""The DBM pages under AppTest: they render on the pretrained MNIST DBM, the step buttons advance the runs,
and out-of-range settings are refused with a message."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import chart_figures, picture_captions

ROOT = Path(__file__).resolve().parents[2]
MEANFIELD = str(ROOT / "pages" / "dbm_meanfield.py")
TRAINING = str(ROOT / "pages" / "dbm_training.py")
SAMPLING = str(ROOT / "pages" / "dbm_sampling.py")
SHARED = ROOT.parent / "shared" / "data"
CHECKPOINT = ROOT / "assets" / "dbm" / "mnist.safetensors"


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def needs_mnist(monkeypatch):
    if not (SHARED / "mnist").exists() or not CHECKPOINT.exists():
        pytest.skip("needs MNIST in ../shared/data and assets/dbm/mnist")
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))


def iteration(at: AppTest) -> int:
    text = next(m.value for m in at.markdown if m.value.startswith("**Iteration"))
    return int(text.split()[1])


def test_meanfield_page_steps_one_iteration(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    assert not at.exception
    assert iteration(at) == 0
    at.button(key="dbm.mf.step").click().run()
    at.button(key="dbm.mf.step").click().run()
    assert not at.exception
    assert iteration(at) == 2
    assert len(chart_figures(at)) == 3


def test_meanfield_page_parallel_schedule_and_damping_apply_live(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    at.radio(key="dbm.mf.schedule").set_value("parallel")
    at.slider(key="dbm.mf.damping").set_value(0.5)
    at.run()
    at.button(key="dbm.mf.step").click().run()
    assert not at.exception
    assert iteration(at) == 1
    at.selectbox(key="dbm.mf.clamp").set_value("top").run()
    assert not at.exception
    assert iteration(at) == 0  # a new setup restarts mean field


def a_drawn_one(shape=(28, 28)):
    """A thick vertical stroke, centred like MNIST: what draw_digit returns for a drawn '1'."""
    image = np.zeros(shape, dtype=np.float32)
    image[5:23, 12:16] = 1.0
    return image


def test_meanfield_page_with_the_draw_source_waits_for_a_drawing(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    at.radio(key="dbm.mf.source").set_value("draw").run()
    assert not at.exception
    assert any("Draw a digit in the sidebar" in i.value for i in at.info)
    assert any("on held-out test image 0" in c.value for c in at.caption)


def test_meanfield_page_runs_mean_field_on_a_drawing(monkeypatch):
    import lab.drawing

    needs_mnist(monkeypatch)
    drawings = iter([a_drawn_one()] * 4 + [np.roll(a_drawn_one(), 4, axis=1)] * 10)
    monkeypatch.setattr(lab.drawing, "draw_digit", lambda key, shape: next(drawings))
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    at.radio(key="dbm.mf.source").set_value("draw").run()
    assert not at.exception
    assert any("on your drawing" in c.value for c in at.caption)
    assert iteration(at) == 0
    at.button(key="dbm.mf.step").click().run()
    assert not at.exception and iteration(at) == 1
    at.selectbox(key="dbm.mf.clamp").set_value("left").run()  # the drawing goes through the clamp like a test image
    assert not at.exception and iteration(at) == 0
    at.button(key="dbm.mf.step").click().run()
    assert iteration(at) == 1
    at.run()  # the user draws again: a new setup, mean field restarts on it
    assert not at.exception and iteration(at) == 0


def test_training_page_trains_digits(monkeypatch):
    at = AppTest.from_file(TRAINING, default_timeout=120).run()
    assert not at.exception
    at.number_input(key="dbm.t.n1").set_value(30)
    at.number_input(key="dbm.t.n2").set_value(20)
    at.number_input(key="dbm.t.greedy_updates").set_value(50)
    at.run()
    at.button(key="dbm.t.reset").click().run()
    for _ in range(3):
        at.button(key="dbm.t.step").click().run()
    assert not at.exception
    assert any("DBM 64-30-20" in c.value for c in at.caption)
    assert any("Phase: greedy RBM 1" in m.value for m in at.markdown)


def test_training_page_shows_the_filters_of_a_third_layer(monkeypatch):
    at = AppTest.from_file(TRAINING, default_timeout=120).run()
    at.number_input(key="dbm.t.n1").set_value(20)
    at.number_input(key="dbm.t.n2").set_value(12)
    at.number_input(key="dbm.t.n3").set_value(10)
    at.number_input(key="dbm.t.greedy_updates").set_value(0)  # straight to joint training
    at.run()
    at.button(key="dbm.t.reset").click().run()
    at.button(key="dbm.t.step").click().run()
    assert not at.exception
    assert any("Phase: joint" in m.value for m in at.markdown)
    captions = picture_captions(at)
    assert "h¹ filters: W¹, 20 of 20 units" in captions
    assert "h² filters, seen in pixel space: W¹W², 12 of 12 units" in captions
    assert "h³ filters, seen in pixel space: W¹W²W³, 10 of 10 units" in captions
    assert any("Each tile is stretched to its own range" in c.value for c in at.caption)


def test_sampling_page_sweeps(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(SAMPLING, default_timeout=120).run()
    assert not at.exception
    at.button(key="dbm.s.step").click().run()
    assert not at.exception
    assert any(m.value.startswith("**Sweep 1") for m in at.markdown)


def test_pages_are_in_the_catalog():
    from lab.catalog import LAB_PAGES

    paths = {p.url_path: p for p in LAB_PAGES}
    for url in ("dbm-meanfield", "dbm-training", "dbm-sampling"):
        assert paths[url].section == "Boltzmann machines" and paths[url].path.exists()


def test_meanfield_page_applies_the_parallel_preset_and_restarts_from_it(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    at.button(key="dbm.mf.step").click().run()
    at.selectbox(key="dbm.mf.preset").set_value("Parallel updates oscillate").run()
    at.button(key="dbm.mf.apply").click().run()
    assert not at.exception
    assert at.radio(key="dbm.mf.schedule").value == "parallel" and at.select_slider(key="dbm.mf.coupling").value == 4.0
    assert at.slider(key="dbm.mf.n_iter").value == 30 and at.slider(key="dbm.mf.damping").value == 0.0
    assert iteration(at) == 0  # started again from the preset
    at.button(key="dbm.mf.step").click().run()
    assert iteration(at) == 1
