"""Lesson links: ``hide=`` takes settings off the page while the URL still sets them; the Link menu holds the setup."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

RBM_PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "rbm.py")


def test_hidden_settings_have_no_widget_and_take_their_values_from_the_url():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8", "rbm.lr": "0.3", "rbm.k": "5", "hide": "lr,k,momentum"})
    at.run()
    assert not at.exception
    keys = {w.key for w in at.select_slider} | {w.key for w in at.slider}
    assert {"rbm.lr", "rbm.k", "rbm.momentum"}.isdisjoint(keys) and "rbm.batch_size" in keys
    run = at.session_state["shared.rbm.train"]
    assert run.params["dataset"] == "digits" and run.params["lr"] == 0.3 and run.params["k"] == 5 and run.params["momentum"] == 0.5


def test_a_hidden_setting_out_of_range_is_refused_with_its_range():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8", "rbm.k": "99", "hide": "k"})
    at.run()
    assert not at.exception and any("Not applied from the link: k must be between 1 and 25, got 99" in w.value for w in at.warning)
    assert at.session_state["shared.rbm.train"].params["k"] == 1


def test_a_preset_sets_its_widgets_and_the_url_and_restarts_the_run_from_them():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8"})
    at.run()
    run = at.session_state["shared.rbm.train"]
    run.step(5)
    at.selectbox(key="rbm.preset").set_value("Learning rate too large").run()
    at.button(key="rbm.apply").click().run()
    assert not at.exception
    assert at.select_slider(key="rbm.lr").value == 3.0 and at.slider(key="rbm.momentum").value == 0.9
    assert run.params["lr"] == 3.0 and run.params["momentum"] == 0.9 and run.params["batch_size"] == 10 and run.params["method"] == "cd"
    assert run.snapshot().step == 0  # started again from the preset's seed
    assert at.query_params["rbm.lr"] == "3" and at.query_params["rbm.batch_size"] == "10"  # the link holds the setup


GAME_PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "gan_game.py")


def test_the_a_b_game_takes_its_start_points_and_update_rules_from_the_link():
    at = AppTest.from_file(GAME_PAGE, default_timeout=60)
    at.query_params.update({"game.start": "-1.5,2", "dirac.start": "0.25,-0.75", "game.rules": "alternating GD"})
    at.run()
    assert not at.exception
    assert at.session_state["game.start"] == (-1.5, 2.0) and at.session_state["dirac.start"] == (0.25, -0.75)
    assert list(at.dataframe[0].value["rule"]) == ["alternating GD"]


def test_a_start_point_that_is_not_two_numbers_is_refused_and_the_default_stands():
    at = AppTest.from_file(GAME_PAGE, default_timeout=60)
    at.query_params.update({"game.start": "1,nan"})
    at.run()
    assert not at.exception and any("Not applied from the link: game.start = '1,nan'" in w.value for w in at.warning)
    assert at.session_state["game.start"] == (1.0, 0.5)


def test_a_clicked_point_goes_into_the_link_rounded_as_the_link_keeps_it():
    def page() -> None:
        from lab import controls as ui

        ui.set_url_point("game.start", (0.123456, -1.987654))

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.query_params["game.start"] == "0.1235,-1.988" and at.session_state["game.start"] == (0.1235, -1.988)
