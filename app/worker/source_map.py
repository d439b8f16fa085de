"""Which line of the user's code each line of a jaxpr, StableHLO or optimised HLO came from.

JAX keeps a Python traceback on every jaxpr equation; lowering turns it into MLIR `loc(...)`
locations, and XLA keeps it in HLO metadata (a `stack_frame_id` into the module's StackFrames
table, or `source_file`/`source_line` in older versions). JAX drops its own frames from these
("user frames"); `only_user_frames` makes it drop every frame that is not the snippet too: the
worker's and the zygote's frames would otherwise fill the HLO's tables (and a hosted server
would show its layout), and a library function the snippet calls maps to the snippet's line
that called it. Lines that no snippet line made (JAX's own loop counters, the module's
header) map to None.
"""

from __future__ import annotations

import re
from typing import Any

from app.worker.errors import SNIPPET_FILENAME

_registered = False


def only_user_frames() -> bool:
    """Make JAX treat the snippet as the only user code, for every location it records.

    Uses JAX's own exclusion list (source_info_util): exclude every path (the empty prefix),
    include the snippet's pseudo file name. Returns False where this JAX lacks the hooks.
    """
    global _registered
    if _registered:
        return True
    try:
        from jax._src import source_info_util
    except ImportError:
        return False
    exclude = getattr(source_info_util, "register_exclusion", None)
    include = getattr(source_info_util, "register_inclusion", None)
    if not (callable(exclude) and callable(include)):
        return False
    include(SNIPPET_FILENAME)
    exclude("")
    _registered = True
    return True


# --- jaxpr ---------------------------------------------------------------------------------


def _snippet_line(traceback: Any) -> int | None:
    """The innermost frame of the snippet in a JAX traceback, as a line number."""
    from jax._src import source_info_util

    for frame in source_info_util.user_frames(traceback):
        if frame.file_name == SNIPPET_FILENAME:
            return int(frame.start_line)
    return None


def jaxpr_text(closed_jaxpr: Any) -> tuple[str, list[int | None] | None]:
    """The jaxpr as str() prints it, and each line's source line (None where unknown).

    The pretty printer reports, per output line, the equations printed there (innermost
    first). Where this JAX has no source_map argument, the text comes without a mapping.
    """
    source_map: list[list[tuple[int, int, Any]]] = []
    try:
        text = closed_jaxpr.pretty_print(source_map=source_map)
    except TypeError:
        return str(closed_jaxpr), None
    lines: list[int | None] = []
    try:
        for entries in source_map:
            found = None
            for _start, _end, traceback in entries:
                found = _snippet_line(traceback)
                if found is not None:
                    break
            lines.append(found)
    except (AttributeError, TypeError, ValueError):  # an older JAX records other objects
        return text, None
    count = text.count("\n") + 1
    return text, (lines + [None] * count)[:count]


def jaxpr_primitives(closed_jaxpr: Any) -> list[str]:
    """Every primitive in the jaxpr and in the jaxprs nested in its equations' parameters."""
    seen: set[str] = set()
    stack = [getattr(closed_jaxpr, "jaxpr", closed_jaxpr)]
    visited: set[int] = set()
    while stack:
        jaxpr = stack.pop()
        if id(jaxpr) in visited:
            continue
        visited.add(id(jaxpr))
        for eqn in getattr(jaxpr, "eqns", ()):
            seen.add(eqn.primitive.name)
            for value in eqn.params.values():
                stack.extend(_nested_jaxprs(value))
    return sorted(seen)


def _nested_jaxprs(value: Any) -> list[Any]:
    if hasattr(value, "eqns"):
        return [value]
    if hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):
        return [value.jaxpr]
    if isinstance(value, tuple | list):
        return [j for item in value for j in _nested_jaxprs(item)]
    return []


# --- StableHLO (MLIR) ------------------------------------------------------------------------

_ALIAS_LINE = re.compile(r"^(#loc\d*)\s*=\s*loc\((.*)\)\s*$")
_FILE_LINE = re.compile(r":(\d+)(?::\d+)?")


