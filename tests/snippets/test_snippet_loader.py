"""The loader: headers parse into Snippets, pairs and sections; every malformed header is a
SnippetError that names the file and the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.protocol import TRANSFORM_NAMES
from app.snippets import (
    Expectation,
    SnippetError,
    load_library,
    load_library_fresh,
    parse_snippet,
)
from tests.snippets.helpers import GOOD_CODE, GOOD_HEADER, header, make_section


def test_good_snippet_parses_every_field(tmp_path: Path) -> None:
    make_section(tmp_path, files={"square.py": GOOD_HEADER + "\n" + GOOD_CODE})
    library = load_library_fresh(tmp_path)
    snippet = library.snippet("basics/square")
    assert snippet.title == "Square"
    assert snippet.section == "Basics"
    assert snippet.subsection == "Basics"
    assert snippet.entry == "square"
    assert snippet.args == "(3.0,)"
    assert snippet.transforms == ("grad", "jit")
    assert snippet.expect == Expectation("ok", None, "9.0")
    assert snippet.guide_blocks == (1,)
    assert snippet.changes is None
    assert snippet.code == GOOD_CODE  # header and the blank line after it removed
    assert "# /// snippet" in snippet.source


def test_a_snippet_file_runs_as_plain_python(tmp_path: Path) -> None:
    path = tmp_path / "square.py"
    path.write_text(GOOD_HEADER + GOOD_CODE)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "9.0"


def test_expect_with_exception_and_message(tmp_path: Path) -> None:
    path = tmp_path / "boom.py"
    path.write_text(
        header(expect='{ outcome = "ValueError", message = "boom" }') + "raise ValueError('boom')\n"
    )
    snippet = parse_snippet(path)
    assert snippet.expect == Expectation("ValueError", "boom", None)
    assert snippet.expect.describe() == "ValueError: boom"


BAD_HEADERS: list[tuple[str, str, str | None, str]] = [
    # (case, file text, field the error must name, fragment of the problem)
    ("no header", "print(1)\n", None, "must start with"),
    ("unclosed", "# /// snippet\n# title = 'x'\nprint(1)\n", None, "not a '#' comment"),
    ("no end", "# /// snippet\n# title = 'x'\n", None, "no closing"),
    ("bad toml", "# /// snippet\n# title = \n# ///\n", None, "not valid TOML"),
    ("missing title", header(title=None) + "x = 1\n", "title", "is required"),
    ("empty explanation", header(explanation='"  "') + "x = 1\n", "explanation", "is empty"),
    ("title not a string", header(title="3") + "x = 1\n", "title", "wrong type"),
    ("unknown field", header(titel='"x"') + "x = 1\n", "titel", "not a known field"),
    ("bad outcome", header(expect='{ outcome = "not ok!" }') + "x = 1\n", "expect", "outcome"),
    ("message on ok", header(expect='{ outcome = "ok", message = "m" }') + "x = 1\n", "expect",
     "only makes sense"),
    ("unknown expect key", header(expect='{ outcome = "ok", stderr = "m" }') + "x = 1\n",
     "expect", "unknown key"),
    ("bad transform", header(entry='"f"', transforms='["jit", "fly"]') + "def f(x): return x\n",
     "transforms", "'fly'"),
    ("transforms without entry", header(transforms='["jit"]') + "x = 1\n", "transforms",
     "needs an entry"),
    ("entry not defined", header(entry='"missing"') + "def f(x): return x\n", "entry",
     "not defined"),
    ("entry not a name", header(entry='"f(x)"') + "def f(x): return x\n", "entry",
     "not a Python name"),
    ("args without entry", header(args='"(1,)"') + "x = 1\n", "args", "only with an entry"),
    ("args not an expression", header(entry='"f"', args='"(1,"') + "def f(x): return x\n",
     "args", "not a Python expression"),
    ("guide block zero", header(guide_blocks="[0]") + "x = 1\n", "guide_blocks", "positive"),
    ("guide block text", header(guide_blocks='["1"]') + "x = 1\n", "guide_blocks", "wrong type"),
    ("guide block true", header(guide_blocks="[true]") + "x = 1\n", "guide_blocks", "wrong type"),
    ("x64 not a flag", header(x64="1") + "x = 1\n", "x64", "wrong type"),
    ("expect a number", header(expect="5") + "x = 1\n", "expect", "wrong type"),
    ("empty title", header(title='""') + "x = 1\n", "title", "is empty"),
    ("code does not compile", header() + "def f(:\n", None, "does not compile"),
]


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [case[1:] for case in BAD_HEADERS],
    ids=[case[0] for case in BAD_HEADERS],
)
def test_malformed_header_names_file_and_field(
    tmp_path: Path, text: str, field: str | None, problem: str
) -> None:
    make_section(tmp_path, files={"broken.py": text})
    with pytest.raises(SnippetError) as caught:
        load_library_fresh(tmp_path)
    message = str(caught.value)
    assert "broken.py" in message
    assert caught.value.field == field
    if field is not None:
        assert f"field '{field}'" in message
    assert problem in message


def test_pair_loads_both_sides_and_difference(tmp_path: Path) -> None:
    make_section(tmp_path, files={
        "update.numpy.py": header(title='"NumPy side"') + "x = 1\n",
        "update.jax.py": header(title='"JAX side"', pair_title='"In-place update"',
                                difference='"They differ."') + "x = 2\n",
    })
    library = load_library_fresh(tmp_path)
    pair = library.pair("basics/update")
    assert pair.title == "In-place update"
    assert pair.difference == "They differ."
    assert pair.numpy.id == "basics/update.numpy"
    assert pair.jax.title == "JAX side"
    assert library.section("basics").snippets == ()  # pair sides are not standalone snippets
    assert [s.id for s in library.all_snippets()] == ["basics/update.numpy", "basics/update.jax"]


def test_pair_missing_a_side_is_an_error(tmp_path: Path) -> None:
    make_section(tmp_path, files={
        "update.jax.py": header(difference='"d"') + "x = 2\n",
    })
    with pytest.raises(SnippetError, match=r"update\.numpy\.py.*pair needs both"):
        load_library_fresh(tmp_path)


def test_pair_without_difference_names_the_jax_file(tmp_path: Path) -> None:
    make_section(tmp_path, files={
        "update.numpy.py": header() + "x = 1\n",
        "update.jax.py": header() + "x = 2\n",
    })
    with pytest.raises(SnippetError) as caught:
        load_library_fresh(tmp_path)
    assert caught.value.field == "difference"
    assert "update.jax.py" in str(caught.value)


def test_difference_outside_a_pair_is_an_error(tmp_path: Path) -> None:
    make_section(tmp_path, files={"single.py": header(difference='"d"') + "x = 1\n"})
    with pytest.raises(SnippetError) as caught:
        load_library_fresh(tmp_path)
    assert caught.value.field == "difference"
    assert "single.py" in str(caught.value)


def test_section_toml_errors_name_the_file_and_field(tmp_path: Path) -> None:
    folder = make_section(tmp_path)
    (folder / "section.toml").write_text("order = 1\n")
    with pytest.raises(SnippetError) as caught:
        load_library_fresh(tmp_path)
    assert caught.value.field == "title"
    assert "section.toml" in str(caught.value)
    (folder / "section.toml").unlink()
    with pytest.raises(SnippetError, match=r"section\.toml: is missing"):
        load_library_fresh(tmp_path)


def test_duplicate_section_order_is_an_error(tmp_path: Path) -> None:
    make_section(tmp_path, "01-a", "A", 1)
    make_section(tmp_path, "02-b", "B", 1)
    with pytest.raises(SnippetError) as caught:
        load_library_fresh(tmp_path)
    assert caught.value.field == "order"


def test_sections_and_snippets_follow_the_guide_order(tmp_path: Path) -> None:
    make_section(tmp_path, "02-later", "Later", 2, {"a.py": header(guide_blocks="[9]") + "x=1\n"})
    make_section(tmp_path, "01-first", "First", 1, {
        "zebra.py": header(guide_blocks="[1]") + "x = 1\n",
        "alpha.py": header(guide_blocks="[2]") + "x = 1\n",
        "extra.py": header() + "x = 1\n",
    })
    library = load_library_fresh(tmp_path)
    assert [s.slug for s in library.sections] == ["first", "later"]
    assert [s.id for s in library.sections[0].snippets] == [
        "first/zebra", "first/alpha", "first/extra"
    ]


# --- the shipped library ------------------------------------------------------------------


def test_shipped_library_loads_with_unique_ids() -> None:
    library = load_library()
    ids = [s.id for s in library.all_snippets()]
    assert len(ids) == len(set(ids))
    assert len(library.sections) == 12
    assert [s.order for s in library.sections] == sorted(s.order for s in library.sections)
    for section in library.sections:
        assert section.snippets or section.pairs, section.slug
    for snippet in library.all_snippets():
        assert set(snippet.transforms) <= set(TRANSFORM_NAMES)


def test_shipped_library_has_the_required_gotcha_pairs() -> None:
    pairs = {p.id for p in load_library().pairs}
    quick = {"in-place-update", "random-state", "list-inputs", "out-of-bounds",
             "value-dependent-if", "dynamic-shapes", "default-precision", "print-in-jit"}
    vs_numpy = {"in-place-update", "random-state", "precision", "out-of-bounds",
                "out-of-bounds-update", "non-array-inputs"}
    sharp = {"impure-functions", "value-dependent-if", "dynamic-shapes", "shared-references",
             "print-in-jit", "argmax-gradient"}
    expected = ({f"gotchas-quick-reference/{n}" for n in quick}
                | {f"jax-vs-numpy/{n}" for n in vs_numpy} | {f"sharp-bits/{n}" for n in sharp})
    assert expected <= pairs, sorted(expected - pairs)


def test_every_guide_fix_says_what_changed() -> None:
    """Snippets that show the guide's code failing say so in `changes`."""
    for snippet in load_library().all_snippets():
        if snippet.id.endswith("-as-written"):
            assert snippet.changes, snippet.id
            assert snippet.expect.outcome != "ok", snippet.id


