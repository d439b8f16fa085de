"""`python -m app run FILE [--timeout S] [--x64] [--json] [--jax VERSION]`: one run in the sandbox.

Readable by default: the run's stdout and stderr go to ours (in the order they came), then a short
summary on stderr. With --json, one JSON object (the RunResult) on stdout and nothing else.
--jax picks the JAX runtime (runtimes.toml); the result's `runtime` says the JAX, jaxlib and
Python it ran on. Exit code 0 when the run's status is ok, 1 otherwise, 2 for an unknown version.
"""

from __future__ import annotations

import argparse
import json
import sys

from app import config, protocol, runtimes
from app.protocol import RunRequest, RunResult
from app.runner.api.runner import Runner


def _read_code(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def summary(result: RunResult) -> str:
    parts = [f"[{result.status}] {result.message}".rstrip(), f"{result.duration_s:.2f} s"]
    if result.peak_memory_mb is not None:
        parts.append(f"peak {result.peak_memory_mb:.0f} MiB")
    if result.platform:
        parts.append(result.platform)
    if result.runtime is not None and result.runtime.jax:
        parts.append(result.runtime.label())
    active = [name for name, on in result.sandbox.items() if on]
    if active:
        parts.append("sandbox: " + ", ".join(active))
    return " · ".join(parts)


def print_readable(result: RunResult) -> None:
    for chunk in result.output:
        stream = sys.stdout if chunk.stream == "stdout" else sys.stderr
        stream.write(chunk.text)
        stream.flush()
    if result.value_repr is not None:
        print(result.value_repr)
    if result.error is not None and result.error.traceback:
        sys.stderr.write(result.error.traceback)
        if result.error.advice:
            sys.stderr.write(result.error.advice + "\n")
    sys.stdout.flush()
    print(summary(result), file=sys.stderr)


def run_command(args: argparse.Namespace) -> int:
    try:
        code = _read_code(args.file)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    jax = getattr(args, "jax", None)
    if jax:
        try:
            jax = runtimes.resolve(config.settings(), jax).id
        except runtimes.UnknownRuntime as exc:
            print(str(exc), file=sys.stderr)
            return 2
    request = RunRequest(code=code, timeout_s=args.timeout, x64=args.x64, jax=jax)
    runner = Runner()
    try:
        result = runner.run(request)
    finally:
        runner.close()
    if args.json:
        print(json.dumps(protocol.to_dict(result)))
    else:
        print_readable(result)
    return 0 if result.ok else 1
