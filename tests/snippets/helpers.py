"""Build small snippet libraries on disk for the loader and check tests."""

from __future__ import annotations

from pathlib import Path

GOOD_HEADER = """\
# /// snippet
# title = "Square"
# subsection = "Basics"
# explanation = "Squares a number."
# entry = "square"
# args = "(3.0,)"
# transforms = ["grad", "jit"]
# expect = { outcome = "ok", stdout = "9.0" }
# guide_blocks = [1]
# ///
"""

GOOD_CODE = """\
def square(x):
    return x * x

print(square(3.0))
"""


def header(**fields: str) -> str:
    """A header with the required fields, overridden or extended by raw TOML values."""
    values = {
        "title": '"T"',
        "subsection": '"S"',
        "explanation": '"E"',
        "expect": '"ok"',
    }
    values.update(fields)
    lines = [f"# {k} = {v}" for k, v in values.items() if v is not None]
    return "# /// snippet\n" + "\n".join(lines) + "\n# ///\n"


def make_section(root: Path, name: str = "01-basics", title: str = "Basics", order: int = 1,
                 files: dict[str, str] | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "section.toml").write_text(f'title = "{title}"\norder = {order}\n')
    for filename, text in (files or {}).items():
        (folder / filename).write_text(text)
    return folder


def highlighted_line(excerpt: str) -> tuple[int, str]:
    """(the number shown, the code) of the one highlighted line of an error excerpt's HTML."""
    import html
    import re

    assert excerpt.count('class="hll"') == 1, excerpt
    line_html = excerpt.split('<span class="hll">', 1)[1].split("\n", 1)[0]
    found = re.match(r'<span class="linenos">\s*(\d+)</span>(.*)', line_html)
    assert found, line_html
    return int(found.group(1)), html.unescape(re.sub(r"<[^>]+>", "", found.group(2)))
