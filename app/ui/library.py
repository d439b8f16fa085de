"""The snippet library as the UI sees it: loaded once per server, lookups that never raise."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.snippets import Library, Pair, Section, Snippet, SnippetError, load_library


@dataclass(frozen=True)
class Blank:
    """The Playground's own starting snippet when none is chosen; duck-types Snippet."""

    id: str = "playground/blank"
    title: str = "Blank snippet"
    code: str = (
        "import jax\nimport jax.numpy as jnp\n\n\ndef f(x):\n    return jnp.sum(jnp.sin(x) ** 2)\n"
        "\n\nx = jnp.linspace(0.0, 1.0, 5)\nprint('f(x) =', f(x))\njax.grad(f)(x)\n"
    )
    entry: str | None = "f"
    args: str | None = "(x,)"
    transforms: tuple[str, ...] = ("grad", "jit", "vmap")
    numpy_entry: str | None = None
    x64: bool = False
    explanation: str = "Write any JAX code; the value of the last line is shown."


BLANK = Blank()


@st.cache_resource(show_spinner=False)
def library() -> Library | str:
    """The library, or the loader's error message (the pages show it instead of crashing)."""
    try:
        return load_library()
    except SnippetError as exc:
        return str(exc)


def sections() -> tuple[Section, ...]:
    lib = library()
    return lib.sections if isinstance(lib, Library) else ()


def load_error() -> str | None:
    lib = library()
    return lib if isinstance(lib, str) else None


def section(slug: str) -> Section | None:
    return next((s for s in sections() if s.slug == slug), None)


def snippet(snippet_id: str) -> Snippet | None:
    lib = library()
    if not isinstance(lib, Library):
        return None
    try:
        return lib.snippet(snippet_id)
    except KeyError:
        return None


def pairs() -> tuple[Pair, ...]:
    return tuple(p for s in sections() for p in s.pairs)


def transformable() -> tuple[Snippet, ...]:
    """Snippets with an entry function and example arguments: what the Transform Lab offers."""
    return tuple(s for sec in sections() for s in sec.snippets if s.entry and s.args)
