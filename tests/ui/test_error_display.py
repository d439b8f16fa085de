"""How a run's error is shown: its line highlighted and marked in the editor, its text as text."""

from __future__ import annotations

import json
import re
from typing import Any

from streamlit.testing.v1 import AppTest
from test_pages import open_page, run_in_playground

from app.ui.widgets.errors import excerpt_html
from tests.snippets.helpers import highlighted_line

# The reproducer: a blank line inside the excerpt's window shifted its numbers.
BLANK_LINE_REPRO = (
    "import jax.numpy as jnp\n\na = jnp.ones(3)\nb = jnp.ones(4)\nc = a + b\nprint(c)\n"
)
# Markdown and HTML a run's text may carry (issue 9, item 7): an image that would be fetched, a
# link that would be drawn, bold, a Streamlit colour directive, LaTeX, raw HTML.
HOSTILE = ("The `__index__()` method ![x](http://127.0.0.1:9/pixel.png) "
           "[click me](http://127.0.0.1:9/) **bold** :red[red] $x^2$ <img src=x onerror=alert(1)>")


def editor_marks(at: AppTest) -> list[dict[str, Any]]:
    """The annotations passed to the (only) editor on the page."""
    (component,) = at.get("component_instance")
    return json.loads(component.proto.json_args)["props"]["annotations"]


def excerpts(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.html if 'class="pg-excerpt"' in h.proto.body]


def markdown_sources(at: AppTest) -> list[str]:
    """Every element Streamlit renders as markdown (alerts, captions, markdown, expander labels)."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success")
    sources = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    return sources + [str(e.label) for e in at.expander] + [str(t.label) for t in at.tabs]


# Image, link, raw HTML or directive syntax that no backslash escapes.
RENDERED = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<img|(?<!\\):red(?<!\\)\[")


def assert_never_rendered(sources: list[str]) -> None:
    """No markdown source holds run text that would render as an image, a link or HTML (a bare
    address becomes a link too, escaped or not: app.ui.plain breaks it with a word joiner)."""
    for source in sources:
        assert not RENDERED.search(source) and "://" not in source, source


def test_excerpt_keeps_blank_lines_so_the_error_line_is_highlighted() -> None:
    assert highlighted_line(excerpt_html(BLANK_LINE_REPRO, 5)) == (5, "c = a + b")
    # a window that starts and ends at blank lines
    code = "x = 1\n\n\n\ny = x / 0\n\n\n\nz = 3\n"
    assert highlighted_line(excerpt_html(code, 5)) == (5, "y = x / 0")


def test_failing_line_is_highlighted_and_marked_in_the_editor_until_the_code_changes() -> None:
    at = run_in_playground(BLANK_LINE_REPRO)
    assert at.error[0].value == "**Your code raised TypeError** on line 5"
    (excerpt,) = excerpts(at)
    assert highlighted_line(excerpt) == (5, "c = a + b")
    # The excerpt names the editor whose cursor its line numbers move.
    assert 'data-pg-editor="st-key-pg-editor-' in excerpt
    assert any("__pgJump" in h.proto.body for h in at.html)
    (mark,) = editor_marks(at)
    assert mark["row"] == 4 and mark["type"] == "error" and "TypeError" in mark["text"]
    at.session_state["code::playground/blank"] = BLANK_LINE_REPRO + "# edited\n"
    at.run()
    assert editor_marks(at) == []  # the line numbers no longer match what ran


def test_error_message_and_name_are_text_not_markdown() -> None:
    code = ("Odd = type('Odd**![y](http://127.0.0.1:9/t.png)', (Exception,), {})\n"
            f"raise Odd({HOSTILE!r})\n")
    at = run_in_playground(code)
    assert at.error[0].value == "**Your code raised an exception** on line 2"
    assert any(HOSTILE in c.value for c in at.code)  # the message, verbatim, in a code block
    assert_never_rendered(markdown_sources(at))


def _forged_result() -> None:
    """Draws a result whose every text field carries markdown (a run can forge its report)."""
    from app.protocol import (
        Compilation,
        ErrorInfo,
        InspectResult,
        OutputChunk,
        RunResult,
        StepTiming,
        Timings,
    )
    from app.ui.widgets.results import show_result

    bad = ("The `__index__()` method ![x](http://127.0.0.1:9/pixel.png) "
           "[click me](http://127.0.0.1:9/) **bold** :red[red] <img src=x>")
    timing = StepTiming(0.001, 0.001, 0.0, 5)
    show_result(RunResult(
        status="memory", message=bad, stdout=bad, output=[OutputChunk("stdout", bad)],
        value_repr=bad, platform=bad, sandbox={bad: True, "seccomp": False},
        error=ErrorInfo(bad, bad, 1, bad, advice=bad),
        compilations=[Compilation(bad, 2, [bad])],
        inspect=InspectResult(
            expression=bad, output_repr=bad, in_shapes=[bad], out_shapes=[bad], devices=[bad],
            warnings=[bad], notice=bad, error=ErrorInfo(bad, bad, advice=bad),
            compilations=[Compilation(bad, 1, [bad])], cost={bad: 1.0, "flops": 2.0},
            memory={bad: 3.0}, timings=Timings(0.1, 0.1, 0.1, timing, timing),
        ),
    ), "print(1)\n")


def test_every_text_a_run_produced_is_shown_as_text() -> None:
    at = AppTest.from_function(_forged_result, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert_never_rendered(markdown_sources(at))
    assert any("<img src=x>" in c.value for c in at.code)  # shown, as the characters it is


def test_shipped_snippet_error_line_is_highlighted_on_its_page() -> None:
    """The JIT snippet the issue names: the for line, not the line under it."""
    at = open_page("section_jit_compilation.py")
    snippet_id = "jit-compilation/static-args-as-written"
    at.button(key=f"run::{snippet_id}").click().run()
    (excerpt,) = excerpts(at)
    number, text = highlighted_line(excerpt)
    assert text.strip().startswith("for i in range(n)"), (number, text)