def test_guide_issue_and_x64_are_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "issue.py"
    path.write_text(header(guide_issue='"The guide is wrong here."', x64="true") + "x = 1\n")
    snippet = parse_snippet(path)
    assert snippet.guide_issue == "The guide is wrong here."
    assert snippet.x64 is True
    plain = tmp_path / "plain.py"
    plain.write_text(header() + "x = 1\n")
    assert parse_snippet(plain).guide_issue is None


def test_an_outcome_can_hold_from_or_until_a_jax_version(tmp_path: Path) -> None:
    path = tmp_path / "v.py"
    path.write_text(header(
        expect='"ok"',
        versions='[{ until = "0.11", expect = "KeyError" }, '
                 '{ from = "0.11", until = "0.12", expect = { outcome = "ok", stdout = "x" } }]',
    ) + "print('x')\n")
    snippet = parse_snippet(path)
    assert snippet.expect_for("0.4.38").outcome == "KeyError"
    assert snippet.expect_for("0.10.2").outcome == "KeyError"
    assert snippet.expect_for("0.11.0").stdout == "x"  # from is inclusive
    assert snippet.expect_for("0.11.2").stdout == "x"
    assert snippet.expect_for("0.12.0.1") == snippet.expect  # until is exclusive
    assert snippet.expect_for(None) == snippet.expect


@pytest.mark.parametrize("versions, says", [
    ('[{ expect = "ok" }]', "from or until"),
    ('[{ until = "eleven", expect = "ok" }]', "is not a version"),
    ('[{ until = "0.11", outcome = "ok" }]', "each entry"),
    ('[{ until = "0.11", since = "0.4", expect = "ok" }]', "unknown key"),
])
def test_a_bad_versions_entry_names_the_field(tmp_path: Path, versions: str, says: str) -> None:
    path = tmp_path / "v.py"
    path.write_text(header(versions=versions) + "print(1)\n")
    with pytest.raises(SnippetError, match=f"field 'versions'.*{says}"):
        parse_snippet(path)
