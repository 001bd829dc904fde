"""``genlab bench classroom`` end to end, small: two Chromium sessions play for a few seconds with runs in threads of
the server and in the actors of a Ray head the bench starts; afterwards no run thread and no actor is left."""

from __future__ import annotations

import importlib.util
import json

import pytest

from lab import cli


def test_a_small_class_plays_on_threads_and_on_ray_and_leaves_nothing_behind(capsys, monkeypatch):
    executors = ["thread"] + (["ray"] if importlib.util.find_spec("ray") else [])
    if len(executors) == 1:
        pytest.skip("Ray is not installed (pip install 'genlab[ray]'): only the thread executor could be measured")
    assert cli.main(["bench", "classroom", "--sessions", "2", "--seconds", "6", "--executors", *executors, "--bench-port", "8791", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for executor in executors:
        measured = result[executor]
        assert [s["page"] for s in measured["sessions"]] == ["rbm?rbm.dataset=digits+8x8", "gibbs"]
        assert all(s["displayed_fps"] > 0.5 for s in measured["sessions"]), measured["sessions"]
        assert 0 < measured["server_rss_mb_max"] < 4096 and len(measured["server_over_time"]) >= 5
        assert measured["run_threads_after_tabs_closed"] == 0 and measured["ray_actors_after_tabs_closed"] == 0
    assert result["thread"]["run_threads_while_playing"] >= 2 and result["thread"]["ray_actors_while_playing"] == 0
    assert result["ray"]["ray_actors_while_playing"] == 2 and result["ray"]["run_threads_while_playing"] == 0
