"""``genlab bench history``: the timeline's cost on the training rate and its memory, as strict JSON."""

from __future__ import annotations

import json

import pytest

from lab import cli, history_bench


def test_history_bench_reports_both_rates_and_the_timelines_memory(capsys, monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", "1")
    assert cli.main(["bench", "history", "--pages", "gan-2d", "--repeats", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    gan = result["gan-2d"]
    assert gan["with_timeline_steps_per_s"] > 0 and gan["without_steps_per_s"] > 0
    assert gan["with_vs_without"] == pytest.approx(gan["with_timeline_steps_per_s"] / gan["without_steps_per_s"], abs=2e-3)
    assert gan["task_copy_bytes"] > 0 and gan["picture_bytes"] > 0 and gan["moments_with_copies_at_cap"] >= 1
    held = gan["held_when_paused"]
    assert held["moments"] >= 2 and 0 < held["timeline_bytes"] <= gan["cap_bytes"] and held["resumable"] >= 1


def test_history_bench_refuses_unknown_pages():
    with pytest.raises(ValueError, match="unknown pages"):
        history_bench.run_bench(["nope"])
