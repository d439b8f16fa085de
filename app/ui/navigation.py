"""The app's pages for st.navigation: guide sections in the guide's order, then the tools."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import streamlit as st

from app.ui import learner, library
from app.ui.pages.section import render_section

PAGES_DIR = Path(__file__).resolve().parent.parent.parent / "pages"

TOOLS = (
    ("playground.py", "Playground", ":material/edit_note:", "playground"),
    ("transform_lab.py", "Transform Lab", ":material/science:", "transform-lab"),
    ("gotchas.py", "Gotchas: NumPy vs JAX", ":material/compare_arrows:", "gotchas"),
)
LEARN = (
    ("exercises.py", "Exercises", ":material/school:", "exercises"),
    ("rooms.py", "Rooms", ":material/groups:", "rooms"),
)
SYSTEM = ("system.py", "System", ":material/memory:", "system")
HOME = ("home.py", "Start here", ":material/home:", "")


def section_page_file(slug: str) -> Path:
    return PAGES_DIR / f"section_{slug.replace('-', '_')}.py"


def _page(file: str, title: str, icon: str, url_path: str) -> st.Page:
    return st.Page(PAGES_DIR / file, title=title, icon=icon, url_path=url_path)


def section_page(number: int, slug: str, title: str) -> st.Page:
    """A guide section's page; a section without its own file still gets one."""
    page_file = section_page_file(slug)
    target: Path | Callable[[], None] = (
        page_file if page_file.is_file() else partial(render_section, slug)
    )
    return st.Page(target, title=f"{number}. {title}", icon=":material/menu_book:",
                   url_path=slug)


def section_pages() -> list[st.Page]:
    return [section_page(number, section.slug, section.title)
            for number, section in enumerate(library.sections(), start=1)]


def tool_pages() -> list[st.Page]:
    return [_page(*spec) for spec in TOOLS]


def learn_pages() -> list[st.Page]:
    return [_page(*spec) for spec in LEARN]


def exercises_page() -> st.Page:
    return _page(*LEARN[0])


def system_page() -> st.Page:
    return _page(*SYSTEM)


def build_pages() -> dict[str, list[st.Page]]:
    home = st.Page(PAGES_DIR / HOME[0], title=HOME[1], icon=HOME[2], default=True)
    return {"": [home], "Guide": section_pages(), "Try it": tool_pages(),
            "Learn together": learn_pages(), "Server": [system_page()]}


def navigate() -> bool:
    """Run the page the link names, keeping the person's identity (app.ui.learner). A room's
    participant gets the room alone, without the sidebar: every page of their session is the
    room's page (the guide opens in a new tab, from a link there, as a session of its own).
    True for such a focused session."""
    token = learner.keep_identity()
    focused = learner.in_a_room(token)
    pages = build_pages()
    page = st.navigation(pages, position="hidden" if focused else "sidebar", expanded=True)
    if focused and token is not None and page.url_path != learner.ROOMS_PATH:
        rooms = next(p for group in pages.values() for p in group
                     if p.url_path == learner.ROOMS_PATH)
        st.switch_page(rooms, query_params={learner.TOKEN_PARAM: token})
    page.run()
    return focused
