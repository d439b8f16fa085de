"""Loads and validates the snippet library in snippets/ (see snippets/README.md for the format).

Each snippet is a plain .py file whose first lines are a TOML header written as comments, in the
style of PEP 723 inline metadata, so the file still runs as plain Python:

    # /// snippet
    # title = "Gradient of a sum of squares"
    # subsection = "1. jax.grad - Automatic Differentiation"
    # explanation = "..."
    # expect = "ok"
    # guide_blocks = [1]
    # ///

Sections are folders ``NN-slug`` holding a section.toml (title, order). A gotcha pair is two
files ``<name>.numpy.py`` and ``<name>.jax.py``; the jax side's header carries ``difference``
(one sentence) and may carry ``pair_title``. Every problem is a SnippetError naming file and field.

Over 400 lines on purpose: the format's one reader (header, sections, pairs, the library), kept
in one file so that the format and its checks read together with snippets/README.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from app import decoding
from app.protocol import TRANSFORM_NAMES

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "snippets"

HEADER_START = "# /// snippet"
HEADER_END = "# ///"
_SECTION_DIR = re.compile(r"^(\d+)-([a-z0-9][a-z0-9-]*)$")
_OUTCOME = re.compile(r"^(ok|[A-Za-z_][A-Za-z0-9_]*)$")
_PAIR_SIDES = ("numpy", "jax")

_TEXT = {"non_empty": True}


@dataclass(frozen=True)
class _Header:
    """A snippet header's fields, as app/decoding.py checks them (an unknown one is an error)."""

    title: str = field(metadata=_TEXT)
    subsection: str = field(metadata=_TEXT)
    explanation: str = field(metadata=_TEXT)
    expect: Any  # an outcome, or a table of outcome, message and stdout: see _expectation
    entry: str | None = None
    args: str | None = None
    transforms: list[str] = field(default_factory=list)
    changes: str | None = None
    guide_blocks: list[int] = field(default_factory=list)
    numpy_entry: str | None = None
    difference: str | None = None
    pair_title: str | None = None
    x64: bool = False
    guide_issue: str | None = None
    versions: list[Any] = field(default_factory=list)  # outcomes by JAX version: see _versions

_EXPECT_KEYS = {"outcome", "message", "stdout"}
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,3}$")


def version_key(version: str) -> tuple[int, ...]:
    """"0.4.38" -> (0, 4, 38); "0.11" sorts before "0.11.0.1"."""
    return tuple(int(part) for part in re.findall(r"[0-9]+", version)[:4])


