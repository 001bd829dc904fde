"""Every lab page: where it lives, its title, and the one sentence and picture the Home page shows.

A model lab adds its pages here (one ``LabPage`` per file in ``pages/``); the
navigation and the Home page are built from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LabPage:
    script: str
    """File name in ``pages/``."""
    title: str
    url_path: str
    section: str
    blurb: str
    """One sentence for the Home page: what a student sees and does there."""
    icon: str
    picture: str | None = None
    """A picture in ``assets/pictures/`` for the Home page card."""

    @property
    def path(self) -> Path:
        return ROOT / "pages" / self.script

    @property
    def picture_path(self) -> Path | None:
        return ROOT / "assets" / "pictures" / self.picture if self.picture else None


HOME = LabPage("home.py", "Home", "home", "", "The lab at a glance.", ":material/home:")

LAB_PAGES: list[LabPage] = []
