"""``genlab bench classroom``: one lab server and a class of headless Chromium sessions, each playing a page.

For each executor (runs in threads of the server, and runs in the actors of a Ray cluster the bench starts on
127.0.0.1: ``ray start --head`` with two CPUs, each run asking for its share of them), one lab server is started and ``sessions`` browser sessions open a mix
of live pages (:data:`MIX`) and press Play. For ``seconds`` the bench samples the server's CPU share and resident
memory every second, and the CPU the browsers and the whole machine used; each page counts the distinct pictures it
displays and the longest time between two of them.
Then every tab closes, and the bench waits until the server holds no run thread and the cluster no run actor (its
server ends a closed tab's session after :data:`SESSION_TTL_S` seconds, not Streamlit's 120).
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lab.cli import serve_command
from lab.live_bench import BROWSER_PROCESS, _stat_seconds, processes_cpu_seconds, wait_healthy
from lab.memory_bench import IDLE, rss_mb, run_threads

MIX = (
    "rbm?rbm.dataset=digits+8x8",
    "gibbs",
    "dbm-training",
    "gsn-training?gsn.train.dataset=digits+8x8+%28offline%29",
    "vae-training?vae.train.dataset=8x8+digits",
    "dbm-sampling",
)
"""The pages the sessions play, in turn (data every machine has)."""
EXECUTORS = ("thread", "ray")
TARGETS = {"longest_gap_s": 2.0, "server_rss_mb": 2048, "ray_server_cpu": 0.30}

WATCH = """() => {
    // every browser frame: which picture the stage shows; count changes and the longest time between two
    window.__class = { last: null, lastChange: null, changes: 0, longestGap: 0, start: null };
    const tick = () => {
        const c = window.__class, now = performance.now() / 1000;
        const picture = [...document.querySelectorAll('.st-key-stage-picture canvas.genlab-frame')].find((e) => e.getBoundingClientRect().width > 0);
        const id = picture ? picture.dataset.frame : null;
        if (c.start !== null && id && id !== c.last) {
            if (c.lastChange !== null) c.longestGap = Math.max(c.longestGap, now - c.lastChange);
            c.lastChange = now;
            c.changes += 1;
        }
        c.last = id;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""

SESSION_TTL_S = 10
"""How long the bench's server keeps a closed tab's session (Streamlit's default, 120 s, waits for a reconnect)."""
OPEN_TIMEOUT_S = 600
"""How long a session may take to open its page (its script run to finish) while the others play; a session that
takes longer is reported in ``sessions_not_opened`` and the class goes on without it."""
RAY_PORT = 6390
RAY_CPUS = 2
"""CPUs of the local Ray head the bench starts (its two worker processes' worth)."""


def _machine_busy_seconds() -> float:
    """CPU seconds all cores of this machine spent busy (not idle, not waiting for I/O) so far, from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def ray_actors() -> int:
    """Processes of run actors (``ray::RunActor``) on this machine."""
    count = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "cmdline").read_bytes().startswith(b"ray::RunActor"):
                    count += 1
            except OSError:
                pass
    return count


def _start_ray() -> subprocess.Popen:
    """A Ray head on 127.0.0.1 (``ray start --head --block``: it ends with its process), once it takes connections."""
    ray = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(RAY_PORT), "--num-cpus", str(RAY_CPUS),
                             "--include-dashboard", "false", "--disable-usage-stats"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", RAY_PORT)) == 0:
                time.sleep(2.0)  # the GCS answers a moment before the raylet is up
                return head
        if head.poll() is not None:
            break
        time.sleep(0.3)
    head.terminate()
    raise RuntimeError(f"the Ray head did not start on 127.0.0.1:{RAY_PORT}")


def measure(executor: str, sessions: int, seconds: float, exe: str, port: int, release_timeout: float) -> dict[str, Any]:
    """One executor's class: see the module's docstring."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "GENLAB_THREADS": "1"}
    head = None
    if executor == "ray":
        head = _start_ray()
        env["GENLAB_RAY_ADDRESS"] = f"127.0.0.1:{RAY_PORT}"
        env["GENLAB_RAY_CPUS"] = f"{math.floor(RAY_CPUS / sessions * 1000) / 1000:g}"  # every session's run fits on the cluster's CPUs at once
        env.setdefault("RAY_AUTH_MODE", "token" if (Path.home() / ".ray" / "auth_token").exists() else "disabled")
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(serve_command(port, headless=True) + ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                                                                    "--server.disconnectedSessionTTL", str(SESSION_TTL_S)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    pid = server.pid
    samples: list[dict[str, float]] = []
    try:
        wait_healthy(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            pages, unopened = [], []
            for i in range(sessions):
                path = MIX[i % len(MIX)]
                print(f"{executor}: session {i + 1} on /{path}", file=sys.stderr, flush=True)
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                page.add_init_script(f"({WATCH})()")
                opened = time.monotonic()
                try:
                    page.goto(f"{url}/{path}", wait_until="domcontentloaded", timeout=OPEN_TIMEOUT_S * 1000)
                    page.wait_for_selector(IDLE, timeout=OPEN_TIMEOUT_S * 1000)
                    page.locator("[class*='-runbar'] [class*='-play'] button:not([disabled])").first.click(timeout=OPEN_TIMEOUT_S * 1000)
                except PlaywrightError as err:  # reported with the others, not fatal: the class goes on without it
                    unopened.append({"page": path, "gave_up_after_s": round(time.monotonic() - opened, 1), "error": str(err).splitlines()[0]})
                    context.close()
                    continue
                pages.append((path, context, page, round(time.monotonic() - opened, 1)))
            for _, _, page, _ in pages:
                page.evaluate("window.__class.start = performance.now() / 1000")
            browsers0, busy0 = processes_cpu_seconds(BROWSER_PROCESS), _machine_busy_seconds()
            cpu0, t0 = _stat_seconds(f"/proc/{pid}/stat"), time.monotonic()
            last_cpu, last_t = cpu0, t0
            while time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                cpu, now = _stat_seconds(f"/proc/{pid}/stat"), time.monotonic()
                samples.append({"t": round(now - t0, 1), "cpu": round((cpu - last_cpu) / (now - last_t), 3), "rss_mb": round(rss_mb(pid), 1)})
                last_cpu, last_t = cpu, now
            elapsed = time.monotonic() - t0
            cpu_share = (_stat_seconds(f"/proc/{pid}/stat") - cpu0) / elapsed
            browsers_share = (processes_cpu_seconds(BROWSER_PROCESS) - browsers0) / elapsed
            machine_busy = (_machine_busy_seconds() - busy0) / elapsed
            per_session = []
            for path, _, page, opened_s in pages:
                c = page.evaluate("({changes: window.__class.changes, gap: window.__class.longestGap, since: performance.now() / 1000 - (window.__class.lastChange || window.__class.start)})")
                per_session.append({"page": path, "opened_in_s": opened_s, "displayed_fps": round(c["changes"] / seconds, 2), "longest_gap_s": round(max(c["gap"], c["since"]), 2)})
            threads_playing, actors_playing = run_threads(pid), ray_actors()
            for _, context, _, _ in pages:
                context.close()
            browser.close()
        closed = time.monotonic()
        while (run_threads(pid) or ray_actors()) and time.monotonic() - closed < release_timeout:
            time.sleep(2.0)
        released_after = time.monotonic() - closed
        threads_left, actors_left = run_threads(pid), ray_actors()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if head is not None:
            head.terminate()
            head.wait(timeout=60)
    return {
        "sessions": per_session,
        "sessions_not_opened": unopened,
        "longest_gap_s": max((s["longest_gap_s"] for s in per_session), default=None),
        "sessions_with_a_gap_over_2_s": sum(s["longest_gap_s"] > TARGETS["longest_gap_s"] for s in per_session),
        "server_cpu_share": round(cpu_share, 3),
        "browsers_cpu_share": round(browsers_share, 3),
        "machine_busy_cores": round(machine_busy, 2),
        "server_rss_mb_max": max(s["rss_mb"] for s in samples),
        "server_over_time": samples,
        "run_threads_while_playing": threads_playing,
        "ray_actors_while_playing": actors_playing,
        "run_threads_after_tabs_closed": threads_left,
        "ray_actors_after_tabs_closed": actors_left,
        "seconds_until_released": round(released_after, 1),
    }


def run_bench(sessions: int, seconds: float, executors: list[str], chromium: str | None, port: int, release_timeout: float = 300.0) -> dict[str, Any]:
    if sessions < 1 or seconds <= 0:
        raise ValueError(f"--sessions must be >= 1 and --seconds > 0, got {sessions} and {seconds}")
    unknown = sorted(set(executors) - set(EXECUTORS))
    if unknown:
        raise ValueError(f"unknown executors {unknown}; choose from {list(EXECUTORS)}")
    exe = chromium or os.environ.get("GENLAB_CHROMIUM") or "/usr/bin/chromium"
    if not Path(exe).exists():
        raise OSError(f"Chromium not found at {exe}: install Debian's chromium or pass --chromium PATH")
    if "ray" in executors and importlib.util.find_spec("ray") is None:
        raise OSError("the ray executor needs Ray: pip install 'genlab[ray]'")
    out: dict[str, Any] = {"bench": "classroom", "sessions": sessions, "seconds": seconds, "cpu_count": os.cpu_count(),
                           "targets": "each picture changes at least every 2 s; server RSS <= 2 GB; nothing left after the tabs close; "
                                      "with Ray, the web server's CPU <= 30% of one core"}  # fmt: skip
    for executor in executors:
        out[executor] = measure(executor, sessions, seconds, exe, port, release_timeout)
        print(f"{executor}: longest gap {out[executor]['longest_gap_s']} s, server CPU {out[executor]['server_cpu_share']}, "
              f"RSS at most {out[executor]['server_rss_mb_max']} MB", file=sys.stderr, flush=True)  # fmt: skip
    return out
