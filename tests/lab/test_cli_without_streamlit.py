"""`genlab train|eval|bench`, the benches and the Home-picture scripts never import Streamlit: every family's
lab code but its ``views`` (what its pages draw) imports without it, as does the picture code it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.catalog import FAMILIES

LAB = Path(__file__).resolve().parents[2] / "lab"


def modules_without_streamlit() -> list[str]:
    shared = ["lab.cli", "lab.commands", "lab.pictures", "lab.figures", "lab.catalog"]
    own = [f"lab.{f.name}.{m.stem}" for f in FAMILIES for m in sorted((LAB / f.name).glob("*.py")) if m.stem not in ("views", "__init__")]
    return shared + own


def test_every_family_has_its_command_in_its_lab_folder():
    for family in FAMILIES:
        assert (LAB / family.name / "command.py").exists(), family.name


@pytest.mark.parametrize("module", modules_without_streamlit())
def test_the_module_imports_without_streamlit_or_the_page_shell(module):
    code = f"import sys, {module}; bad = sorted(m for m in ('streamlit', 'lab.views', 'lab.controls', 'lab.live') if m in sys.modules); print(bad); sys.exit(1 if bad else 0)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{module} imports {done.stdout.strip()} {done.stderr[-2000:]}"
