"""A small Dockerfile reader: the instructions of a single-stage Dockerfile, continuations joined.

deploy/container_check.py replays these instructions and tests/deploy check that the file and
the replay agree. Standard library only: it runs under any Python 3.11, venv or not.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "RUN"
    value: str  # the rest of the instruction, continuation lines joined with single spaces
    line: int  # 1-based line where it starts


def parse(text: str) -> list[Instruction]:
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#!")):
            continue  # comments are allowed between continuation lines too
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1].strip() if continued else stripped)
        if not continued:
            joined = " ".join(p for p in pending if p)
            keyword, _, value = joined.partition(" ")
            out.append(Instruction(keyword.upper(), value.strip(), start))
            pending = []
    if pending:
        raise ValueError(f"line {start}: continuation never ends")
    return out


def read(path: Path) -> list[Instruction]:
    return parse(path.read_text())


def exec_form(value: str) -> list[str]:
    """CMD/ENTRYPOINT/HEALTHCHECK CMD arguments: the JSON form, else /bin/sh -c."""
    if value.startswith("["):
        args = json.loads(value)
        if not all(isinstance(a, str) for a in args):
            raise ValueError(f"not a list of strings: {value}")
        return args
    return ["/bin/sh", "-c", value]


def split_flags(value: str) -> tuple[dict[str, str], str]:
    """`--interval=30s --chown=a:b rest` -> ({"interval": "30s", "chown": "a:b"}, "rest")."""
    flags: dict[str, str] = {}
    rest = value
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, flag_value = flag[2:].partition("=")
        flags[name] = flag_value
        rest = rest.lstrip()
    return flags, rest


def key_values(value: str) -> dict[str, str]:
    """ENV/ARG/LABEL `K=V K2="v 2"` (or the legacy `ENV K V`) -> {K: V, ...}."""
    tokens = shlex.split(value)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    pairs = dict(token.partition("=")[::2] for token in tokens)
    return pairs


_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute(value: str, env: dict[str, str]) -> str:
    """Docker's $VAR / ${VAR} substitution in ENV, WORKDIR, COPY and USER values."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), value)


def seconds(duration: str) -> float:
    """Docker durations as HEALTHCHECK uses them: 30s, 1m30s, 500ms."""
    total = 0.0
    for amount, unit in re.findall(r"([\d.]+)(ms|s|m|h)", duration):
        total += float(amount) * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    return total


def ignore_patterns(path: Path) -> list[str]:
    if not path.exists():
        return []
    patterns = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise ValueError(f".dockerignore exceptions are not supported here: {line}")
        patterns.append(line.strip("/"))
    return patterns


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a context path (posix, relative) or one of its parent folders is excluded."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            tail = pattern[3:]
            # at any depth: every run of consecutive components
            spans = [
                "/".join(parts[i : j + 1]) for i in range(len(parts)) for j in range(i, len(parts))
            ]
            if any(fnmatch.fnmatchcase(s, tail) for s in spans):
                return True
        elif any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            return True
    return False
