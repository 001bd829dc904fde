"""The "Which KL?" page under AppTest: it renders at step 0 with its picture, Step moves q, the presets and the live
settings drive the run, and the readouts never say "nan"."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from tests.lab.conftest import chart_figures, stage_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "inference_kl.py")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def fit_picture(at: AppTest) -> dict:
    """The stage picture's Plotly figure (the first chart; the divergence curves are the second)."""
    (fig,) = stage_figures(at).values()
    return fig


def values(data: object) -> np.ndarray:
    """A Plotly JSON array: a list, or NumPy's bytes as Plotly writes them ({"dtype", "bdata", "shape"})."""
    if isinstance(data, dict):
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        return flat.reshape([int(n) for n in str(data["shape"]).split(",")]) if "shape" in data else flat
    return np.asarray(data, dtype=float)


def q_contour(figure: dict) -> np.ndarray:
    trace = next(t for t in figure["data"] if t.get("name", "").startswith("q:"))
    return np.stack([values(trace["x"]), values(trace["y"])])


def title(figure: dict) -> str:
    return figure["layout"]["title"]["text"]


def readouts(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("KL(q‖p) ="))


def test_page_renders_at_step_0_and_a_step_moves_q():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    before = fit_picture(at)
    assert title(before).endswith("step 0")
    assert "nan" not in readouts(at).lower()
    assert "optimum: **0.8304**" in readouts(at)  # mean field on rho = 0.9: KL(q || p) at variances 1 - rho^2
    at.button(key="kl.step").click().run()
    assert not at.exception
    after = fit_picture(at)
    assert title(after).endswith("step 1")
    assert not np.allclose(q_contour(before), q_contour(after))
    (curves,) = chart_figures(at).values()  # the divergences per step, under the stage picture
    assert len(values(curves["data"][0]["x"])) == 1


def test_forward_kl_preset_switches_to_the_mixture_and_restarts():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="kl.step").click().run()
    at.selectbox(key="kl.preset").set_value("Forward KL covers both modes").run()
    at.button(key="kl.apply").click().run()
    assert not at.exception
    assert at.radio(key="kl.target").value == "mixture"
    assert at.radio(key="kl.divergence").value == "forward"
    figure = fit_picture(at)
    assert "two modes" in title(figure) and title(figure).endswith("step 0")
    assert "optimum" in {t.get("name") for t in figure["data"]}
    assert "KL(p‖q) = **" in readouts(at) and "(minimized)" in readouts(at).split("  \n")[1]


def test_reverse_kl_on_the_mixture_says_there_is_no_closed_form():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="kl.preset").set_value("Reverse KL picks one mode").run()
    at.button(key="kl.apply").click().run()
    at.button(key="kl.step").click().run()
    assert not at.exception
    assert "optimum: no closed form" in readouts(at)
    assert "optimum" not in {t.get("name") for t in fit_picture(at)["data"]}


def test_live_correlation_changes_p_on_the_next_step_and_a_start_change_restarts():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="kl.step").click().run()
    density = values(fit_picture(at)["data"][0]["z"])
    at.slider(key="kl.rho").set_value(0.3).run()
    at.button(key="kl.step").click().run()
    assert not at.exception
    figure = fit_picture(at)
    assert "ρ = 0.3" in title(figure) and title(figure).endswith("step 2")
    assert not np.allclose(density, values(figure["data"][0]["z"]))
    at.slider(key="kl.start_x1").set_value(-2.0).run()
    assert not at.exception
    assert title(fit_picture(at)).endswith("step 0")
    mean = next(t for t in fit_picture(at)["data"] if t.get("name") == "q's mean")
    assert values(mean["x"])[0] == pytest.approx(-2.0, abs=1e-12)
