"""`python -m app check [PATH] [--markdown FILE] [--jobs N]`: the guide's health on this JAX.

Runs every snippet (and both sides of every pair) through the real sandboxed runner, compares
each outcome with the snippet's header, prints a table (snippet, expected, got, time) and exits
1 on any mismatch. --markdown writes the same table, with the versions it ran on and the list of
fixes we made to the guide, as a Markdown report (docs/guide-health.md).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

from app.config import settings
from app.protocol import RunRequest, RunResult
from app.snippets import (
    DEFAULT_ROOT,
    Expectation,
    Snippet,
    SnippetError,
    load_library_fresh,
    load_section,
    parse_snippet,
)

GUIDE_NAME = "python-jax.md"
# The guide lives beside the checkout (CI has it there too).
GUIDE_PATH = Path(__file__).resolve().parents[2] / "shared" / "seed" / GUIDE_NAME
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class RunsRequests(Protocol):
    def run(self, request: RunRequest) -> RunResult: ...


@dataclass(frozen=True)
class CheckRow:
    snippet: Snippet
    expected: str
    got: str
    seconds: float
    ok: bool
    detail: str = ""  # why it failed, in one line
    platform: str | None = None
    jax: str = ""  # the JAX version it ran on


def request_for(snippet: Snippet, timeout_s: float | None = None,
                jax: str | None = None) -> RunRequest:
    """What the check sends: the code as the editor shows it, the snippet's x64 setting.

    The check asks for the longest timeout the runner allows: it verifies outcomes, and a busy
    shared host must not turn a slow compile into a false "timeout".
    """
    return RunRequest(code=snippet.code, x64=snippet.x64, timeout_s=timeout_s, jax=jax)


def outcome_of(result: RunResult) -> str:
    """'ok', the exception class name for an error, or the run status (timeout, memory, ...)."""
    if result.status == "error" and result.error is not None:
        return result.error.type
    return result.status


def shorten(text: str, limit: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def judge(snippet: Snippet, result: RunResult) -> CheckRow:
    """Compare one run with the snippet's expectation on the JAX version it ran on."""
    expect: Expectation = snippet.expect_for(result.runtime.jax if result.runtime else None)
    got = outcome_of(result)
    problems: list[str] = []
    if got != expect.outcome:
        if result.error is not None:
            problems.append(shorten(f"{result.error.type}: {result.error.message}"))
        else:  # an outcome that differs is a problem even when the run says nothing
            problems.append(shorten(f"expected {expect.describe()}, got {got}"
                                   + (f" ({result.message})" if result.message else "")))
    elif expect.message and (result.error is None or expect.message not in result.error.message):
        message = result.error.message if result.error else ""
        problems.append(shorten(f"message lacks {expect.message!r}: {message}"))
    if got == expect.outcome and expect.stdout and expect.stdout not in result.stdout:
        problems.append(shorten(f"stdout lacks {expect.stdout!r}; it was {result.stdout!r}"))
    shown = got if result.error is None else f"{got}: {shorten(result.error.message, 60)}"
    return CheckRow(
        snippet=snippet,
        expected=expect.describe(),
        jax=result.runtime.jax if result.runtime else "",
        got=shown,
        seconds=result.duration_s,
        ok=not problems,
        detail="; ".join(problems),
        platform=result.platform,
    )


def collect(path: Path) -> list[Snippet]:
    """The snippets under path: the whole library, one section folder, or one file."""
    path = path.resolve()
    if path.is_file():
        folder = path.parent
        try:
            section = load_section(folder)
            by_path = {s.path: s for s in section.all_snippets()}
            if path in by_path:
                return [by_path[path]]
        except SnippetError:
            pass  # a file outside any section: parse it alone
        return [parse_snippet(path)]
    if (path / "section.toml").is_file():
        return list(load_section(path).all_snippets())
    return list(load_library_fresh(path).all_snippets())


def run_checks(
    snippets: Sequence[Snippet],
    runner: RunsRequests,
    jobs: int = 1,
    on_row: Callable[[CheckRow], None] | None = None,
    timeout_s: float | None = None,
    jax: str | None = None,
) -> list[CheckRow]:
    """Run all snippets (jobs at once) on one JAX runtime (None: the default) and judge each;
    rows come back in the library's order."""

    def one(snippet: Snippet) -> CheckRow:
        row = judge(snippet, runner.run(request_for(snippet, timeout_s, jax)))
        if on_row is not None:
            on_row(row)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, snippets))


