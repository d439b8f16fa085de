"""The app's pages for st.navigation: guide sections in the guide's order, then the tools."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st

from app.ui import library
from app.ui.section_page import render_section

PAGES_DIR = Path(__file__).resolve().parent.parent.parent / "pages"

TOOLS = (
    ("playground.py", "Playground", ":material/edit_note:", "playground"),
    ("transform_lab.py", "Transform Lab", ":material/science:", "transform-lab"),
    ("gotchas.py", "Gotchas: NumPy vs JAX", ":material/compare_arrows:", "gotchas"),
)
SYSTEM = ("system.py", "System", ":material/memory:", "system")


def section_page_file(slug: str) -> Path:
    return PAGES_DIR / f"section_{slug.replace('-', '_')}.py"


def _page(file: str, title: str, icon: str, url_path: str) -> st.Page:
    return st.Page(PAGES_DIR / file, title=title, icon=icon, url_path=url_path)


def section_pages() -> list[st.Page]:
    """One page per library section; a section without its own file still gets a page."""
    pages = []
    for number, section in enumerate(library.sections(), start=1):
        title = f"{number}. {section.title}"
        page_file = section_page_file(section.slug)
        target: Path | Callable[[], None] = (
            page_file if page_file.is_file() else partial(render_section, section.slug)
        )
        pages.append(st.Page(target, title=title, icon=":material/menu_book:",
                             url_path=section.slug, default=number == 1))
    return pages


def build_pages() -> dict[str, list[st.Page]]:
    guide = section_pages()
    tools = [_page(*spec) for spec in TOOLS]
    if not guide:  # no library: the Playground opens first
        tools[0] = st.Page(PAGES_DIR / TOOLS[0][0], title=TOOLS[0][1], icon=TOOLS[0][2],
                           url_path=TOOLS[0][3], default=True)
    return {"Guide": guide, "Try it": tools, "Server": [_page(*SYSTEM)]}
