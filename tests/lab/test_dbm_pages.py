"""The DBM pages under AppTest: they render on the pretrained MNIST DBM, the step buttons advance the runs,
and out-of-range settings are refused with a message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    assert len(at.get("plotly_chart")) == 3


def test_meanfield_page_parallel_schedule_and_damping_apply_live(monkeypatch):
    needs_mnist(monkeypatch)
    at = AppTest.from_file(MEANFIELD, default_timeout=120).run()
    at.radio(key="dbm.mf.schedule").set_value("parallel")
    at.slider(key="dbm.mf.damping").set_value(0.5)
    at.run()
    at.button(key="dbm.mf.step").click().run()
    assert not at.exception
    assert iteration(at) == 1
    at.selectbox(key="dbm.mf.clamp").set_value("top half").run()
    assert not at.exception
    assert iteration(at) == 0  # a new setup restarts mean field


def test_training_page_trains_digits(monkeypatch):
    at = AppTest.from_file(TRAINING, default_timeout=120).run()
    assert not at.exception
    at.number_input(key="dbm.t.n1").set_value(30)
    at.number_input(key="dbm.t.n2").set_value(20)
    at.number_input(key="dbm.t.greedy").set_value(50)
    at.run()
    at.button(key="dbm.t.reset").click().run()
    for _ in range(3):
        at.button(key="dbm.t.step").click().run()
    assert not at.exception
    assert any("DBM 64-30-20" in c.value for c in at.caption)
    assert any("Phase: greedy RBM 1" in m.value for m in at.markdown)


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
