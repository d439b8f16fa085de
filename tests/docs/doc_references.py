"""What the docs name, checked against the repository: paths, make targets, CLI commands, settings.

A doc that names `app/runner/pool.py`, `make deploy`, `python -m app serve` or
`PLAYGROUND_FOO` when none exists misleads its reader; `problems()` lists every such name.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

from app import cli, config

REPO = Path(__file__).resolve().parents[2]

def doc_files(root: Path = REPO) -> list[Path]:
    """README.md, CONTRIBUTING.md, every docs/**/*.md and the content folders' READMEs."""
    named = [root / name for name in ("README.md", "CONTRIBUTING.md", "deploy/README.md",
                                      "snippets/README.md", "exercises/README.md")]
    return [p for p in named if p.exists()] + sorted((root / "docs").rglob("*.md"))


# PLAYGROUND_* names that are not settings of app.config, and the file that reads each one.
OTHER_VARIABLES = {
    "PLAYGROUND_LOG_LEVEL": "app/observability/logs.py",
    "PLAYGROUND_LOG_FORMAT": "app/observability/logs.py",
    "PLAYGROUND_REPLICA": "deploy/haproxy.cfg",  # the proxy's affinity cookie
    "PLAYGROUND_UPDATE_SCREENSHOTS": "tests/browser/test_control.py",
}

# Files an operator creates (not in the repository), and the file that reads each one.
OPERATOR_FILES = {
    "deploy/.env": "deploy/compose.yaml",  # the Redis passwords
}

# The first segment of a path the docs may name, as it is at the repository's root.
TOP_LEVEL = ("app", "tests", "deploy", "docs", "bench", "scripts", "snippets", "exercises",
             "pages", ".streamlit", "shared")
ROOT_FILES = ("Makefile", "Dockerfile", "README.md", "CONTRIBUTING.md", "pyproject.toml",
              "constraints.txt", "requirements.txt", "requirements-dev.txt", ".dockerignore")

CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
SETTING = re.compile(r"\bPLAYGROUND_[A-Z0-9_]*[A-Z0-9]\b")
MAKE = re.compile(r"(?:^|[;&(|]\s*)make\s+([a-z][\w-]*)", re.M)
APP_CLI = re.compile(r"python\s+-m\s+app(?=\s)([^\n|;&#>)`]*)")
MODULE = re.compile(r"python3?\s+-m\s+([A-Za-z_][\w.]*)")
SHELL_END = re.compile(r"[|;&#>)]")


def make_targets(root: Path = REPO) -> set[str]:
    text = (root / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.M))
    for phony in re.findall(r"^\.PHONY:(.*)$", text, re.M):
        targets.update(phony.split())
    return targets


def cli_commands() -> dict[str, set[str]]:
    """Subcommand -> its option strings, read from app/cli.py's own parser."""
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {s for action in p._actions for s in action.option_strings}
            for name, p in sub.choices.items()}


def settings() -> set[str]:
    return {"PLAYGROUND_" + f.name.upper() for f in dataclasses.fields(config.Settings)}


def _code(text: str) -> Iterator[tuple[str, bool]]:
    """Fenced blocks (True) and inline code spans (False): where docs name files and commands."""
    for block in FENCE.findall(text):
        yield block, True
    for span in CODE_SPAN.findall(FENCE.sub("", text)):
        yield span, False


def _expand_braces(token: str) -> list[str]:
    match = re.search(r"\{([^{}]*,[^{}]*)\}", token)
    if not match:
        return [token]
    out: list[str] = []
    for choice in match.group(1).split(","):
        out += _expand_braces(token[: match.start()] + choice + token[match.end():])
    return out


def _path_problem(token: str, doc: Path, root: Path, fenced: bool) -> str | None:
    """A token that looks like a repository path and names nothing there. A bare module name
    (`pool.py`) counts only in running text: a command's example file (`< snippet.py`) is not."""
    token = token.strip("'\"()[],:;").rstrip(".")
    path, _, member = token.partition("::")
    if (not path or path.startswith(("/", "../")) or "://" in path or "..." in path
            or any(c in path for c in "*<>$~…")):
        return None
    first = path.split("/")[0]
    bases = [root] if first in TOP_LEVEL or path in ROOT_FILES else []
    if "/" in path and (doc.parent / first).exists() and doc.parent != root:
        bases.append(doc.parent)
    if not bases:
        if (not fenced and re.fullmatch(r"[\w-]+\.py", path)
                and not any(root.glob(f"[!.]*/**/{path}"))):
            return f"no file named {path} in the repository"
        return None
    found = next((base / path for base in bases if (base / path).exists()), None)
    if found is None:
        reader = OPERATOR_FILES.get(path)
        if reader is not None and path in (root / reader).read_text():
            return None
        return f"path {path} does not exist"
    if member:
        name = member.split("[")[0].split("::")[-1]
        source = found.read_text()
        if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", source, re.M) \
                and not re.search(rf"^{re.escape(name)}\s*[:=]", source, re.M):
            return f"{path} has no {name}"
    return None


def problems(doc: Path, text: str, root: Path = REPO) -> list[str]:
    """Every name in `text` (the doc at `doc`) that does not exist, one sentence each."""
    found: list[str] = []
    known_settings = settings()
    for name in sorted(set(SETTING.findall(text))):
        if name in known_settings:
            continue
        reader = OTHER_VARIABLES.get(name)
        if reader is None or name not in (root / reader).read_text():
            found.append(f"setting {name} is not in app.config.Settings")
    targets, commands = make_targets(root), cli_commands()
    for code, fenced in _code(text):
        for target in MAKE.findall(code):
            if target not in targets:
                found.append(f"make target {target!r} is not in the Makefile")
        for args in APP_CLI.findall(code):
            words = args.split()
            if not words or words[0].startswith("-"):
                continue
            command = words[0]
            if command not in commands:
                found.append(f"`python -m app {command}` is not a subcommand of app/cli.py")
                continue
            for word in words[1:]:
                option = word.strip("[]").split("=")[0]
                if option.startswith("--") and option not in commands[command]:
                    found.append(f"`python -m app {command}` has no option {option}")
        for module in MODULE.findall(code):
            if module != "app" and importlib.util.find_spec(module) is None:
                found.append(f"`python -m {module}`: no such module")
        for token in code.split():
            for candidate in _expand_braces(token):
                problem = _path_problem(candidate, doc, root, fenced)
                if problem:
                    found.append(problem)
    for link in LINK.findall(text):
        if "://" in link or link.startswith("mailto:"):
            continue
        target, _, anchor = link.partition("#")
        path = doc.parent / target if target else doc
        if not path.exists():
            found.append(f"link to {target}, which does not exist")
        elif anchor and path.suffix == ".md":
            page = text if path == doc else path.read_text()
            if anchor not in heading_anchors(page):
                found.append(f"link to {link}: no such heading")
    return sorted(set(found))


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives headings: lower case, punctuation dropped, - for spaces."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", FENCE.sub("", text), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors
