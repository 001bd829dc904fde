"""Real-browser tests: Debian's Chromium, driven by pytest-playwright, against a real lab.

One ``streamlit run lab/app.py --server.headless true`` is started per test session on
a free port; ``open_page`` loads a page and waits until its script has finished;
``shoot`` saves a screenshot under ``screenshots/`` (git-ignored) to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lab.cli import serve_command

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use Debian's chromium (Playwright cannot download its own browser here)."""
    exe = os.environ.get("GENLAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium not found: install Debian's `chromium` (make test does it) or set GENLAB_CHROMIUM")
    return {**browser_type_launch_args, "executable_path": exe, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # tall enough that a whole lab page fits: Streamlit scrolls inside its own container, so a
    # "full page" screenshot is only as tall as the viewport
    return {**browser_context_args, "viewport": {"width": 1600, "height": 2400}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory):
    """Base URL of a lab served by a real ``streamlit run`` for this test session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("lab") / "streamlit.log"
    env = {**os.environ, "GENLAB_THREADS": os.environ.get("GENLAB_THREADS", "1")}
    shared = ROOT.parent / "shared" / "data"
    if "GENLAB_DATA" not in env and shared.exists():
        env["GENLAB_DATA"] = str(shared)  # the real MNIST test split and Frey faces, when the checkout has them
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


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_idle(page, timeout: float = 60_000, settle_ms: int = 500) -> None:
    """Wait until the page's script run has finished (fragments may keep ticking).

    Streamlit may stop a run and start another at once (a rerun, a URL fixed up by
    navigation); between the two the app reads "notRunning" for a moment. So the idle
    state must hold for ``settle_ms`` before it counts.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        page.wait_for_selector(IDLE, timeout=max(1.0, (deadline - time.monotonic()) * 1000))
        page.wait_for_timeout(settle_ms)
        if page.locator(IDLE).count() == 1:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the page did not settle within {timeout / 1000:.0f} s")


def assert_no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, f"exception on page: {errors.first.inner_text()}"


@pytest.fixture
def open_page(page, lab_url):
    """``open_page(url_path)``: load a lab page, wait until its first script run has drawn and finished, check it raised nothing."""

    def _open(url_path: str = "", timeout: float = 60_000):
        page.goto(f"{lab_url}/{url_path}", wait_until="domcontentloaded")
        page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
        # every page starts with st.title: its h1 proves the script run has begun, so the idle state
        # waited for next is the end of that run, not the moment before it starts
        page.wait_for_selector("[data-testid='stMain'] h1", timeout=timeout)
        wait_idle(page, timeout)
        assert_no_exception(page)
        return page

    return _open


@pytest.fixture
def shoot():
    """``shoot(page, name)``: save a full-page screenshot to screenshots/<name>.png and return its path."""

    def _shoot(page, name: str) -> Path:
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot


PICTURES = "[data-testid='stImage'] img, canvas.genlab-frame"
"""Every picture on a page: still ones (``st.image``) and live ones (the canvases of lab.frames)."""


def image_sources(page, selector: str = PICTURES) -> list[str]:
    """Which frame every visible picture on the page shows: an image's ``src`` (Streamlit serves each new picture
    under a new URL) or a canvas's ``data-frame`` (the step and time of the frame it drew), so a live picture that
    changed reads differently."""
    # read in one go in the page: a rerun may replace images between a per-element listing and its reads
    return page.locator(selector).evaluate_all(
        "pictures => pictures.filter(p => p.getBoundingClientRect().width > 0).map(p => p.getAttribute('src') || p.dataset.frame)"
    )


def wait_for_new_image(page, before: list[str], timeout: float = 20.0, selector: str = PICTURES) -> list[str]:
    """Poll until the page's image sources differ from ``before``; return them (fail on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = image_sources(page, selector)
        if now and now != before:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"no picture changed within {timeout} s")
