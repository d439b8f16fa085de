"""User text inside markdown: shown as typed, never as a link, an image or formatting."""

from __future__ import annotations

from app.ui.plain import text


def test_markdown_characters_are_escaped() -> None:
    assert text("**Bob** [x](http://e) ![](http://e/p.png) <b>") == (
        "\\*\\*Bob\\*\\* \\[x\\]\\(http\\:\u2060//e\\) \\!\\[\\]\\(http\\:\u2060//e/p\\.png\\) "
        "\\<b\\>")


def test_bare_addresses_and_emails_do_not_become_links() -> None:
    assert text("https://e.com") == "https\\:\u2060//e\\.com"
    assert text("WWW.e.org") == "WWW\u2060\\.e\\.org"
    assert text("a@b.c") == "a@\u2060b\\.c"


def test_lines_are_joined() -> None:
    assert text("one\ntwo") == "one two"
