"""``genlab bench memory``: what a lab server holds for its browser sessions, measured in headless Chromium.

One lab server is started (as ``genlab`` starts it). Its resident memory (RSS, from /proc) is read

- at start, before any session;
- after one session has opened every lab page in turn (each page until its script run has finished and its
  picture is drawn), and again once that session has sat on the home page for ``settle`` seconds, so that the
  runs it left behind have paused and released what they release (engine.run, lab.controls);
- after ``sessions`` more sessions each play the RBM training page (CD-1 on the 8x8 digits every machine has)
  for ``settle`` seconds: the cost of each additional active session;
- after every tab has closed, once the server has ended their sessions (Streamlit keeps a disconnected session
  for ``server.disconnectedSessionTTL``, 120 s by default, in case its tab reconnects): the bench waits until no run
  thread (``genlab-run``) is left, up to ``release_timeout`` seconds, and says how long that took.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.run import OS_THREAD_NAME
from lab.cli import serve_command
from lab.live_bench import wait_healthy

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
ACTIVE_PAGE = "rbm?rbm.dataset=digits+8x8"
"""The page each additional session plays: the RBM on data every machine has."""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def run_threads(pid: int) -> int:
    """How many of the process's threads are run threads (named :data:`engine.run.OS_THREAD_NAME`; the OpenMP
    threads a run thread starts carry its name too)."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == OS_THREAD_NAME.decode():
                count += 1
        except OSError:  # the thread ended while we looked
            pass
    return count


def _open(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=180_000)
    page.wait_for_selector(IDLE, timeout=180_000)
    return page


def run_bench(sessions: int, settle: float, chromium: str | None, port: int, release_timeout: float = 300.0) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from lab.catalog import LAB_PAGES

    if sessions < 0 or settle <= 0:
        raise ValueError(f"--sessions must be >= 0 and --settle > 0, got {sessions} and {settle}")
    exe = chromium or os.environ.get("GENLAB_CHROMIUM") or "/usr/bin/chromium"
    if not Path(exe).exists():
        raise OSError(f"Chromium not found at {exe}: install Debian's chromium or pass --chromium PATH")
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(serve_command(port, headless=True) + ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    pid = server.pid
    per_page: dict[str, float] = {}
    try:
        wait_healthy(url)
        at_start = rss_mb(pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            first = browser.new_context(viewport={"width": 1280, "height": 720})
            page = None
            for lab_page in LAB_PAGES:
                print(f"session 1: {lab_page.url_path} ...", file=sys.stderr, flush=True)
                if page is not None:
                    page.close()
                page = _open(first, f"{url}/{lab_page.url_path}")
                per_page[lab_page.url_path] = round(rss_mb(pid), 1)
            after_every_page = rss_mb(pid)
            page.close()
            home = _open(first, url)
            time.sleep(settle)
            one_session_settled = rss_mb(pid)
            others = []
            for i in range(sessions):
                print(f"session {i + 2}: {ACTIVE_PAGE} playing ...", file=sys.stderr, flush=True)
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                active = _open(context, f"{url}/{ACTIVE_PAGE}")
                active.locator("[class*='-runbar'] [class*='-play'] button").first.click()
                others.append(context)
            time.sleep(settle)
            with_active = rss_mb(pid)
            threads_active = run_threads(pid)
            home.close()
            first.close()
            for context in others:
                context.close()
            browser.close()
        closed = time.monotonic()
        while run_threads(pid) and time.monotonic() - closed < release_timeout:
            time.sleep(2.0)
        released_after = time.monotonic() - closed
        time.sleep(settle)
        after_close = rss_mb(pid)
        threads_left = run_threads(pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "rss_mb": {
            "at_start": round(at_start, 1),
            "after_one_session_visited_every_page": round(after_every_page, 1),
            "one_session_settled": round(one_session_settled, 1),
            f"with_{sessions}_more_sessions_playing": round(with_active, 1),
            "after_every_tab_closed": round(after_close, 1),
        },
        "per_additional_active_session_mb": round((with_active - one_session_settled) / sessions, 1) if sessions else None,
        "after_each_page_mb": per_page,
        "run_threads_while_playing": threads_active,
        "run_threads_after_every_tab_closed": threads_left,
        "seconds_until_run_threads_ended": round(released_after, 1),
        "settle_s": settle,
        "targets": "<= 500 MB after one session visited every page; <= 150 MB more per additional active session; no run thread left",
    }
