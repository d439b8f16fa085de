"""`python -m app check snippets/ --runtimes all`: every snippet on every JAX runtime, as a matrix.

A cell is "as expected" when the run's outcome is the one the snippet's header expects on that
version (`versions` entries say where a known behaviour change makes it differ), else "differs"
with the reason. Exit 1 on any "differs": a change nobody wrote down stands out.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from app.snippet_check import CheckRow, md_cell, shorten

AS_EXPECTED, DIFFERS = "as expected", "differs"


def cell(row: CheckRow) -> str:
    return AS_EXPECTED if row.ok else f"{DIFFERS}: {row.detail}"


def _by_snippet(columns: Mapping[str, Sequence[CheckRow]]) -> list[tuple[str, list[CheckRow]]]:
    ids = [r.snippet.id for r in next(iter(columns.values()), [])]
    lookup = {version: {r.snippet.id: r for r in rows} for version, rows in columns.items()}
    return [(sid, [lookup[v][sid] for v in columns]) for sid in ids]


def text_matrix(columns: Mapping[str, Sequence[CheckRow]]) -> str:
    """snippet x version, one line a snippet; the reasons for each "differs" below."""
    versions = list(columns)
    rows = _by_snippet(columns)
    width = max([len("snippet"), *(len(sid) for sid, _ in rows)])
    col = max(len(AS_EXPECTED), *(len(v) for v in versions))
    lines = ["snippet".ljust(width) + "  " + "  ".join(v.ljust(col) for v in versions)]
    lines.append("-" * width + "  " + "  ".join("-" * col for _ in versions))
    reasons = []
    for sid, cells in rows:
        marks = [AS_EXPECTED if r.ok else DIFFERS.upper() for r in cells]
        lines.append(sid.ljust(width) + "  " + "  ".join(m.ljust(col) for m in marks).rstrip())
        reasons += [f"{DIFFERS.upper()} {sid} on JAX {v}: {shorten(r.detail, 200)}"
                    for v, r in zip(versions, cells, strict=True) if not r.ok]
    return "\n".join(lines + reasons)


def summary(columns: Mapping[str, Sequence[CheckRow]]) -> str:
    total = sum(len(rows) for rows in columns.values())
    differs = sum(not r.ok for rows in columns.values() for r in rows)
    state = "all as expected" if not differs else f"{differs} DIFFER"
    return f"{total} runs on JAX {', '.join(columns)}: {state}"


def markdown_matrix(columns: Mapping[str, Sequence[CheckRow]], command: str,
                    when: datetime.datetime | None = None) -> str:
    when = when or datetime.datetime.now(datetime.UTC)
    versions = list(columns)
    out = [
        "# The guide across JAX versions",
        "",
        f"Every snippet of the library run on every JAX runtime by `{command}` on "
        f"{when:%Y-%m-%d %H:%M} UTC. A cell is *as expected* when the outcome is the one the "
        "snippet's header expects on that version (snippets/README.md: `versions`).",
        "",
        f"- {summary(columns)}",
        "",
        "| snippet | " + " | ".join(f"JAX {v}" for v in versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for sid, cells in _by_snippet(columns):
        marks = [AS_EXPECTED if r.ok else f"**{DIFFERS}**: {md_cell(shorten(r.detail, 120))}"
                 for r in cells]
        out.append(f"| `{sid}` | " + " | ".join(marks) + " |")
    return "\n".join(out) + "\n"
