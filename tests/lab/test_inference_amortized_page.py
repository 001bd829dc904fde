"""The amortization-gap page under AppTest: without MNIST it shows how to fetch it; with it, it renders the stage
picture on a small set, a Step moves the optimized q, a preset and the step size drive the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from tests.lab.conftest import stage_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "inference_amortized.py")
SHARED = ROOT.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="../shared/data/mnist is absent")
SMALL = {"amortized.n_images": "5"}


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", "1")
    if SHARED.exists():
        monkeypatch.setenv("GENLAB_DATA", str(SHARED))


def page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def stage_spec(at: AppTest) -> dict:
    """The stage picture's Plotly figure (the one whose subplot titles name p(z|x))."""
    specs = stage_figures(at).values()
    return next(s for s in specs if any("p(z|x) and q" in a.get("text", "") for a in s["layout"].get("annotations", [])))


def optimized_mean(spec: dict) -> tuple[float, float]:
    marker = [t for t in spec["data"] if t.get("legendgroup") == "optimized q" and t.get("mode") == "markers"][0]
    return marker["x"][0], marker["y"][0]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_without_mnist_the_page_says_how_to_fetch_it(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    at = page()
    assert not at.exception
    assert any("genlab data fetch mnist" in i.value for i in at.info)


@needs_mnist
def test_a_step_moves_the_optimized_q_and_opens_a_gap():
    at = page(**SMALL)
    assert not at.exception and not at.error
    before = stage_spec(at)
    assert metric(at, "Amortization gap") == "0.00"  # step 0: the optimized q starts at the encoder's
    at.button(key="amortized.step").click().run()
    assert not at.exception
    after = stage_spec(at)
    assert optimized_mean(after) != optimized_mean(before)
    assert any("step 1" in a["text"] for a in after["layout"]["annotations"])
    assert float(metric(at, "Amortization gap")) > 0.0
    assert "nan" not in " ".join(m.value for m in at.metric).lower()


@needs_mnist
def test_a_preset_shows_image_18_of_a_set_of_20():
    at = page()
    at.selectbox(key="amortized.preset").set_value("The encoder misses (image 18)")
    at.button(key="amortized.apply").click().run()
    assert not at.exception
    assert at.number_input(key="amortized.index").value == 18
    assert any("x (image 18)" in a["text"] for a in stage_spec(at)["layout"]["annotations"])


@needs_mnist
def test_a_larger_step_size_climbs_faster():
    gains = {}
    for lr in (0.01, 0.2):
        at = page(**SMALL, **{"amortized.lr": str(lr)})
        at.button(key="amortized.step").click().run()
        assert not at.exception
        gains[lr] = float(metric(at, "Amortization gap"))
    assert gains[0.2] > gains[0.01] > 0.0
