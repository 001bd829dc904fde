"""The mean-field page under AppTest: it renders with a picture, a step advances mean field, the presets set the
schedule and damping, and the Gaussian part shows its contours."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from tests.lab.conftest import stage_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "inference_meanfield.py")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def picture(at: AppTest) -> dict:
    """The stage picture's Plotly figure (the chart keyed ``mf-picture``) as a dict."""
    return next(fig for key, fig in stage_figures(at).items() if key.endswith("mf-picture"))


def values(column) -> list:
    """A trace's x or y as a list: Plotly sends NumPy arrays base64-encoded (``{"dtype", "bdata"}``)."""
    if isinstance(column, dict):
        return np.frombuffer(base64.b64decode(column["bdata"]), dtype=column["dtype"]).tolist()
    return list(column)


def title(at: AppTest) -> str:
    return picture(at)["layout"]["title"]["text"]


def test_page_renders_a_picture_and_a_step_changes_it():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    before = picture(at)
    assert "iteration 0 of 30" in title(at)
    bars = [t for t in before["data"] if t["type"] == "bar"]
    assert len(bars) == 2 and len(values(bars[0]["y"])) == 4  # mean field and the exact marginals, 4 units
    at.button(key="mf.step").click().run()
    assert not at.exception
    after = picture(at)
    assert "iteration 1 of 30" in title(at)
    assert values(after["data"][0]["y"]) != values(before["data"][0]["y"])  # ĥ moved
    assert len(values(after["data"][2]["y"])) == 2  # the bound at iterations 0 and 1
    assert any("eq. 19.44" in c.value for c in at.caption)
    assert "nan" not in json.dumps(after["layout"]["title"]).lower()


def test_presets_set_the_schedule_and_damping_and_restart():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="mf.step").click().run()
    at.selectbox(key="mf.preset").set_value("Damped parallel updates converge").run()
    at.button(key="mf.apply").click().run()
    assert not at.exception
    assert at.radio(key="mf.schedule").value == "parallel"
    assert at.slider(key="mf.damping").value == 0.5
    assert "iteration 0 of 30" in title(at)  # the preset restarted the run
    at.button(key="mf.step").click().run()
    assert "all units at once" in title(at)


def test_gaussian_part_shows_contours_that_move_one_factor_per_step():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="mf.preset").set_value("Gaussian mean field").run()
    at.button(key="mf.apply").click().run()
    assert not at.exception
    assert "update 0 of 30" in title(at)
    means = [t for t in picture(at)["data"] if t.get("name") == "q's means"][0]
    assert values(means["x"]) == [-1.5] and values(means["y"]) == [2.0]
    at.button(key="mf.step").click().run()
    assert "q(h1) updated" in title(at)
    means = [t for t in picture(at)["data"] if t.get("name") == "q's means"][0]
    ys = values(means["y"])
    assert len(ys) == 2 and ys[1] == ys[0] and values(means["x"])[1] != -1.5  # only h1's mean moved
    assert any("eq. 19.56" in c.value for c in at.caption)
    at.selectbox(key="mf.part").set_value("binary").run()
    assert not at.exception
    assert title(at).startswith("Binary sparse coding, iteration 0")


def test_orthogonal_features_close_the_gap_on_the_page():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="mf.dictionary").set_value("orthogonal").run()
    for _ in range(3):
        at.button(key="mf.step").click().run()
    assert not at.exception
    assert title(at).endswith("gap log p(v) − L = 0.000")


def test_changing_a_reset_parameter_restarts_from_iteration_zero():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="mf.step").click().run()
    at.slider(key="mf.n_hidden").set_value(3).run()
    assert not at.exception
    assert "iteration 0 of 30" in title(at)
    assert len(values([t for t in picture(at)["data"] if t["type"] == "bar"][0]["y"])) == 3


def test_eval_check_reports_the_exact_comparisons():
    from lab.inference.meanfield_check import check

    numbers = check(0, None)
    assert numbers["max_abs_bound_minus_logp_minus_kl"] < 1e-10
    assert numbers["max_bound_minus_log_p"] <= 0.0
    assert numbers["sequential_bound_decreases_over_1e-10"] == 0
    assert numbers["max_fixed_point_residual_after_300_sweeps"] < 1e-10
    assert numbers["orthogonal_max_abs_meanfield_minus_exact_marginals"] < 1e-10
    assert numbers["parallel_bound_decreases_iterations_20_60"] >= 10
    assert numbers["damped_max_abs_minus_sequential_fixed_point"] < 1e-8
    assert numbers["gaussian_max_abs_mean_error"] < 1e-8
    json.dumps(numbers, allow_nan=False)
