"""Share links on the pages: every Playground option round-trips, a section page marks the shared
snippet, and a hostile link opens the page as shipped with a notice."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from test_pages import LIBRARY, open_page, texts

from app.ui import jax_version
from app.ui.navigation import section_page_file
from app.ui.share import QUERY_PARAM, SharedState, decode, encode

AREA = "playground/blank"


def _raw_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def test_playground_link_restores_every_option() -> None:
    token = encode(SharedState(AREA, "def g(x):\n    return x\n", {
        "x64": True, "timeout": 7.0, "inspect": True, "function": "g", "args": "(2.0,)",
        "stack": ["grad", "grad", "jit"], "stack_options": [{"argnums": "0"}, {}, {}],
        "passes": True,
    }))
    at = open_page("playground.py", query={QUERY_PARAM: token})
    assert at.toggle(key=f"passes::{AREA}").value is True
    assert at.toggle(key=f"x64::{AREA}").value is True
    assert at.slider(key=f"timeout::{AREA}").value == 7.0
    assert at.toggle(key=f"inspect::{AREA}").value is True
    assert at.text_input(key=f"fn::{AREA}").value == "g"
    assert at.text_input(key=f"args::{AREA}").value == "(2.0,)"
    assert at.session_state[f"stack::{AREA}::stack"] == ["grad", "grad", "jit"]
    assert at.text_input(key=f"stack::{AREA}::0::grad::argnums").value == "0"
    assert "jax.jit(jax.grad(jax.grad(g, argnums=0)))" in texts(at)


def test_playground_share_button_puts_every_option_in_the_link() -> None:
    at = open_page("playground.py")
    at.toggle(key=f"x64::{AREA}").set_value(True)
    at.slider(key=f"timeout::{AREA}").set_value(4.0)
    at.text_input(key=f"args::{AREA}").set_value("(x * 2,)")
    at.button(key=f"share::{AREA}").click().run()
    token = at.query_params[QUERY_PARAM]
    shared = decode(token if isinstance(token, str) else token[0])
    assert shared.extra == {"x64": True, "timeout": 4.0, "inspect": True, "function": "f",
                            "args": "(x * 2,)", "stack": ["jit"], "stack_options": [{}],
                            "passes": False, **({"jax": INSTALLED[0]} if INSTALLED else {})}


INSTALLED = jax_version.available()


@pytest.mark.skipif(len(INSTALLED) < 2, reason="make setup installs the runtimes")
def test_a_link_carries_its_jax_version_to_the_next_session() -> None:
    oldest = INSTALLED[-1]
    token = encode(SharedState(AREA, "import jax\nprint(jax.__version__)\n", {"jax": oldest}))
    at = open_page("playground.py", query={QUERY_PARAM: token})
    assert at.session_state[jax_version.KEY] == oldest
    at.button(key=f"share::{AREA}").click().run()  # and passes it on
    again = at.query_params[QUERY_PARAM]
    assert decode(again if isinstance(again, str) else again[0]).extra["jax"] == oldest


def test_a_link_for_a_version_this_server_lacks_says_so_and_keeps_the_default() -> None:
    token = encode(SharedState(AREA, "print(1)\n", {"jax": "0.0.9"}))
    at = open_page("playground.py", query={QUERY_PARAM: token})
    assert any("made on JAX 0.0.9, which this server does not have" in w.value
               for w in at.warning)
    if INSTALLED:  # the sidebar keeps the default, the newest
        assert at.session_state[jax_version.KEY] == INSTALLED[0]


def test_section_link_marks_the_shared_snippet() -> None:
    section = LIBRARY.sections[0]
    target = section.snippets[2]
    token = encode(SharedState(target.id, "print('shared')\n", {"inspect": False}))
    at = open_page(section_page_file(section.slug).name, query={QUERY_PARAM: token})
    marks = [i for i in at.info if i.value.startswith("Shared with you")]
    assert len(marks) == 1
    scroll = [h.proto.body for h in at.html if "scrollIntoView" in h.proto.body
              and "__pgJump" not in h.proto.body]
    assert len(scroll) == 1 and json.dumps(target.id.split("/")[-1]) in scroll[0]


SECTION = LIBRARY.sections[0]
HOSTILE_LINKS = [
    ("playground.py", AREA, b"[" * 150_000),  # RecursionError in the JSON parser
    ("playground.py", AREA, {"stack": "grad"}),
    (section_page_file(SECTION.slug).name, SECTION.snippets[0].id, {"codes": 5}),  # TypeError
    ("transform_lab.py", "lab/playground/blank", {"a": [1]}),
    ("gotchas.py", LIBRARY.pairs[0].jax.id, {"codes": {"a": None}}),
]


@pytest.mark.parametrize(("page", "snippet_id", "extra"), HOSTILE_LINKS,
                         ids=["deep-nesting", "playground-stack", "section-codes", "lab-names",
                              "gotchas-codes"])
def test_hostile_link_opens_the_page_as_shipped_with_a_notice(
    page: str, snippet_id: str, extra: dict | bytes  # type: ignore[type-arg]
) -> None:
    raw = extra if isinstance(extra, bytes) else json.dumps(
        {"v": 1, "s": snippet_id.removeprefix("lab/"), "c": "shared", "x": extra}).encode()
    at = open_page(page, query={QUERY_PARAM: _raw_token(raw)})  # asserts no exception
    assert any("share link" in w.value for w in at.warning), [w.value for w in at.warning]
    assert f"code::{snippet_id}" not in at.session_state  # the shipped code, untouched


def test_lab_link_keeps_a_stack_whose_option_does_not_parse_yet() -> None:
    at = open_page("transform_lab.py")
    key = "lab::a::playground/blank"
    stack = at.session_state[f"{key}::stack"]
    assert stack, "the Lab starts with a stack"
    name = stack[0]
    option = next(t for t in at.text_input if t.key and t.key.startswith(f"{key}::0::{name}::"))
    option.set_value("(0,").run()  # half typed: the stack cannot be built right now
    at.button(key="share::lab/playground/blank").click().run()
    token = at.query_params[QUERY_PARAM]
    shared = decode(token if isinstance(token, str) else token[0])
    assert shared.extra["a"] == stack
    assert shared.extra["a_options"][0][option.key.rsplit("::", 1)[-1]] == "(0,"
