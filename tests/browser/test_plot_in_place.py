"""Plotly stage pictures and the charts under them, in Chromium: while a run plays, each is the same plot redrawn in
place (never a new element, never blank), and a click on a plot comes back to the page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception

SAMPLE = """(charts) => {
  const seen = (window.__genlabSeenPlots = window.__genlabSeenPlots || { true: [], false: [] })[charts];
  const plots = [...document.querySelectorAll('.genlab-plot')]
    .filter((plot) => (plot.closest("[class*='st-key-stage-plot-']") === null) === charts);
  const sampled = plots.map((plot) => {
    const svg = plot.querySelector('.main-svg');
    if (!seen.includes(plot)) seen.push(plot);
    return { drawn: Number(plot.dataset.drawn || 0), visible: !!svg && getComputedStyle(svg).visibility !== 'hidden' };
  });
  const gone = seen.filter((plot) => !plot.isConnected);
  return { plots: sampled, gone: gone.map((plot) => plot.querySelector('.gtitle')?.textContent || '(untitled)') };
}"""
"""The stage plots (``charts`` false) or the charts under the stage (true): how often Plotly redrew each and whether its
picture is on screen, and the titles of the plots sampled before that have left the page (a remounted plot is a new element)."""


def _played(page, charts: bool) -> list[dict]:
    """The plots sampled every 250 ms over 4 s of play, from 1.5 s after the first one is drawn (a page adds charts as
    its metrics start: the last update's histogram comes with the first step, GAN 2-D's curves with its first steps)."""
    page.locator("[class*='-runbar'] [class*='-play'] button").first.click()
    page.wait_for_function(f"() => ({SAMPLE})({'true' if charts else 'false'}).plots.length > 0", timeout=60_000)
    page.wait_for_timeout(1_500)
    samples = []
    for _ in range(17):
        samples.append(page.evaluate(SAMPLE, charts))
        page.wait_for_timeout(250)
    page.locator("[class*='-runbar'] [class*='-pause'] button").first.click()
    assert_no_exception(page)
    return samples


def _assert_redrawn_in_place(samples: list[dict], what: str) -> None:
    first, last = samples[0]["plots"], samples[-1]["plots"]
    assert first, f"the page drew no {what}"
    assert not samples[-1]["gone"], f"{what}s mounted anew while the run played: {samples[-1]['gone']}"
    assert all(plot["visible"] for s in samples for plot in s["plots"]), f"a {what} went blank while the run played"
    assert sum(plot["drawn"] for plot in last) >= sum(plot["drawn"] for plot in first) + 3, f"the {what}s were not redrawn"


@pytest.mark.parametrize("path", ["inference-em", "which-kl", "gan-2d"])
def test_a_playing_plot_is_redrawn_in_place_and_never_blank(open_page, path):
    _assert_redrawn_in_place(_played(open_page(path, timeout=120_000), charts=False), "stage plot")


@pytest.mark.parametrize("path", ["rbm?rbm.dataset=digits+8x8", "gibbs?gibbs.model=bars+and+stripes+16-16+%28exact+distribution+known%29", "inference-em", "gan-2d"])
def test_the_charts_under_a_playing_picture_are_redrawn_in_place(open_page, path):
    _assert_redrawn_in_place(_played(open_page(path, timeout=120_000), charts=True), "chart")


def test_a_click_on_the_game_field_starts_the_trajectories_there(open_page):
    page = open_page("gan-game", timeout=120_000)
    plane = page.locator("[class*='st-key-stage-plot-game'] .nsewdrag").first
    plane.wait_for(timeout=60_000)
    box = plane.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    title = page.locator("[class*='st-key-stage-plot-game'] .gtitle").first
    page.wait_for_function("(el) => !el.textContent.startsWith('From (1.00, 0.50)')", arg=title.element_handle(), timeout=30_000)
    start = title.text_content().split("(")[1].split(")")[0]
    x, y = (float(v) for v in start.split(","))
    assert x < 0 < y  # the upper left quarter of the field, which spans [-2, 2] on both axes
    page.wait_for_function("() => new URL(location.href).searchParams.has('game.start')", timeout=30_000)


def test_export_draws_the_kept_figures_into_a_png_with_settings_and_a_gif(open_page, tmp_path):
    import json

    from PIL import Image

    from lab.export import SETTINGS_KEY
    from lab.plot_export import RASTER_SIZE

    page = open_page("inference-em?em.speed=full+speed", timeout=120_000)
    page.locator("[class*='-runbar'] [class*='-play'] button").first.click()
    page.wait_for_timeout(5_000)
    page.locator("[class*='-runbar'] [class*='-pause'] button").first.click()
    page.wait_for_timeout(1_000)
    page.get_by_role("button", name="Export").click()
    with page.expect_download(timeout=60_000) as png:
        page.get_by_role("button", name="Picture (PNG)").click()
    picture = Image.open(png.value.path())
    settings = json.loads(picture.text[SETTINGS_KEY])
    assert settings["page"] == "em" and settings["step"] > 5 and settings["k"] == 3
    assert picture.size == RASTER_SIZE
    assert len(set(picture.convert("L").getdata())) > 20  # a drawn plot, not a blank page
    if not page.get_by_role("button", name="Last 30 frames (GIF)").is_visible():
        page.get_by_role("button", name="Export").click()
    with page.expect_download(timeout=120_000) as gif:
        page.get_by_role("button", name="Last 30 frames (GIF)").click()
    animation = Image.open(gif.value.path())
    assert 2 <= animation.n_frames <= 30 and json.loads(animation.info["comment"])["step"] == settings["step"]
    if not page.get_by_role("button", name="Whole timeline (GIF)").is_visible():
        page.get_by_role("button", name="Export").click()
    with page.expect_download(timeout=120_000) as timeline:
        page.get_by_role("button", name="Whole timeline (GIF)").click()
    whole = Image.open(timeline.value.path())
    steps = json.loads(whole.info["comment"])["steps"]
    assert steps[0] == 0 and len(steps) >= 3 and steps == sorted(set(steps))  # step 0, landmarks, the recent ones
    assert 2 <= whole.n_frames <= len(steps)  # Pillow merges frames that repeat the one before (a converged EM)
    assert whole.size == RASTER_SIZE


def test_the_game_exports_its_picture_with_settings_and_its_animation_frame_by_frame(open_page):
    import json

    from PIL import Image

    from lab.export import SETTINGS_KEY
    from lab.plot_export import RASTER_SIZE

    page = open_page("gan-game?game.steps=100&game.start=-1.0,0.5", timeout=120_000)
    export = page.locator("[class*='st-key-game-runbar']").get_by_role("button", name="Export")
    export.click()
    with page.expect_download(timeout=60_000) as png:
        page.get_by_role("button", name="Picture (PNG)").click()
    picture = Image.open(png.value.path())
    settings = json.loads(picture.text[SETTINGS_KEY])
    assert settings["page"] == "game" and settings["step"] == 100 and settings["steps"] == 100 and settings["start"] == [-1.0, 0.5]
    assert picture.size == RASTER_SIZE and len(set(picture.convert("L").getdata())) > 20
    if not page.get_by_role("button", name="Animation (GIF)").is_visible():
        export.click()
    with page.expect_download(timeout=120_000) as gif:
        page.get_by_role("button", name="Animation (GIF)").click()
    animation = Image.open(gif.value.path())
    shown = json.loads(animation.info["comment"])["frame_steps"]
    assert shown == sorted(set(shown)) and len(shown) == 40 and shown[-1] == 100  # the 40 frames Play shows
    assert animation.n_frames == 40  # each frame draws more of the path: none repeats the one before
