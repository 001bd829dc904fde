"""Regression guards: each shipped checkpoint's headline figure, recomputed by the CLI, stays near the value recorded in
assets/README.md ("Regression guards"). The table there is the one source: its command column is run as written
(``../shared/data`` becomes the shared data folder here), its key picks the number out of the command's JSON."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from lab.cli import main
from tests.lab.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"
README = ROOT / "assets" / "README.md"


def guard_rows() -> list[dict]:
    """Rows of the table under '## Regression guards': checkpoint, figure, command, key, recorded, tolerance."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Regression guards", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[2].startswith("`genlab "):
            continue
        checkpoint, figure, command, key, recorded, tolerance = cells
        rows.append({
            "checkpoint": checkpoint.strip("`"), "figure": figure, "argv": shlex.split(command.strip("`"))[1:],
            "key": key.strip("`"), "recorded": float(recorded.replace("−", "-")), "tolerance": float(tolerance.lstrip("±")),
        })  # fmt: skip
    return rows


def test_the_guard_table_covers_every_headline_checkpoint():
    covered = {row["checkpoint"] for row in guard_rows()}
    assert {"rbm/mnist_pcd_500", "dbm/mnist", "vae/mnist_z2", "vae/frey_z2", "gsn/dae_onestep", "gsn/dae_walkback", "gsn/gsn"} <= covered


def pick(result: dict, key: str) -> float:
    """``a.b.c`` of a nested JSON object; a part that is an integer indexes a list (``mf_bound.-1``: its last)."""
    for part in key.split("."):
        result = result[int(part)] if re.fullmatch(r"-?\d+", part) and isinstance(result, list) else result[part]
    return float(result)


_results: dict[tuple[str, ...], dict] = {}
"""Each guard command's JSON, run once for all the rows that read it."""


def command_result(argv: list[str], capsys, monkeypatch) -> dict:
    key = tuple(argv)
    if key not in _results:
        monkeypatch.setenv("GENLAB_THREADS", "1")
        monkeypatch.chdir(ROOT)
        assert main([str(SHARED) if re.fullmatch(r"\.\./shared/data/?", a) else a for a in argv]) == 0
        _results[key] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return _results[key]


@pytest.mark.skipif(not (SHARED / "mnist").exists() or not (SHARED / "frey").exists(), reason="MNIST or Frey faces not in ../shared/data")
@pytest.mark.parametrize("row", guard_rows(), ids=lambda r: f"{r['checkpoint']}:{r['key']}")
def test_a_shipped_checkpoint_keeps_its_recorded_figure(row, capsys, monkeypatch):
    value = pick(command_result(row["argv"], capsys, monkeypatch), row["key"])
    assert abs(value - row["recorded"]) <= row["tolerance"], f"{row['checkpoint']} {row['figure']}: {value:.3f}, recorded {row['recorded']}"