def _skip_string(text: str, start: int) -> int:
    """Index just past the string literal that starts at text[start] == '"'."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return len(text)


def _split_top(text: str, separator: str) -> list[str]:
    """Split at separators outside strings, parentheses and brackets."""
    parts, depth, i, last = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _skip_string(text, i)
            continue
        if char in "([<":
            depth += 1
        elif char in ")]>":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[last:i])
            i += len(separator)
            last = i
            continue
        i += 1
    parts.append(text[last:])
    return parts


def _unquote(text: str) -> tuple[str, str]:
    end = _skip_string(text, 0)
    return text[1 : end - 1].replace('\\"', '"'), text[end:]


def _loc_line(expr: str, aliases: dict[str, str], depth: int = 0) -> int | None:
    """The innermost snippet line in an MLIR location expression (the text inside loc(...))."""
    expr = expr.strip()
    if depth > 64 or not expr:
        return None
    if expr.startswith("#"):
        return _loc_line(aliases.get(expr, ""), aliases, depth + 1)
    if expr.startswith("callsite(") and expr.endswith(")"):
        parts = _split_top(expr[len("callsite("):-1], " at ")
        for part in parts:  # the callee first: it is the innermost frame
            found = _loc_line(part, aliases, depth + 1)
            if found is not None:
                return found
        return None
    if expr.startswith("fused"):
        inner = expr[expr.find("[") + 1 : expr.rfind("]")]
        for part in _split_top(inner, ","):
            found = _loc_line(part, aliases, depth + 1)
            if found is not None:
                return found
        return None
    if expr.startswith('"'):
        name, rest = _unquote(expr)
        rest = rest.strip()
        if rest.startswith(":"):
            match = _FILE_LINE.match(rest)
            return int(match[1]) if match and name == SNIPPET_FILENAME else None
        if rest.startswith("(") and rest.endswith(")"):
            return _loc_line(rest[1:-1], aliases, depth + 1)
    return None


def _strip_locs(line: str) -> tuple[str, list[str]]:
    """The line without its ` loc(...)` parts, and those parts' inner expressions."""
    out, found, i = [], [], 0
    while i < len(line):
        char = line[i]
        if char == '"':
            end = _skip_string(line, i)
            out.append(line[i:end])
            i = end
            continue
        if line.startswith("loc(", i) and (i == 0 or not (line[i - 1].isalnum() or
                                                          line[i - 1] in "_.")):
            depth, j = 0, i + 3
            while j < len(line):
                if line[j] == '"':
                    j = _skip_string(line, j)
                    continue
                if line[j] == "(":
                    depth += 1
                elif line[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            found.append(line[i + 4 : j])
            while out and out[-1].endswith(" "):  # the space before "loc("
                out[-1] = out[-1][:-1]
            i = j + 1
            continue
        out.append(char)
        i += 1
    return "".join(out), found


def stablehlo_text(debug_text: str, plain_text: str | None = None
                   ) -> tuple[str, list[int | None]]:
    """StableHLO without locations, and each line's source line, from as_text(debug_info=True).

    The locations are taken out of the listing (they are what the gutter shows); where the
    result equals JAX's own text without debug info line for line, that text is returned.
    """
    aliases: dict[str, str] = {}
    body: list[tuple[str, list[str]]] = []
    for line in debug_text.splitlines():
        alias = _ALIAS_LINE.match(line)
        if alias:
            aliases[alias[1]] = alias[2]
            continue
        body.append(_strip_locs(line))
    while body and not body[-1][0].strip():
        body.pop()
    lines = [next((n for n in (_loc_line(e, aliases) for e in exprs) if n is not None), None)
             for _, exprs in body]
    text = "\n".join(stripped for stripped, _ in body)
    if plain_text is not None:
        plain = plain_text.rstrip("\n").splitlines()
        if [p.rstrip() for p in plain] == [s.rstrip() for s, _ in body]:
            text = "\n".join(plain)
    return text, lines


_DIALECTS = r"(?:stablehlo|chlo|mhlo|func|sdy|shardy|tensor|arith)"
# An op where MLIR prints one: the start of a statement (after its results, if any), the
# generic form's quoted name, or a region's reducer ("applies stablehlo.add").
_MLIR_OP = re.compile(rf"(?:^\s*(?:%[\w#:]+(?:\s*,\s*%[\w#:]+)*\s*=\s*)?\"?|applies\s+)"
                      rf"({_DIALECTS}\.[a-z_][a-z0-9_]*)\b")


def stablehlo_ops(text: str) -> list[str]:
    ops: set[str] = set()
    for line in text.splitlines():
        ops.update(_MLIR_OP.findall(line))
    return sorted(ops)


# --- optimised HLO ---------------------------------------------------------------------------

_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
_TABLE_ROW = re.compile(r"^\s*(\d+)\s+(.*)$")
_FIELD = re.compile(r"(\w+)=(\d+)")
_FRAME_ID = re.compile(r"\bstack_frame_id=(\d+)")
_OLD_SOURCE = re.compile(r'\bsource_file="((?:[^"\\]|\\.)*)"\s+source_line=(\d+)')


def _hlo_tables(lines: list[str]) -> tuple[dict[int, str], dict[int, tuple[int, int]],
                                           dict[int, int]]:
    """FileNames (id -> name), FileLocations (id -> (file id, line)), StackFrames (id -> loc)."""
    files: dict[int, str] = {}
    locations: dict[int, tuple[int, int]] = {}
    frames: dict[int, int] = {}
    section = None
    for line in lines:
        stripped = line.strip()
        if stripped in _TABLES:
            section = stripped
            continue
        if not stripped or section is None:
            if stripped.startswith(("ENTRY", "%", "ROOT", "HloModule")):
                section = None
            continue
        row = _TABLE_ROW.match(stripped)
        if not row:
            section = None
            continue
        key, rest = int(row[1]), row[2]
        fields = {k: int(v) for k, v in _FIELD.findall(rest)}
        if section == "FileNames" and rest.startswith('"'):
            files[key] = _unquote(rest)[0]
        elif section == "FileLocations" and {"file_name_id", "line"} <= fields.keys():
            locations[key] = (fields["file_name_id"], fields["line"])
        elif section == "StackFrames" and "file_location_id" in fields:
            frames[key] = fields["file_location_id"]
    return files, locations, frames


def hlo_source_lines(text: str) -> list[int | None]:
    """For each line of an HLO module's text, the snippet line in its metadata, or None.

    An instruction's stack frame is its innermost one, which (with only_user_frames) is the
    snippet's own frame: the same choice as jax.experimental.source_mapper.
    """
    lines = text.split("\n")
    files, locations, frames = _hlo_tables(lines)
    out: list[int | None] = []
    for line in lines:
        found = None
        if "metadata={" in line:
            frame = _FRAME_ID.search(line)
            if frame:
                location = locations.get(frames.get(int(frame[1]), -1))
                if location and files.get(location[0]) == SNIPPET_FILENAME:
                    found = location[1]
            else:
                old = _OLD_SOURCE.search(line)
                if old and old[1] == SNIPPET_FILENAME:
                    found = int(old[2])
        out.append(found)
    return out


_FILE_ROW = re.compile(r'^(\d+\s+)"((?:[^"\\]|\\.)*)"$')
OTHER_FILE = "<not your code>"


def _foreign_ids(lines: list[str]) -> tuple[set[int], set[int]]:
    """Ids of FileNames rows that are not the snippet, and of FunctionNames rows used only by
    locations in such files."""
    files, section = {}, None
    uses: dict[int, set[int]] = {}  # function id -> file ids of its locations
    for line in lines:
        stripped = line.strip()
        if stripped in _TABLES:
            section = stripped
            continue
        row = _TABLE_ROW.match(stripped)
        if row is None:
            if stripped:  # the tables are over: the computations begin
                section = None
            continue
        if section == "FileNames":
            match = _FILE_ROW.match(stripped)
            if match:
                files[int(match[1])] = match[2]
        elif section == "FileLocations":
            fields = {k: int(v) for k, v in _FIELD.findall(row[2])}
            if {"file_name_id", "function_name_id"} <= fields.keys():
                uses.setdefault(fields["function_name_id"], set()).add(fields["file_name_id"])
    foreign_files = {key for key, name in files.items() if name != SNIPPET_FILENAME}
    foreign_functions = {key for key, ids in uses.items() if ids <= foreign_files}
    return foreign_files, foreign_functions


def scrub_foreign_files(text: str) -> str:
    """Name no file (or function of one) but the snippet's in an HLO module's tables and in
    old-style metadata.

    With only_user_frames in place there is none to scrub; this keeps the playground's own
    files out of the listing where a JAX version lacks that hook.
    """
    if "FileNames" not in text and "source_file=" not in text:
        return text
    lines = text.split("\n")
    foreign = dict(zip(("FileNames", "FunctionNames"), _foreign_ids(lines), strict=True))
    section = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped in _TABLES:
            section = stripped
            continue
        row = _FILE_ROW.match(stripped)
        if section in foreign and row and int(row[1]) in foreign[section]:
            lines[index] = line.replace(f'"{row[2]}"', f'"{OTHER_FILE}"', 1)
        elif not row and not _TABLE_ROW.match(stripped):
            section = None
    return _OLD_SOURCE.sub(lambda m: m[0] if m[1] == SNIPPET_FILENAME else
                           m[0].replace(f'"{m[1]}"', f'"{OTHER_FILE}"', 1), "\n".join(lines))


_HLO_OP = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*.*?\s([a-z][a-z0-9\-]*)\(")


def hlo_ops(text: str) -> list[str]:
    ops: set[str] = set()
    for line in text.splitlines():
        match = _HLO_OP.match(line)
        if match:
            ops.add(match[1])
    return sorted(ops)
