"""``genlab bench live``: how smoothly the live pages play in a real browser, the canvas renderer against the old path.

One lab server is started (as ``genlab`` starts it) and headless Chromium opens each live page at 1280x720,
once with the canvas renderer (lab.frames) and once with ``?renderer=png`` (server-side PNGs through
``st.image``), presses Play with the run at full speed (:data:`FULL_SPEED`) and, for ``seconds``, counts per page:

- **displayed frames per second**: how often the stage's main picture shows a new frame, sampled at every
  browser frame (``requestAnimationFrame``), the same way for both renderers;
- **first picture**: seconds from the navigation's start to the first visible picture in the stage's slot;
- **server CPU serving**: the lab server's CPU time outside its training threads (``genlab-run``, see
  :data:`engine.run.OS_THREAD_NAME`) per second, as a share of one core: drawing, packing and sending;
- **training CPU**: the same for the training threads, and the run's rate (``steps_per_s``, from the step the
  canvas shows; a run publishes at most 40 frames a second, so that is also the most frames there are to show);
- **browser CPU**: Chromium's CPU time per second (every ``chromium`` process), as a share of one core;
- **players**: per canvas, the batches and frames the browser received, the frames it drew and dropped, its delay.

Both renderers run in the same call, page by page, so they meet the same machine load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from engine.run import OS_THREAD_NAME
from lab.cli import serve_command

PAGES = ("rbm", "gibbs", "dbm-training", "dbm-sampling", "dbm-meanfield", "vae-manifold", "gan-mnist", "gsn-chain", "gsn-clamped", "gsn-training")
"""The live pages whose stage picture is an image (the Plotly pages are not drawn by the canvas yet)."""
FULL_SPEED = {
    "gibbs": "gibbs.fps=60",
    "dbm-sampling": "dbm.s.speed=full+speed",
    "dbm-meanfield": "dbm.mf.speed=full+speed",
    "gsn-chain": "gsn.chain.speed=full+speed",
    "gsn-clamped": "gsn.clamped.speed=full+speed",
}
"""The settings that play a page at its full speed, for the pages whose run opens in slow motion (a chain shown step
by step): the bench measures every page at the most frames its run can make."""

WATCH = """() => {
    // every browser frame: is a picture visible in the stage's slot, and which frame is it?
    window.__bench = { start: null, first: null, distinct: 0, ticks: 0, last: null };
    const tick = () => {
        const b = window.__bench;
        const picture = [...document.querySelectorAll('.st-key-stage-picture canvas.genlab-frame, .st-key-stage-picture [data-testid="stImage"] img')]
            .find((e) => e.getBoundingClientRect().width > 0 && (e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0)));
        const id = picture ? (picture.dataset.frame || picture.getAttribute('src')) : null;
        if (id && b.first === null) b.first = performance.now() / 1000;
        if (b.start !== null) {
            b.ticks += 1;
            if (id && id !== b.last) b.distinct += 1;
        }
        b.last = id;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


BROWSER_PROCESS = "chromium"
"""The command name of the browser's processes, whose CPU the bench reports beside the server's."""
PLAYERS = """() => Object.fromEntries(Object.entries(window.__genlabPlayers || {}).map(([slot, p]) =>
    [slot, {batches: p.batches, received: p.received || 0, drawn: p.drawn, dropped: p.dropped, delay: p.delay}]))"""
"""Per canvas player of the page: the batches and frames it received, the frames it drew and dropped, its delay."""


def _stat_seconds(path: str) -> float:
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes_cpu_seconds(name: str) -> float:
    """CPU seconds used so far by every process on this machine whose command is ``name`` (the browsers: chromium)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == name:
                    total += _stat_seconds(str(proc / "stat"))
            except (OSError, ValueError, IndexError):
                pass
    return total


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(training, everything else) CPU seconds of a process so far, from /proc: the process's total (threads that
    ended included) and its live training threads'."""
    training = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip() == OS_THREAD_NAME.decode()[:15]:
                training += _stat_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:  # the thread ended meanwhile
            continue
    return training, _stat_seconds(f"/proc/{pid}/stat") - training


def wait_healthy(url: str, timeout: float = 60.0) -> None:
    """Wait until a lab server answers its health check at ``url`` (a RuntimeError after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the lab server did not answer at {url} within {timeout:.0f} s")


def measure_page(page: Any, url: str, path: str, renderer: str, seconds: float, server_pid: int) -> dict[str, Any]:
    """Open one page with one renderer, press Play, and measure for ``seconds`` (after 2 s of warm-up)."""
    page.goto(f"{url}/{path}?renderer={renderer}" + (f"&{FULL_SPEED[path]}" if path in FULL_SPEED else ""))
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
    page.wait_for_function("window.__bench.first !== null", timeout=120_000)
    first = page.evaluate("window.__bench.first")
    play = page.locator("[class*='-runbar'] [class*='-play'] button").first
    play.click()
    page.wait_for_timeout(2000)
    steps_before = _page_step(page)
    cpu_before, browser_before, t0 = _cpu_seconds(server_pid), processes_cpu_seconds(BROWSER_PROCESS), time.monotonic()
    page.evaluate("window.__bench.start = performance.now(); window.__bench.distinct = 0; window.__bench.ticks = 0;")
    page.wait_for_timeout(seconds * 1000)
    counted = page.evaluate("({distinct: window.__bench.distinct, ticks: window.__bench.ticks, elapsed: performance.now() - window.__bench.start})")
    players = page.evaluate(PLAYERS)
    cpu_after, browser_after, t1 = _cpu_seconds(server_pid), processes_cpu_seconds(BROWSER_PROCESS), time.monotonic()
    steps_after = _page_step(page)
    pause = page.locator("[class*='-runbar'] [class*='-pause'] button").first
    if pause.count() and pause.is_enabled():
        pause.click()
    wall = t1 - t0
    elapsed = counted["elapsed"] / 1000
    return {
        "displayed_fps": round(counted["distinct"] / elapsed, 2),
        "browser_fps": round(counted["ticks"] / elapsed, 2),
        "first_picture_s": None if first is None else round(first, 3),
        "server_cpu_serving": round((cpu_after[1] - cpu_before[1]) / wall, 3),
        "server_cpu_training": round((cpu_after[0] - cpu_before[0]) / wall, 3),
        "browser_cpu": round((browser_after - browser_before) / wall, 3),
        "players": players,
        "steps_per_s": None if steps_before is None or steps_after is None else round((steps_after - steps_before) / wall, 2),
    }


def _page_step(page: Any) -> int | None:
    """The step the main canvas shows (the canvas renderer writes it on the canvas), or None on the old path."""
    value = page.evaluate("(() => { const c = [...document.querySelectorAll('.st-key-stage-picture canvas.genlab-frame')].find((e) => e.getBoundingClientRect().width > 0); return c ? Number(c.dataset.step) : null; })()")
    return None if value is None else int(value)


def run_bench(pages: list[str], seconds: float, threads: int, chromium: str | None, port: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from lab.catalog import LAB_PAGES

    known = {p.url_path for p in LAB_PAGES}
    unknown = [p for p in pages if p not in known]
    if unknown:
        raise ValueError(f"no such page: {', '.join(unknown)} (pages: {', '.join(sorted(known))})")
    exe = chromium or os.environ.get("GENLAB_CHROMIUM") or "/usr/bin/chromium"
    if not Path(exe).exists():
        raise OSError(f"Chromium not found at {exe}: install Debian's chromium or pass --chromium PATH")
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GENLAB_THREADS": str(threads)}
    server = subprocess.Popen(serve_command(port, headless=True) + ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    results: dict[str, Any] = {}
    try:
        wait_healthy(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for path in pages:
                results[path] = {}
                for renderer in ("canvas", "png"):
                    context = browser.new_context(viewport={"width": 1280, "height": 720})
                    page = context.new_page()
                    page.add_init_script(f"({WATCH})()")
                    print(f"{path} ({renderer}) ...", file=sys.stderr, flush=True)
                    results[path][renderer] = measure_page(page, url, path, renderer, seconds, server.pid)
                    context.close()
                canvas, png = results[path]["canvas"], results[path]["png"]
                results[path]["fps_ratio"] = round(canvas["displayed_fps"] / max(png["displayed_fps"], 1e-9), 2)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"seconds_per_page": seconds, "threads": threads, "cpu_count": os.cpu_count(), "pages": results}
