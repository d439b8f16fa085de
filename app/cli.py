"""`python -m app ...`: run, check and bench without a browser.

Each subcommand lives in the module that owns its logic; this file only parses arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one file in the sandbox and print the result")
    run.add_argument("file", help="a .py file, or - for standard input")
    run.add_argument("--timeout", type=float, default=None, help="wall-clock limit, seconds")
    run.add_argument("--x64", action="store_true", help="enable jax_enable_x64 for this run")
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")
    run.add_argument("--jax", metavar="VERSION", default=None,
                     help="the JAX runtime to run on (runtimes.toml; default: the newest)")
    run.set_defaults(handler="app.runner.api.cli:run_command")

    check = sub.add_parser("check", help="run every snippet (or exercise) through the sandbox")
    check.add_argument("path", nargs="?", default="snippets",
                       help="snippets folder or a file (with --exercises: the exercises folder)")
    check.add_argument("--exercises", action="store_true",
                       help="check the exercises instead: solutions pass, starters fail")
    check.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    check.add_argument("--jobs", type=int, default=None, help="runs at once (default: cores)")
    check.add_argument("--runtimes", metavar="all|V1,V2", default=None,
                       help="run on these JAX runtimes and print a snippet x version matrix")
    check.set_defaults(handler="app.snippet_check:check_command")

    bench = sub.add_parser("bench", help="measure the runner: latency, throughput, memory")
    bench.add_argument("--runs", type=int, default=40, help="runs per latency measurement")
    bench.add_argument("--baseline-runs", type=int, default=8, help="naive `python -c` runs")
    bench.add_argument("--clients", type=int, default=4, help="concurrent clients")
    bench.add_argument("--seconds", type=float, default=10.0, help="throughput window")
    bench.add_argument("--gpu", action="store_true",
                       help="then the accelerator figures beside their targets")
    bench.add_argument("--gpu-runs", type=int, default=20, help="trivial runs per --gpu figure")
    bench.add_argument("--spacing", type=float, default=1.0, help="seconds between spaced runs")
    bench.add_argument("--runtime-runs", type=int, default=15,
                       help="trivial runs per JAX runtime, the runtimes in turn")
    bench.set_defaults(handler="app.bench.figures:bench_command")

    selftest = sub.add_parser("selftest", help="check the sandbox on this host (as deployed)")
    selftest.add_argument("--hostile", action="store_true",
                          help="run every hostile snippet and check each ends cleanly")
    selftest.add_argument("--case", action="append", metavar="NAME",
                          help="only this case (repeatable)")
    selftest.add_argument("--json", action="store_true", help="print one JSON object")
    selftest.set_defaults(handler="app.selftest.hostile:selftest_command")

    host = sub.add_parser("worker-host", help="serve runs from the shared queue in Redis")
    host.add_argument("--redis", default=None, metavar="URL",
                      help="the run queue: redis://[USER@]HOST:PORT/DB, without a password "
                           "(the process list shows it to every local user); default: "
                           "PLAYGROUND_RUNNER_URL from the environment, which may carry one")
    host.add_argument("--redis-password-file", default=None, metavar="PATH",
                      help="a file holding the Redis password (e.g. a mounted secret)")
    host.add_argument("--slots", type=_positive_int, default=None, metavar="N",
                      help="runs executing at once on this host (default: "
                           "PLAYGROUND_MAX_CONCURRENT, i.e. the CPU cores)")
    host.add_argument("--no-snippet-warmup", action="store_true",
                      help="do not compile the shipped snippets into the cache in the background")
    host.set_defaults(handler="app.runner.remote.host:worker_host_command")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check" and args.exercises:
        args.handler = "app.exercise_check:check_exercises_command"
    module_name, func_name = args.handler.split(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
