"""Loads and validates the exercises in exercises/ (format: exercises/README.md).

One TOML file per exercise, in a folder named like the snippet section it belongs to
(`exercises/04-sharp-bits/jit-safe-counter.toml`): a statement, starter code, a check, up to three
hints and a solution. The check is Python run by the sandboxed worker after the person's code
(app/worker/checking.py). Every problem is an ExerciseError naming the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app import decoding
from app.protocol import RunRequest
from app.snippets import Library, SnippetError, load_library

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "exercises"
MAX_HINTS = 3
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SECTION_DIR = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)$")
_CODE_FIELDS = ("starter", "solution", "check")
_TEXT = {"non_empty": True}


@dataclass(frozen=True)
class _Header:
    """An exercise file's fields, as app/decoding.py checks them (an unknown one is an error)."""

    title: str = field(metadata=_TEXT)
    statement: str = field(metadata=_TEXT)
    starter: str = field(metadata=_TEXT)
    solution: str = field(metadata=_TEXT)
    check: str = field(metadata=_TEXT)
    hints: list[str] = field(default_factory=list,
                             metadata={"max_items": MAX_HINTS, "non_empty": True})
    order: int = 100
    x64: bool = False


class ExerciseError(SnippetError):
    """A malformed exercise; the message names the file and the field (as for snippets)."""


@dataclass(frozen=True)
class Exercise:
    id: str  # "<section-slug>/<file-stem>"
    path: Path
    section_slug: str
    section: str  # the section's title, from the snippet library
    title: str
    statement: str  # Markdown written by us (the exercise authors), never user text
    starter: str
    solution: str
    check: str
    hints: tuple[str, ...]
    order: int = 100
    x64: bool = False

    def request(self, code: str, timeout_s: float | None = None) -> RunRequest:
        """The run that checks code against this exercise: the code, then the check."""
        return RunRequest(code=code, check=self.check, x64=self.x64, timeout_s=timeout_s)


@dataclass(frozen=True)
class ExerciseSet:
    root: Path
    exercises: tuple[Exercise, ...]  # in the guide's section order, then by order and id

    def by_id(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def for_section(self, slug: str) -> tuple[Exercise, ...]:
        return tuple(e for e in self.exercises if e.section_slug == slug)

    def sections(self) -> tuple[tuple[str, str], ...]:
        """(slug, title) of the sections that have exercises, in the guide's order."""
        return tuple(dict.fromkeys((e.section_slug, e.section) for e in self.exercises))


def parse_exercise(path: Path, section_slug: str, section_title: str) -> Exercise:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ExerciseError(path, None, f"cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseError(path, None, f"is not valid TOML: {exc}") from exc
    try:
        header = decoding.build(_Header, data, unknown="reject")
    except decoding.DecodeError as exc:
        raise ExerciseError(path, exc.field, exc.problem) from None
    for name in _CODE_FIELDS:
        try:
            compile(getattr(header, name), f"{path}:{name}", "exec")
        except SyntaxError as exc:
            raise ExerciseError(path, name, f"does not compile: {exc}") from exc
    if "case(" not in header.check:
        raise ExerciseError(path, "check", "names no case: wrap each test in `with case(...)`")
    if header.starter.strip() == header.solution.strip():
        raise ExerciseError(path, "solution", "is the same as the starter")
    stem = path.name[: -len(".toml")]
    return Exercise(
        id=f"{section_slug}/{stem}",
        path=path,
        section_slug=section_slug,
        section=section_title,
        title=header.title.strip(),
        statement=header.statement.strip(),
        starter=header.starter.lstrip("\n"),
        solution=header.solution.lstrip("\n"),
        check=header.check.lstrip("\n"),
        hints=tuple(h.strip() for h in header.hints),
        order=header.order,
        x64=header.x64,
    )


def _load(root: Path, library: Library) -> ExerciseSet:
    if not root.is_dir():
        raise ExerciseError(root, None, "is not a folder")
    titles = {s.slug: s.title for s in library.sections}
    section_order = {s.slug: s.order for s in library.sections}
    found: list[Exercise] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        match = _SECTION_DIR.match(folder.name)
        if not match or match.group(2) not in titles:
            raise ExerciseError(folder, None, "must be named like a section folder of snippets/")
        slug = match.group(2)
        for path in sorted(folder.glob("*.toml")):
            if not _NAME.match(path.stem):
                raise ExerciseError(path, None, "file names are lower-case words and dashes")
            found.append(parse_exercise(path, slug, titles[slug]))
    found.sort(key=lambda e: (section_order[e.section_slug], e.order, e.id))
    return ExerciseSet(root=root, exercises=tuple(found))


@cache
def _load_cached(root: Path) -> ExerciseSet:
    return _load(root, load_library())


def load_exercises(root: Path | None = None) -> ExerciseSet:
    """The exercises under root (default: the repo's exercises/), parsed once per process."""
    return _load_cached((root or DEFAULT_ROOT).resolve())


def load_exercises_fresh(root: Path | None = None, library: Library | None = None) -> ExerciseSet:
    return _load((root or DEFAULT_ROOT).resolve(), library or load_library())
