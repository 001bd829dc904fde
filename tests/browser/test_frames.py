"""The frame renderer in Chromium: every live image page draws its picture on a canvas that changes after Play,
and frames that come faster than the browser draws are dropped, never queued without bound."""

from __future__ import annotations

import pytest

from lab.frames import MAX_QUEUED
from lab.live_bench import PAGES
from tests.browser.conftest import assert_no_exception, image_sources, wait_for_new_image

WITHOUT_DATA = {"rbm": "?rbm.dataset=digits+8x8", "gibbs": "?gibbs.model=bars+and+stripes+16-16+%28exact+distribution+known%29"}
"""Settings that open these pages on data every machine has (CI has no MNIST)."""

PLAYERS = """() => Object.fromEntries(Object.entries(window.__genlabPlayers || {}).map(
    ([slot, p]) => [slot, { queued: p.queue.length, drawn: p.drawn, dropped: p.dropped }]))"""


def main_canvas_or_skip(page, path: str):
    canvas = page.locator(".st-key-stage-picture canvas.genlab-frame")
    try:
        canvas.first.wait_for(timeout=60_000)
    except Exception:
        if page.get_by_text("genlab data fetch").count():
            pytest.skip(f"{path} needs data this machine does not have")
        raise
    return canvas


@pytest.mark.parametrize("path", PAGES)
def test_the_live_picture_is_a_canvas_that_changes_after_play(open_page, path):
    page = open_page(f"{path}{WITHOUT_DATA.get(path, '')}", timeout=120_000)
    canvas = main_canvas_or_skip(page, path)
    assert page.locator(".st-key-stage-picture [data-testid='stImage']").count() == 0  # no server-side PNG in the live slot
    width, height = canvas.first.evaluate("c => [c.width, c.height]")
    assert width > 20 and height > 20
    before = image_sources(page)
    page.locator("[class*='-runbar'] [class*='-play'] button").first.click()
    wait_for_new_image(page, before, timeout=60)
    assert_no_exception(page)
    players = page.evaluate(PLAYERS)
    assert players and all(p["drawn"] >= 1 for p in players.values())
    page.locator("[class*='-runbar'] [class*='-pause'] button").first.click()


def test_frames_faster_than_the_browser_draws_are_dropped_and_memory_stays_flat(open_page, page):
    page = open_page(f"gibbs{WITHOUT_DATA['gibbs']}&gibbs.fps=60", timeout=120_000)
    main_canvas_or_skip(page, "gibbs")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 8})  # a browser far slower than the frames it is sent
    page.locator("[class*='-runbar'] [class*='-play'] button").first.click()
    heaps, queues = [], []
    for _ in range(6):
        page.wait_for_timeout(10_000)
        cdp.send("HeapProfiler.collectGarbage")  # what stays, not garbage waiting for the collector
        heaps.append(page.evaluate("performance.memory.usedJSHeapSize"))
        queues.append(max(p["queued"] for p in page.evaluate(PLAYERS).values()))
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    players = page.evaluate(PLAYERS)
    assert_no_exception(page)
    assert max(queues) <= MAX_QUEUED
    assert sum(p["dropped"] for p in players.values()) > 0  # the browser could not keep up, and skipped frames
    assert heaps[-1] < 1.5 * heaps[0] + 8e6, f"JS heap after collection went {[round(h / 1e6, 1) for h in heaps]} MB, 10 s apart"