# --- guide coverage ------------------------------------------------------------------------


def guide_python_blocks(markdown: str) -> list[str]:
    """The guide's ```python blocks in order; block n (1-based) is element n - 1."""
    return [body for lang, body in _FENCE.findall(markdown) if lang == "python"]


def uncovered_blocks(block_count: int, snippets: Sequence[Snippet]) -> list[int]:
    covered = {b for s in snippets for b in s.guide_blocks}
    return [n for n in range(1, block_count + 1) if n not in covered]


# --- reports ---------------------------------------------------------------------------------


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def environment(rows: Sequence[CheckRow]) -> dict[str, str]:
    platforms = sorted({r.platform for r in rows if r.platform})
    return {
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "numpy": _version("numpy"),
        "python": platform.python_version(),
        "platform": ", ".join(platforms) or "unknown",
    }


def text_table(rows: Sequence[CheckRow]) -> str:
    headers = ("", "snippet", "expected", "got", "time")
    body = [
        ("ok" if r.ok else "FAIL", r.snippet.id, shorten(r.expected, 50), shorten(r.got, 50),
         f"{r.seconds:.2f}s")
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for line in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    for r in rows:
        if not r.ok:
            lines.append(f"FAIL {r.snippet.id}: {r.detail}")
    return "\n".join(lines)


def summary(rows: Sequence[CheckRow]) -> str:
    failed = sum(not r.ok for r in rows)
    total = sum(r.seconds for r in rows)
    env = environment(rows)
    state = "all as expected" if not failed else f"{failed} MISMATCH(ES)"
    return (
        f"{len(rows)} snippets, {state}; {total:.1f} s of run time; "
        f"jax {env['jax']}, jaxlib {env['jaxlib']}, {env['platform']}"
    )


def md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _coverage_line(rows: Sequence[CheckRow], guide_block_count: int | None) -> str:
    if guide_block_count is None:
        return f"- Guide coverage: not measured ({GUIDE_NAME} not found)."
    missing = uncovered_blocks(guide_block_count, [r.snippet for r in rows])
    if not missing:
        return f"- Guide coverage: all {guide_block_count} python blocks have a snippet."
    listed = ", ".join(str(n) for n in missing)
    return f"- Guide coverage: python blocks without a snippet: {listed}."


def markdown_report(
    rows: Sequence[CheckRow],
    when: datetime.datetime | None = None,
    guide_block_count: int | None = None,
    command: str = "python -m app check snippets/ --markdown docs/guide-health.md",
) -> str:
    env = environment(rows)
    when = when or datetime.datetime.now(datetime.UTC)
    failed = [r for r in rows if not r.ok]
    errors_expected = [r for r in rows if r.snippet.expect.outcome != "ok"]
    out = [
        "# Guide health",
        "",
        f"Every snippet of the library run through the sandboxed runner by `{command}` on "
        f"{when:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- JAX {env['jax']}, jaxlib {env['jaxlib']}, NumPy {env['numpy']}, "
        f"Python {env['python']}, platform: {env['platform']}",
        f"- {len(rows)} runs: {len(rows) - len(failed)} as expected, {len(failed)} not; "
        f"{len(errors_expected)} of them are meant to raise (the gotchas and the guide's blocks "
        "as written).",
        _coverage_line(rows, guide_block_count),
        "",
        "| | snippet | expected | got | time |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "ok" if r.ok else "**FAIL**"
        out.append(
            f"| {mark} | `{r.snippet.id}` | {md_cell(r.expected)} | {md_cell(r.got)} "
            f"| {r.seconds:.2f} s |"
        )
    if failed:
        out += ["", "## Mismatches", ""]
        out += [f"- `{r.snippet.id}`: {md_cell(r.detail)}" for r in failed]
    issues = [r.snippet for r in rows if r.snippet.guide_issue]
    if issues:
        out += [
            "",
            f"## Where the guide is wrong or incomplete on JAX {env['jax']}",
            "",
            "| blocks | snippet | issue |",
            "|---|---|---|",
        ]
        for s in issues:
            blocks = ", ".join(str(b) for b in s.guide_blocks) or "table"
            out.append(f"| {blocks} | `{s.id}` | {md_cell(s.guide_issue or '')} |")
    fixed = [r.snippet for r in rows if r.snippet.changes and r.snippet.guide_blocks]
    if fixed:
        out += [
            "",
            "## Where the snippets differ from the guide",
            "",
            f"Python code blocks of `{GUIDE_NAME}` (numbered from 1) and what the snippet changes.",
            "",
            "| blocks | snippet | change |",
            "|---|---|---|",
        ]
        for s in fixed:
            blocks = ", ".join(str(b) for b in s.guide_blocks)
            out.append(f"| {blocks} | `{s.id}` | {md_cell(s.changes or '')} |")
    return "\n".join(out) + "\n"


# --- command ---------------------------------------------------------------------------------


def check_command(args: argparse.Namespace) -> int:
    from app.runner.factory import get_runner  # the caller-side Runner: threads and a supervisor

    try:
        snippets = collect(Path(args.path or DEFAULT_ROOT))
    except SnippetError as exc:
        print(f"invalid snippet: {exc}", file=sys.stderr)
        return 2
    if not snippets:
        print(f"no snippets under {args.path}", file=sys.stderr)
        return 2
    runner = get_runner()
    jobs = args.jobs or settings().max_concurrent
    if getattr(args, "runtimes", None):
        return _check_runtimes(args, snippets, runner, jobs)

    def progress(row: CheckRow) -> None:
        mark = "." if row.ok else "F"
        print(mark, end="", file=sys.stderr, flush=True)

    rows = run_checks(
        snippets, runner, jobs=jobs, on_row=progress, timeout_s=settings().max_timeout_s
    )
    print(file=sys.stderr)
    print(text_table(rows))
    print(summary(rows))
    if args.markdown:
        target = Path(args.markdown)
        target.parent.mkdir(parents=True, exist_ok=True)
        count = None
        if GUIDE_PATH.is_file():
            count = len(guide_python_blocks(GUIDE_PATH.read_text(encoding="utf-8")))
        command = f"python -m app check {args.path} --markdown {args.markdown}"
        if args.jobs:
            command += f" --jobs {args.jobs}"
        report = markdown_report(rows, guide_block_count=count, command=command)
        target.write_text(report, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1


def runtime_ids(spec: str) -> list[str]:
    """The runtimes `--runtimes` names ("all", or a comma list); UnknownRuntime if one is not
    installed here."""
    from app import runtimes

    if spec == "all":
        have = runtimes.installed(settings())
        if not have:
            raise runtimes.UnknownRuntime("no JAX runtime is installed here: run `make setup`")
        return [r.id for r in have]
    return [runtimes.resolve(settings(), name.strip()).id for name in spec.split(",")
            if name.strip()]


def _check_runtimes(args: argparse.Namespace, snippets: Sequence[Snippet],
                    runner: RunsRequests, jobs: int) -> int:
    from app import runtimes, version_matrix

    try:
        ids = runtime_ids(args.runtimes)
    except runtimes.UnknownRuntime as exc:
        print(str(exc), file=sys.stderr)
        return 2
    columns: dict[str, list[CheckRow]] = {}
    for runtime_id in ids:
        print(f"JAX {runtime_id}: ", end="", file=sys.stderr, flush=True)
        columns[runtime_id] = run_checks(
            snippets, runner, jobs=jobs, timeout_s=settings().max_timeout_s, jax=runtime_id,
            on_row=lambda row: print("." if row.ok else "F", end="", file=sys.stderr,
                                     flush=True))
        print(file=sys.stderr)
    print(version_matrix.text_matrix(columns))
    print(version_matrix.summary(columns))
    if args.markdown:
        target = Path(args.markdown)
        target.parent.mkdir(parents=True, exist_ok=True)
        command = f"python -m app check {args.path} --runtimes {args.runtimes} " \
                  f"--markdown {args.markdown}"
        target.write_text(version_matrix.markdown_matrix(columns, command), encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0 if all(r.ok for rows in columns.values() for r in rows) else 1
