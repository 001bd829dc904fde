"""``genlab``: start the lab, fetch data, and train / evaluate / benchmark models from a shell.

    genlab                          start the lab (opens a browser unless --headless)
    genlab data fetch NAME...       download datasets before a class, with a progress bar
    genlab data list                what is known and what is on disk
    genlab train MODEL ...          train and write a checkpoint
    genlab eval MODEL PATH ...      evaluate a checkpoint
    genlab bench MODEL ...          speed against a peer implementation
    genlab bench live ...           frames displayed per second on the live pages, in headless Chromium
    genlab bench memory ...         the lab server's memory per browser session, in headless Chromium

With ``--json`` the last line printed is one strict JSON object (an infinite or NaN number
is printed as null: JSON has neither). Each model family registered in
lab.catalog.FAMILIES plugs in through its module ``lab/<family>/command.py``, which defines any of
``add_train / train``, ``add_eval / evaluate`` and ``add_bench / bench``:
``add_*(parser)`` declares arguments, and the command function takes the parsed
arguments and returns the result as a JSON-ready dict.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

APP = Path(__file__).with_name("app.py")
VERBS = {"train": ("add_train", "train"), "eval": ("add_eval", "evaluate"), "bench": ("add_bench", "bench")}


def families() -> dict[str, ModuleType]:
    """The CLI module of every model family registered in lab.catalog.FAMILIES: ``lab/<family>/command.py``."""
    from lab.catalog import FAMILIES

    return {f.name: importlib.import_module(f"lab.{f.name}.command") for f in FAMILIES}


def finite_or_null(value: Any) -> Any:
    """``value`` ready for strict JSON: inf, -inf and NaN become None (null), at any depth of dicts,
    lists and tuples; numbers JSON does not know (NumPy scalars, 0-d tensors) become floats."""
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    if value is None or isinstance(value, (str, int)):
        return value
    number = float(value)
    return number if math.isfinite(number) else None


def json_line(value: Any) -> str:
    """One line of strict JSON (no Infinity or NaN, which strict parsers refuse): what ``--json`` prints."""
    return json.dumps(finite_or_null(value), allow_nan=False)


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json_line(result))
    else:
        for k, v in result.items():
            print(f"{k}: {json_line(v) if isinstance(v, (dict, list)) else v}")


def serve_command(port: int, headless: bool) -> list[str]:
    """The ``streamlit run`` command line that serves the lab (also used by the browser tests)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--theme.primaryColor", "#1f5fbf",
        "--theme.baseFontSize", "18",
        "--server.runOnSave", "false",
        "--server.enableStaticServing", "true",  # the browser loads Plotly from lab/static (lab.plot_in_place)
        # a full garbage collection after every script run holds the GIL 25-50 ms; a live page's picture fragment
        # runs 8 times a second, so it took 69% of the server's samples (py-spy) and starved the training thread
        "--runner.postScriptGC", "false",
    ]  # fmt: skip


def _serve(args: argparse.Namespace) -> int:
    from engine.executor import RAY_ADDRESS_ENV, ray_address
    from lab.limits import MAX_RUNS_ENV, PER_SESSION_ENV, limits_from_env

    for flag, name, value in (("--max-runs", MAX_RUNS_ENV, args.max_runs), ("--max-runs-per-session", PER_SESSION_ENV, args.max_runs_per_session)):
        if value is not None:
            if value < 0:
                print(f"error: {flag} must be 0 (no limit) or more, got {value}", file=sys.stderr)
                return 2
            os.environ[name] = str(value)  # the lab server (a child process) reads them (lab.limits)
    if args.ray:
        os.environ[RAY_ADDRESS_ENV] = args.ray  # engine.executor
    limits = limits_from_env()
    print(f"Generative Models Lab on http://localhost:{args.port} (runs playing at once: {limits.max_running or 'no limit'} on the server, "
          f"{limits.per_session or 'no limit'} per session; runs train {'in the Ray cluster at ' + ray_address() if ray_address() else 'in this process'})", flush=True)  # fmt: skip
    return subprocess.call(serve_command(args.port, args.headless))


