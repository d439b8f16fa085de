"""The exercise format: every shipped exercise loads; a malformed one is refused naming the file
and the field; each guide section has at least two exercises."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.exercises import MAX_HINTS, ExerciseError, load_exercises, load_exercises_fresh
from app.snippets import load_library

GOOD = '''
title = "T"
statement = "Do it."
hints = ["one"]
starter = "x = 1"
solution = "x = 2"
check = """
with case("x is 2"):
    expect(user.x == 2, "x should be 2")
"""
'''


def write(root: Path, text: str, name: str = "an-exercise.toml",
          section: str = "04-sharp-bits") -> Path:
    folder = root / section
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_every_section_of_the_guide_has_at_least_two_exercises() -> None:
    found = load_exercises()
    for section in load_library().sections:
        assert len(found.for_section(section.slug)) >= 2, section.slug
    assert len(found.exercises) >= 24
    assert all(1 <= len(e.hints) <= MAX_HINTS for e in found.exercises)


def test_a_good_exercise_loads(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (exercise,) = load_exercises_fresh(tmp_path).exercises
    assert exercise.id == "sharp-bits/an-exercise"
    assert exercise.section == "Sharp Bits & Gotchas"
    request = exercise.request("x = 2")
    assert request.check == exercise.check and request.code == "x = 2"


@pytest.mark.parametrize(("change", "field", "problem"), [
    (lambda t: t.replace('title = "T"\n', ""), "title", "is required"),
    (lambda t: t.replace('hints = ["one"]', 'hints = ["a", "b", "c", "d"]'), "hints", "at most 3"),
    (lambda t: t.replace('hints = ["one"]', "hints = [1]"), "hints", "wrong type"),
    (lambda t: t.replace('hints = ["one"]', 'hints = [" "]'), "hints", "is empty"),
    (lambda t: t.replace('title = "T"', 'title = "  "'), "title", "is empty"),
    (lambda t: t + "order = 1.5\n", "order", "wrong type"),
    (lambda t: t.replace('starter = "x = 1"', 'starter = "x = ("'), "starter", "does not compile"),
    (lambda t: t.replace('with case("x is 2"):\n    ', ""), "check", "names no case"),
    (lambda t: t + 'colour = "red"\n', "colour", "not a known field"),
    (lambda t: t + "order = true\n", "order", "wrong type"),
    (lambda t: t.replace('solution = "x = 2"', 'solution = "x = 1"'), "solution", "the same"),
])
def test_a_malformed_exercise_names_the_file_and_field(tmp_path: Path, change, field,
                                                       problem) -> None:
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ExerciseError, match=problem) as raised:
        load_exercises_fresh(tmp_path)
    assert raised.value.field == field and raised.value.path == path


def test_a_folder_must_be_a_section_of_the_guide(tmp_path: Path) -> None:
    write(tmp_path, GOOD, section="99-no-such-section")
    with pytest.raises(ExerciseError, match="section folder"):
        load_exercises_fresh(tmp_path)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "title = ")
    with pytest.raises(ExerciseError, match="not valid TOML"):
        load_exercises_fresh(tmp_path)
