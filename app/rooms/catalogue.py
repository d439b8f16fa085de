"""What a room may hold: the shipped exercises and snippets, by kind and id."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from app.exercises import Exercise, ExerciseSet, load_exercises
from app.snippets import Library, Snippet, load_library

ItemKind = Literal["exercise", "snippet"]


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    id: str

    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Catalogue:
    exercises: ExerciseSet
    library: Library

    def exercise(self, exercise_id: str) -> Exercise | None:
        return self.exercises.by_id(exercise_id)

    def snippet(self, snippet_id: str) -> Snippet | None:
        try:
            return self.library.snippet(snippet_id)
        except KeyError:
            return None

    def exists(self, item: Item) -> bool:
        found = self.exercise(item.id) if item.kind == "exercise" else self.snippet(item.id)
        return found is not None

    def title(self, item: Item) -> str:
        found = self.exercise(item.id) if item.kind == "exercise" else self.snippet(item.id)
        return found.title if found is not None else item.id

    def all_items(self) -> list[Item]:
        items = [Item("exercise", e.id) for e in self.exercises.exercises]
        items += [Item("snippet", s.id) for s in self.library.all_snippets()]
        return items


@cache
def catalogue() -> Catalogue:
    """The shipped exercises and snippets, loaded once per process."""
    return Catalogue(load_exercises(), load_library())