def _data(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine import data

    if args.action == "list":
        root = data.data_root(args.root)
        present = {name: None if data.REMOTE.get(name) is None else {f: (root / name / f).exists() for f in data.REMOTE[name]} for name in data.DATASETS}
        if args.json:
            print(json_line({"root": str(root), "datasets": present}))
            return 0
        print(f"data root: {root}")
        for name, files in present.items():
            where = "generated or bundled, always available" if files is None else ", ".join(
                f"{f} [{'present' if here else 'missing'}]" for f, here in files.items()
            )
            print(f"  {name:14s} {where}")
        return 0
    bars: dict[str, tqdm] = {}

    def progress(done: int, total: int, filename: str) -> None:
        bar = bars.get(filename)
        if bar is None:
            bar = bars[filename] = tqdm(total=total or None, unit="B", unit_scale=True, desc=filename, leave=True)
        bar.update(done - bar.n)

    status = 0
    for name in args.names:
        try:
            paths = data.fetch(name, root=args.root, progress=progress)
            print(f"{name}: ready in {paths[0].parent}")
        except data.DataError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    for bar in bars.values():
        bar.close()
    return status


def build_parser(fams: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genlab", description="Generative Models Lab: start the lab, or train, evaluate and benchmark models.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GENLAB_PORT", "8501")), help="port for the lab (default 8501)")
    parser.add_argument("--headless", action="store_true", help="do not open a browser")
    parser.add_argument("--ray", metavar="ADDRESS", default=None, help="train every run in an actor of this Ray cluster (e.g. 127.0.0.1:6379; $GENLAB_RAY_ADDRESS; needs genlab[ray])")
    parser.add_argument("--max-runs", type=int, default=None, help="runs the server plays at once, the rest wait in line (default: no limit; $GENLAB_MAX_RUNS)")
    parser.add_argument("--max-runs-per-session", type=int, default=None,
                        help="runs one browser session plays at once (default 3; $GENLAB_MAX_RUNS_PER_SESSION; 0: no limit)")  # fmt: skip
    sub = parser.add_subparsers(dest="command")

    d = sub.add_parser("data", help="datasets: fetch before a class, or list what is on disk")
    d.add_argument("action", choices=["fetch", "list"])
    d.add_argument("names", nargs="*", help="datasets to fetch: mnist, fashion-mnist, frey")
    d.add_argument("--root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")
    d.add_argument("--json", action="store_true", help="list: one JSON object, dataset -> {file: present} (null: generated or bundled)")

    for verb, (adder, _) in VERBS.items():
        vp = sub.add_parser(verb, help=f"{verb} a model ({', '.join(n for n, m in fams.items() if hasattr(m, adder)) or 'none installed'})")
        models = vp.add_subparsers(dest="model", required=True)
        for name, module in fams.items():
            if hasattr(module, adder):
                mp = models.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None)
                getattr(module, adder)(mp)
                mp.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
        if verb == "bench":
            _add_live_bench(models)
            _add_memory_bench(models)
            _add_history_bench(models)
            _add_classroom_bench(models)
    return parser


def _add_live_bench(models: argparse._SubParsersAction) -> None:
    from lab.live_bench import PAGES

    lp = models.add_parser("live", help="frames displayed per second on the live pages in headless Chromium: the canvas renderer against the old st.image path")
    lp.add_argument("--pages", nargs="+", default=list(PAGES), help=f"pages to measure (default: {' '.join(PAGES)})")
    lp.add_argument("--seconds", type=float, default=10.0, help="seconds of play measured per page and renderer (default 10)")
    lp.add_argument("--threads", type=int, default=1, help="CPU threads per training run in the lab server (default 1, as a laptop class server)")
    lp.add_argument("--chromium", default=None, help="Chromium executable (default: $GENLAB_CHROMIUM or /usr/bin/chromium)")
    lp.add_argument("--bench-port", type=int, default=8765, help="port of the lab server the bench starts (default 8765)")
    lp.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")


def _add_memory_bench(models: argparse._SubParsersAction) -> None:
    mp = models.add_parser("memory", help="the lab server's memory in headless Chromium: one session on every page, more sessions playing, all tabs closed")
    mp.add_argument("--sessions", type=int, default=3, help="sessions playing the RBM page after the first one (default 3)")
    mp.add_argument("--settle", type=float, default=10.0, help="seconds to wait before each reading (default 10)")
    mp.add_argument("--chromium", default=None, help="Chromium executable (default: $GENLAB_CHROMIUM or /usr/bin/chromium)")
    mp.add_argument("--bench-port", type=int, default=8766, help="port of the lab server the bench starts (default 8766)")
    mp.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")


def _add_history_bench(models: argparse._SubParsersAction) -> None:
    hp = models.add_parser("history", help="what a run's timeline costs: each training page's run with its timeline against the same run without one, and its memory")
    hp.add_argument("--pages", nargs="+", default=None, help="training pages to measure (default: rbm vae gan-2d gsn dbm)")
    hp.add_argument("--seconds", type=float, default=None, help="least seconds per contender and repeat (default 2)")
    hp.add_argument("--repeats", type=int, default=3, help="alternating rounds per page (default 3)")
    hp.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")


def _add_classroom_bench(models: argparse._SubParsersAction) -> None:
    cp = models.add_parser("classroom", help="a class on one server: N headless Chromium sessions each playing a page, with runs in threads and in Ray actors")
    cp.add_argument("--sessions", type=int, default=10, help="browser sessions, each playing a page (default 10)")
    cp.add_argument("--seconds", type=float, default=300.0, help="seconds measured while they all play (default 300)")
    cp.add_argument("--executors", nargs="+", default=["thread", "ray"], help="where runs train: thread, ray (the bench starts a local Ray head); default both")
    cp.add_argument("--chromium", default=None, help="Chromium executable (default: $GENLAB_CHROMIUM or /usr/bin/chromium)")
    cp.add_argument("--bench-port", type=int, default=8767, help="port of the lab server the bench starts (default 8767)")
    cp.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")


def main(argv: list[str] | None = None) -> int:
    fams = families()
    args = build_parser(fams).parse_args(argv)
    if args.command is None:
        return _serve(args)
    if args.command == "data":
        if args.action == "fetch" and not args.names:
            print("error: name the datasets to fetch, e.g. `genlab data fetch mnist frey`", file=sys.stderr)
            return 2
        return _data(args)
    from engine.checkpoint import CheckpointError
    from engine.data import DataError

    try:
        if args.command == "bench" and args.model == "live":
            from lab.live_bench import run_bench

            result = run_bench(args.pages, args.seconds, args.threads, args.chromium, args.bench_port)
        elif args.command == "bench" and args.model == "memory":
            from lab.memory_bench import run_bench as memory_bench

            result = memory_bench(args.sessions, args.settle, args.chromium, args.bench_port)
        elif args.command == "bench" and args.model == "classroom":
            from lab.classroom_bench import run_bench as classroom_bench

            result = classroom_bench(args.sessions, args.seconds, args.executors, args.chromium, args.bench_port)
        elif args.command == "bench" and args.model == "history":
            from lab.history_bench import run_bench as history_bench

            result = history_bench(args.pages, args.seconds, args.repeats)
        else:
            result = getattr(fams[args.model], VERBS[args.command][1])(args)
    except (ValueError, OSError, DataError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    _emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
