"""The genlab CLI: help, data listing and fetching from a prepared folder, errors."""

import json
import subprocess
import sys

import pytest

from lab import cli
from tests.engine.test_data import SHARED


def test_help_lists_the_verbs(capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["--help"])
    assert err.value.code == 0
    out = capsys.readouterr().out
    for verb in ("data", "train", "eval", "bench"):
        assert verb in out


def test_data_list(tmp_path, capsys):
    assert cli.main(["data", "list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"data root: {tmp_path}" in out and "t10k-images-idx3-ubyte.gz [missing]" in out


def test_fetch_needs_names_and_refuses_unknown_ones(tmp_path, capsys):
    assert cli.main(["data", "fetch"]) == 2
    assert cli.main(["data", "fetch", "cifar", "--root", str(tmp_path)]) == 1
    assert "nothing to download" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "frey").exists(), reason="../shared/data is absent")
def test_fetch_validates_present_files_without_network(capsys):
    assert cli.main(["data", "fetch", "frey", "--root", str(SHARED)]) == 0
    assert "frey: ready in" in capsys.readouterr().out


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "lab.cli", "data", "list"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "bars-stripes" in out.stdout


def test_emit_json_is_the_last_line(capsys):
    cli._emit({"a": 1, "b": {"k": 2.5}}, as_json=True)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"a": 1, "b": {"k": 2.5}}
