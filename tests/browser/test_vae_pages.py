"""The VAE pages in a real browser: each renders, the manifold changes after Play, a click in the latent plane decodes.

The lab here is served with ``GENLAB_DATA=../shared/data`` (its own server, started once for this module)
so that the pages that show held-out images have them; without that folder those tests skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lab.cli import serve_command
from tests.browser.conftest import assert_no_exception, image_sources, wait_for_new_image, wait_idle

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
PAGES = ("vae-manifold", "vae-latent", "vae-posterior", "vae-training")


@pytest.fixture(scope="module")
def vae_lab(tmp_path_factory):
    if not (SHARED / "mnist").exists():
        pytest.skip("../shared/data is absent")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("vae-lab") / "streamlit.log"
    env = {**os.environ, "GENLAB_THREADS": "1", "GENLAB_DATA": str(SHARED)}
    cmd = serve_command(port, headless=True) + ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the lab did not start:\n{log.read_text()}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def open_vae(page, url: str, path: str):
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_timeout(500)
    wait_idle(page, 120_000)
    assert_no_exception(page)
    return page


@pytest.mark.parametrize("path", PAGES)
def test_every_vae_page_renders(page, vae_lab, shoot, path):
    open_vae(page, vae_lab, path)
    page.locator("[data-testid='stImage'], .js-plotly-plot").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    shoot(page, path)


def test_manifold_changes_after_play(page, vae_lab):
    open_vae(page, vae_lab, "vae-manifold?vae.data=8x8+digits")
    page.locator("[data-testid='stImage']").first.wait_for(timeout=60_000)
    before = image_sources(page)
    page.locator("button:has-text('Play'):not([disabled])").first.click()
    wait_for_new_image(page, before)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    assert "Live: step" in page.locator("[data-testid='stImage']").first.inner_text()
    page.locator("button:has-text('Pause')").first.click()


def test_click_in_the_latent_plane_decodes_there(page, vae_lab):
    open_vae(page, vae_lab, "vae-latent")
    decoded = page.locator("[data-testid='stImage']", has_text="decoded at z")
    decoded.wait_for(timeout=60_000)
    assert "(the star)" in decoded.inner_text()
    before = image_sources(page)
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.15 * box["height"])
    wait_for_new_image(page, before)
    wait_idle(page, 60_000)
    assert_no_exception(page)
    caption = decoded.inner_text()
    assert caption.startswith("decoded at z = (") and "(the star)" not in caption


def test_a_drawn_digit_is_encoded(page, vae_lab):
    open_vae(page, vae_lab, "vae-latent?vae.latent.src=my+drawing")
    page.locator("[data-testid='stImage']", has_text="decoded at z").wait_for(timeout=60_000)
    canvas = page.locator("[data-testid='stSidebar'] canvas").last
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 60, y + 60)
    page.mouse.down()
    for t in range(20):
        page.mouse.move(x + 60 + 8 * t, y + 60)
    for t in range(20):
        page.mouse.move(x + 220 - 5 * t, y + 60 + 9 * t)
    page.mouse.up()
    page.wait_for_timeout(2000)
    wait_idle(page, 60_000)
    assert_no_exception(page)
    assert page.get_by_text("your drawing (the star)").count() == 1
