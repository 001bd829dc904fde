"""The frame renderer's Python side (lab.frames): the bytes it hands the browser, and what the pages hand it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lab.frames import Frame, pack, pack_keep, unpack
from tests.lab.conftest import live_frames

RBM_PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "rbm.py")


def test_a_batch_round_trips_through_its_bytes_gray_and_colour():
    rng = np.random.default_rng(0)
    gray = [Frame(step, rng.integers(0, 256, (5, 7), dtype=np.uint8), 10.0 + step, f"step {step}") for step in (3, 4, 5)]
    header, frames = unpack(pack(gray, slot="rbm.live.1", width=210))
    assert header["slot"] == "rbm.live.1" and header["width"] == 210 and (header["h"], header["w"], header["channels"]) == (5, 7, 1)
    assert header["steps"] == [3, 4, 5] and header["times"] == [13.0, 14.0, 15.0] and header["captions"] == ["step 3", "step 4", "step 5"]
    for sent, received in zip(gray, frames, strict=True):
        np.testing.assert_array_equal(received, sent.pixels)
    colour = Frame(1, rng.integers(0, 256, (4, 6, 3), dtype=np.uint8))
    header, (received,) = unpack(pack([colour], slot="s", width=60))
    assert header["channels"] == 3 and len(pack([colour], slot="s", width=60)) - len(pack([Frame(1, colour.pixels[..., 0])], slot="s", width=60)) == 2 * 4 * 6
    np.testing.assert_array_equal(received, colour.pixels)


def test_a_batch_is_refused_when_its_frames_differ_or_are_not_uint8_pictures():
    with pytest.raises(ValueError, match="at least one frame"):
        pack([], slot="s", width=10)
    with pytest.raises(ValueError, match="every frame of a batch"):
        pack([Frame(0, np.zeros((4, 4), np.uint8)), Frame(1, np.zeros((4, 5), np.uint8))], slot="s", width=10)
    with pytest.raises(ValueError, match="every frame of a batch"):
        pack([Frame(0, np.zeros((4, 4), np.float32))], slot="s", width=10)
    with pytest.raises(ValueError, match=r"\(H, W\) gray or \(H, W, 3\) colour"):
        pack([Frame(0, np.zeros((4, 4, 4), np.uint8))], slot="s", width=10)


def test_keep_tells_the_browser_nothing_is_new():
    header, frames = unpack(pack_keep("gibbs.live.1"))
    assert header == {"slot": "gibbs.live.1", "keep": True} and frames == []


def test_the_rbm_page_hands_the_canvas_its_filters_as_uint8_frames_of_the_latest_step():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8"})
    at.run()
    assert not at.exception
    shown = live_frames(at)
    assert set(shown) == {"rbm.live.1", "rbm.live.2"}  # the filters and the negative samples
    header, (filters,) = shown["rbm.live.1"]
    assert header["steps"] == [0] and filters.dtype == np.uint8 and "Filters W:,j" in header["captions"][0]
    run = at.session_state["shared.rbm.train"]
    run.step(3)
    at.run()
    header, (filters,) = live_frames(at)["rbm.live.1"]
    assert header["steps"] == [3] and header["captions"][0].endswith("step 3")
    assert header["at_once"]  # a page run's picture is shown at once, even when it is older (a kept moment)
    from lab.rbm.pictures import filter_picture

    np.testing.assert_array_equal(filters, filter_picture(run.snapshot().arrays["filters"]))  # the picture itself, not a PNG of it


def test_with_renderer_png_the_page_draws_pngs_and_no_canvas():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params.update({"rbm.dataset": "digits 8x8", "renderer": "png"})
    at.run()
    assert not at.exception
    assert live_frames(at) == {} and any("Filters W:,j" in i.proto.imgs[0].caption for i in at.get("image"))


def _batch_script():
    """A page that plays a three-step run through one live batch (what a fragment run sends)."""
    import numpy as np
    import streamlit as st

    from engine.run import Run
    from lab import live, views

    class Counter:
        def reset(self, params):
            self.n = 0

        def step(self, params):
            self.n += 1
            return {"n": float(self.n)}

        def arrays(self):
            return {"picture": np.full((2, 3), self.n, dtype=np.uint8)}

    run = Run(Counter(), {})
    start = run.snapshot().version
    run.step()
    run.step()
    run.step()
    token = live._drawing.set(live._Batch("test", run.since(start), "canvas"))
    latest = views.show_frames(lambda s: s.arrays["picture"], run.snapshot(), caption=lambda s: f"step {s.step}")
    live._drawing.reset(token)
    st.session_state["latest"] = latest
    run.close()


def test_a_batch_carries_every_frame_published_since_the_last_one_each_with_its_caption():
    at = AppTest.from_function(_batch_script).run()
    assert not at.exception
    header, frames = live_frames(at)["test.1"]
    assert header["steps"] == [1, 2, 3] and header["captions"] == ["step 1", "step 2", "step 3"]
    assert not header["at_once"]  # a fragment's batch plays after what the browser has
    assert [int(f[0, 0]) for f in frames] == [1, 2, 3]  # each frame as its step left it
    np.testing.assert_array_equal(at.session_state["latest"], np.full((2, 3), 3, np.uint8))
