"""The timeline's GIF: the panel learns which function drew its picture (also for a pair's two sides), and draws
every kept moment with it."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from engine.pair import Comparison, side_of
from engine.run import Run, Snapshot
from lab import live, stage
from tests.counter import Counter
from tests.lab.conftest import ROOT


def test_timeline_pictures_draw_every_kept_moment_and_now():
    run = Run(Counter(), {})
    for _ in range(27):
        run.step(1)
    kept = stage.timeline_pictures(run, lambda moments: [np.full((2, 3), s.arrays["n"][0], np.uint8) for s in moments])
    steps = [step for step, _ in kept]
    assert {0, 1, 2, 5, 10, 20, 27} <= set(steps) and steps == sorted(steps) and steps[-1] == 27
    assert all((p == step).all() for step, p in kept)
    run.close()


def _snap(step: int, arrays: dict) -> Snapshot:
    return Snapshot(step, step, 0.0, "paused", "", {}, arrays, {})


def test_the_maker_of_a_sides_picture_is_composed_with_its_view():
    comparison = Comparison("x", {"k": 1}, {"k": 2})
    snaps = [_snap(3, {"A/n": np.array([1]), "B/n": np.array([2])})]
    token = live._drawing.set(live._Batch("panel", snaps, "canvas"))
    try:
        drawn = {}
        for side in ("A", "B"):
            with live.viewing(side, lambda s, side=side: side_of(s, side, comparison)):
                seen = side_of(snaps[0], side, comparison)
                picture = np.full((1, 1), seen.arrays["n"][0])
                live.made(lambda s: np.full((1, 1), s.arrays["n"][0]), picture)
                drawn[side] = picture
        later = _snap(9, {"A/n": np.array([5]), "B/n": np.array([7])})
        assert live.maker(drawn["A"])(later)[0, 0] == 5 and live.maker(drawn["B"])(later)[0, 0] == 7
        assert live.maker(np.zeros(1)) is None
    finally:
        live._drawing.reset(token)


def test_the_export_menu_offers_the_timeline_once_the_picture_was_drawn():
    at = AppTest.from_file(str(ROOT / "pages" / "rbm.py"), default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8", "rbm.compare": "CD-1 against PCD"})
    at.run()
    for _ in range(3):
        at.button(key="rbm.step").click().run()
    assert not at.exception
    assert "rbm-timeline-gif" in [b.key for b in at.get("download_button")]