class SnippetError(ValueError):
    """A malformed snippet, section or pair; the message names the file and the field."""

    def __init__(self, path: Path, field_name: str | None, problem: str) -> None:
        self.path = path
        self.field = field_name
        where = f"{path}" + (f": field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Expectation:
    outcome: str  # "ok", or an exception class name such as "TracerBoolConversionError"
    message: str | None = None  # a fragment of the exception's message
    stdout: str | None = None  # a fragment the run must print (checks the snippet's claim)

    def describe(self) -> str:
        if self.outcome == "ok":
            return "ok"
        return f"{self.outcome}: {self.message}" if self.message else self.outcome


@dataclass(frozen=True)
class VersionedExpectation:
    """An outcome that holds on a range of JAX versions: from (inclusive) until (exclusive)."""

    expect: Expectation
    since: str | None = None
    until: str | None = None

    def holds_on(self, jax_version: str) -> bool:
        key = version_key(jax_version)
        if self.since is not None and key < version_key(self.since):
            return False
        return self.until is None or key < version_key(self.until)

    def describe(self) -> str:
        bounds = [f"from {self.since}" if self.since else "", f"until {self.until}"
                  if self.until else ""]
        return " ".join(b for b in bounds if b)


@dataclass(frozen=True)
class Snippet:
    id: str  # "<section-slug>/<file-stem>"
    path: Path
    title: str
    section: str  # the section's title
    subsection: str  # the guide heading the code comes from
    explanation: str
    code: str  # the runnable body shown in the editor (header removed)
    entry: str | None  # a function of the snippet for the Transform Lab
    args: str | None  # Python expression evaluated in the snippet's namespace -> tuple
    transforms: tuple[str, ...]  # which of grad/value_and_grad/jit/vmap/pmap make sense
    expect: Expectation
    changes: str | None  # what we fixed against the guide, and why
    guide_blocks: tuple[int, ...]  # 1-based indexes of the guide's python code blocks covered
    numpy_entry: str | None = None  # a NumPy version of entry, for JAX-vs-NumPy timings
    x64: bool = False  # run with jax_enable_x64 (RunRequest.x64)
    section_slug: str = ""
    guide_issue: str | None = None  # one sentence: what the guide gets wrong here, if anything
    # Outcomes that differ on some JAX versions (first match wins; else `expect`).
    by_version: tuple[VersionedExpectation, ...] = ()

    def expect_for(self, jax_version: str | None) -> Expectation:
        """The outcome expected on this JAX version (None: the default runtime's, `expect`)."""
        if jax_version:
            for entry in self.by_version:
                if entry.holds_on(jax_version):
                    return entry.expect
        return self.expect

    @property
    def source(self) -> str:
        """The whole file, header included."""
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Pair:
    id: str  # "<section-slug>/<name>"
    title: str
    section: str
    numpy: Snippet
    jax: Snippet
    difference: str  # one sentence: what differs between the two sides


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    order: int
    snippets: tuple[Snippet, ...]  # standalone snippets, pair sides excluded
    pairs: tuple[Pair, ...]
    intro: str = ""
    path: Path | None = None

    def all_snippets(self) -> tuple[Snippet, ...]:
        """Every runnable file of the section in the guide's order, a pair's sides together."""
        groups: list[tuple[Snippet, ...]] = [(s,) for s in self.snippets]
        groups += [(p.numpy, p.jax) for p in self.pairs]
        groups.sort(key=lambda g: min(_guide_order(s) for s in g))
        return tuple(s for g in groups for s in g)


@dataclass(frozen=True)
class Library:
    root: Path
    sections: tuple[Section, ...]  # in the guide's order
    _snippets: dict[str, Snippet] = field(default_factory=dict, repr=False, compare=False)
    _pairs: dict[str, Pair] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pairs(self) -> tuple[Pair, ...]:
        return tuple(p for s in self.sections for p in s.pairs)

    def section(self, slug: str) -> Section:
        for s in self.sections:
            if s.slug == slug:
                return s
        raise KeyError(slug)

    def snippet(self, snippet_id: str) -> Snippet:
        return self._snippets[snippet_id]

    def pair(self, pair_id: str) -> Pair:
        return self._pairs[pair_id]

    def all_snippets(self) -> tuple[Snippet, ...]:
        """Every runnable file: each section's snippets, then both sides of its pairs."""
        return tuple(self._iter_all())

    def _iter_all(self) -> Iterator[Snippet]:
        for s in self.sections:
            yield from s.all_snippets()


# --- parsing ---------------------------------------------------------------------------------


def split_header(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """Return (header as a dict, code without the header)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].rstrip() != HEADER_START:
        raise SnippetError(path, None, f"the file must start with a '{HEADER_START}' header")
    body: list[str] = []
    end = None
    for i in range(start + 1, len(lines)):
        line = lines[i].rstrip("\n")
        if line.rstrip() == HEADER_END:
            end = i
            break
        if not line.startswith("#"):
            raise SnippetError(path, None, f"header line {i + 1} is not a '#' comment")
        body.append(line[2:] if line.startswith("# ") else line[1:])
    if end is None:
        raise SnippetError(path, None, f"the header has no closing '{HEADER_END}' line")
    try:
        header = tomllib.loads("\n".join(body))
    except tomllib.TOMLDecodeError as exc:
        raise SnippetError(path, None, f"the header is not valid TOML: {exc}") from exc
    code = "".join(lines[end + 1 :]).lstrip("\n")
    return header, code


def _check_fields(path: Path, header: dict[str, Any]) -> None:
    try:
        decoding.build(_Header, header, unknown="reject")
    except decoding.DecodeError as exc:
        raise SnippetError(path, exc.field, exc.problem) from None


def _expectation(path: Path, raw: object) -> Expectation:
    if not isinstance(raw, str | dict):
        raise SnippetError(path, "expect", "has the wrong type: expected an outcome or a table")
    data = {"outcome": raw} if isinstance(raw, str) else dict(raw)
    unknown = set(data) - _EXPECT_KEYS
    if unknown:
        raise SnippetError(path, "expect", f"unknown key(s) {sorted(unknown)}")
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or not _OUTCOME.match(outcome):
        raise SnippetError(path, "expect", "needs outcome = 'ok' or an exception class name")
    for key in ("message", "stdout"):
        if key in data and not isinstance(data[key], str):
            raise SnippetError(path, "expect", f"{key} must be a string")
    if outcome == "ok" and data.get("message"):
        raise SnippetError(path, "expect", "a message only makes sense with an exception")
    return Expectation(outcome, data.get("message"), data.get("stdout"))


def _versions(path: Path, raw: list[Any]) -> tuple[VersionedExpectation, ...]:
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or "expect" not in entry:
            raise SnippetError(path, "versions", "each entry is { from/until = \"0.11\", "
                               "expect = ... }")
        unknown = set(entry) - {"from", "until", "expect"}
        if unknown:
            raise SnippetError(path, "versions", f"unknown key(s) {sorted(unknown)}")
        since, until = entry.get("from"), entry.get("until")
        if since is None and until is None:
            raise SnippetError(path, "versions", "an entry needs from or until")
        for bound in (since, until):
            if bound is not None and (not isinstance(bound, str) or not _VERSION.match(bound)):
                raise SnippetError(path, "versions", f"{bound!r} is not a version like \"0.11\"")
        out.append(VersionedExpectation(_expectation(path, entry["expect"]), since, until))
    return tuple(out)


def _identifier(path: Path, name: str, value: str | None, code: str) -> str | None:
    if value is None:
        return None
    if not value.isidentifier():
        raise SnippetError(path, name, f"{value!r} is not a Python name")
    if not re.search(rf"^(def {value}\b|{value}\s*=)", code, re.MULTILINE):
        raise SnippetError(path, name, f"{value!r} is not defined at the top level of the code")
    return value


def parse_snippet(path: Path, section_slug: str = "", section_title: str = "") -> Snippet:
    """Parse one snippet file; raises SnippetError naming the file and the field."""
    return _parse(path, section_slug, section_title)[0]


def _parse(path: Path, section_slug: str, section_title: str) -> tuple[Snippet, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnippetError(path, None, f"cannot be read: {exc}") from exc
    header, code = split_header(path, text)
    _check_fields(path, header)
    try:
        compile(code, str(path), "exec")
    except SyntaxError as exc:
        raise SnippetError(path, None, f"the code does not compile: {exc}") from exc
    transforms = tuple(header.get("transforms", ()))
    for t in transforms:
        if t not in TRANSFORM_NAMES:
            raise SnippetError(path, "transforms", f"{t!r} is not one of {TRANSFORM_NAMES}")
    blocks = tuple(header.get("guide_blocks", ()))
    if any(not isinstance(b, int) or isinstance(b, bool) or b < 1 for b in blocks):
        raise SnippetError(path, "guide_blocks", "must be a list of positive integers")
    entry = _identifier(path, "entry", header.get("entry"), code)
    args = header.get("args")
    if args is not None:
        try:
            compile(args, f"{path}:args", "eval")
        except SyntaxError as exc:
            raise SnippetError(path, "args", f"is not a Python expression: {exc}") from exc
        if entry is None:
            raise SnippetError(path, "args", "makes sense only with an entry")
    if transforms and entry is None:
        raise SnippetError(path, "transforms", "needs an entry function to transform")
    stem = path.name[: -len(".py")]
    snippet = Snippet(
        id=f"{section_slug}/{stem}" if section_slug else stem,
        path=path,
        title=header["title"].strip(),
        section=section_title,
        subsection=header["subsection"].strip(),
        explanation=header["explanation"].strip(),
        code=code,
        entry=entry,
        args=args,
        transforms=transforms,
        expect=_expectation(path, header["expect"]),
        changes=(header.get("changes") or "").strip() or None,
        guide_blocks=blocks,
        numpy_entry=_identifier(path, "numpy_entry", header.get("numpy_entry"), code),
        x64=bool(header.get("x64", False)),
        section_slug=section_slug,
        guide_issue=(header.get("guide_issue") or "").strip() or None,
        by_version=_versions(path, header.get("versions", [])),
    )
    return snippet, header


def _read_section_toml(folder: Path) -> dict[str, Any]:
    path = folder / "section.toml"
    if not path.is_file():
        raise SnippetError(path, None, "is missing")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SnippetError(path, None, f"is not valid TOML: {exc}") from exc
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        raise SnippetError(path, "title", "is required (a non-empty string)")
    if not isinstance(data.get("order"), int):
        raise SnippetError(path, "order", "is required (an integer)")
    if "intro" in data and not isinstance(data["intro"], str):
        raise SnippetError(path, "intro", "must be a string")
    return data


def load_section(folder: Path) -> Section:
    match = _SECTION_DIR.match(folder.name)
    if not match:
        raise SnippetError(folder, None, "a section folder is named like '01-core-transformations'")
    slug = match.group(2)
    meta = _read_section_toml(folder)
    title = meta["title"].strip()
    singles: list[Snippet] = []
    sides: dict[str, dict[str, Snippet]] = {}
    headers: dict[Path, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.py")):
        snippet, headers[path] = _parse(path, slug, title)
        stem = path.name[: -len(".py")]
        base, _, side = stem.rpartition(".")
        if base and side in _PAIR_SIDES:
            sides.setdefault(base, {})[side] = snippet
        else:
            singles.append(snippet)
        if side != "jax" and headers[path].keys() & {"difference", "pair_title"}:
            raise SnippetError(path, "difference", "belongs on the jax side of a pair only")
    pairs = [
        _make_pair(folder, slug, title, base, found, headers)
        for base, found in sorted(sides.items())
    ]
    singles.sort(key=_guide_order)
    pairs.sort(key=lambda p: _guide_order(p.jax) if p.jax.guide_blocks else _guide_order(p.numpy))
    return Section(
        slug=slug,
        title=title,
        order=meta["order"],
        snippets=tuple(singles),
        pairs=tuple(pairs),
        intro=meta.get("intro", "").strip(),
        path=folder,
    )


def _make_pair(
    folder: Path,
    slug: str,
    title: str,
    base: str,
    found: dict[str, Snippet],
    headers: dict[Path, dict[str, Any]],
) -> Pair:
    for side in _PAIR_SIDES:
        if side not in found:
            raise SnippetError(folder / f"{base}.{side}.py", None, "is missing: a pair needs both")
    numpy_side, jax_side = found["numpy"], found["jax"]
    header = headers[jax_side.path]
    difference = header.get("difference")
    if not isinstance(difference, str) or not difference.strip():
        raise SnippetError(jax_side.path, "difference", "is required on the jax side of a pair")
    return Pair(
        id=f"{slug}/{base}",
        title=str(header.get("pair_title") or jax_side.title).strip(),
        section=title,
        numpy=numpy_side,
        jax=jax_side,
        difference=difference.strip(),
    )


def _guide_order(snippet: Snippet) -> tuple[int, str]:
    """Within a section, follow the guide: by first covered block; uncovered ones last, by id."""
    return (min(snippet.guide_blocks, default=10_000), snippet.id)


def _load(root: Path) -> Library:
    if not root.is_dir():
        raise SnippetError(root, None, "is not a folder")
    folders = [p for p in sorted(root.iterdir()) if p.is_dir() and _SECTION_DIR.match(p.name)]
    sections = sorted((load_section(f) for f in folders), key=lambda s: s.order)
    seen_orders: dict[int, str] = {}
    seen_slugs: set[str] = set()
    for s in sections:
        if s.order in seen_orders:
            raise SnippetError(
                s.path or root, "order", f"{s.order} is also used by {seen_orders[s.order]}"
            )
        if s.slug in seen_slugs:
            raise SnippetError(s.path or root, None, f"the slug {s.slug!r} is used twice")
        seen_orders[s.order] = s.slug
        seen_slugs.add(s.slug)
    library = Library(root=root, sections=tuple(sections))
    for snippet in library.all_snippets():
        library._snippets[snippet.id] = snippet
    for pair in library.pairs:
        library._pairs[pair.id] = pair
    return library


@cache
def _load_cached(root: Path) -> Library:
    return _load(root)


def load_library(root: Path | None = None) -> Library:
    """The library under root (default: the repo's snippets/), parsed once per process."""
    return _load_cached((root or DEFAULT_ROOT).resolve())


def load_library_fresh(root: Path | None = None) -> Library:
    """Parse again, bypassing the cache (tests, `check`)."""
    return _load((root or DEFAULT_ROOT).resolve())
