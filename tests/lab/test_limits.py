"""A shared server's limits (lab.limits): from the environment, and a page waiting in line says so."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from engine.admission import Limits
from engine.run import RUNNING, Run
from lab import cli, limits
from tests.counter import Counter
from tests.lab.conftest import ROOT


@pytest.fixture
def fresh_admission(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    limits.admission.cache_clear()
    yield
    limits.admission.cache_clear()


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(limits.MAX_RUNS_ENV, raising=False)
    monkeypatch.delenv(limits.PER_SESSION_ENV, raising=False)
    assert limits.limits_from_env() == Limits(None, limits.PER_SESSION)
    monkeypatch.setenv(limits.MAX_RUNS_ENV, "12")
    monkeypatch.setenv(limits.PER_SESSION_ENV, "0")
    assert limits.limits_from_env() == Limits(12, None)
    monkeypatch.setenv(limits.MAX_RUNS_ENV, "a dozen")
    with pytest.raises(ValueError, match="GENLAB_MAX_RUNS must be a whole number"):
        limits.limits_from_env()


def test_the_cli_refuses_a_negative_limit(capsys):
    assert cli.main(["--max-runs", "-1", "--headless"]) == 2
    assert "--max-runs must be 0 (no limit) or more" in capsys.readouterr().err


def test_a_page_past_the_servers_limit_waits_in_line_and_plays_when_a_worker_is_free(fresh_admission, monkeypatch):
    monkeypatch.setenv(limits.MAX_RUNS_ENV, "1")
    other = Run(Counter(), {}, admission=limits.admission(), session="another student")
    other.start()
    at = AppTest.from_file(str(ROOT / "pages" / "rbm.py"), default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8"})
    at.run()
    at.button(key="rbm.play").click().run()
    assert not at.exception
    waiting = [i.value for i in at.info if "Waiting for a free worker" in i.value]
    assert waiting and "you are next" in waiting[0] and "at most 1 run and 3 per session at once" in waiting[0]
    assert not at.button(key="rbm.pause").disabled and at.button(key="rbm.play").disabled
    other.pause()
    at.run()
    assert not [i for i in at.info if "Waiting for a free worker" in i.value]
    assert limits.admission().running == 1 and other.status != RUNNING
    at.button(key="rbm.pause").click().run()
    assert limits.admission().running == 0
    other.close()
