"""No bare string in a page's script: Streamlit's magic draws it on the page (the module docstring excepted)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([ROOT / "lab" / "app.py", *(ROOT / "pages").glob("*.py")])


def bare_strings(body: list[ast.stmt]) -> list[int]:
    """Lines of the string expressions Streamlit would draw: at the script's level and inside its blocks, not in functions."""
    lines = []
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.append(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            lines += bare_strings(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            lines += bare_strings(handler.body)
    return lines


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_bare_string_is_drawn_on_the_page(script):
    tree = ast.parse(script.read_text())
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    assert bare_strings(body) == [], f"{script.name}: a bare string at these lines is drawn on the page; make it a # comment"
