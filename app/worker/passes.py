"""XLA's optimisation pipeline: the HLO module after each pass that changed it.

A second compile of the lowered module with XLA's dump options (`xla_dump_to`,
`xla_dump_hlo_pass_re=.*`, text) writes one file per change into a fresh directory under
TMPDIR, which in the sandbox is the run's private scratch tmpfs. XLA writes a file only when a
pass changed the module; states equal to the one before (a pipeline's start, passes that
rewrote nothing visible) are sent as "same as before" (text None) so the page can collapse
them. Everything is capped: how many dumps, each one's size, the total, and the disk the dump
may take (estimated before compiling); `passes_note` says what was left out and why.

The persistent compilation cache ignores dump options in its key, so a cached program would
come back without being compiled (and dumped): the cache is switched off for this one compile.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.protocol import (
    MAX_PASS_DISK_BYTES,
    MAX_PASS_DUMP_CHARS,
    MAX_PASS_DUMPS,
    MAX_PASS_TOTAL_CHARS,
    PassDump,
)
from app.worker.source_map import scrub_foreign_files

MAX_DUMPS = MAX_PASS_DUMPS
MAX_DUMP_CHARS = MAX_PASS_DUMP_CHARS
MAX_TOTAL_CHARS = MAX_PASS_TOTAL_CHARS
MAX_DISK_BYTES = MAX_PASS_DISK_BYTES
NOTE_LIMIT = 2000
# XLA's CPU pipeline wrote ~20-40 HLO files (+ LLVM IR) for small programs here: a generous
# multiple of the module's size estimates what the dump needs on disk.
_DISK_FACTOR = 80

_DUMP_NAME = re.compile(r"^module_(?P<module>\d+)\.(?P<name>[^.]+)\.(?P<rest>.+)\.txt$")
_NUMBERED = re.compile(r"^(?P<index>\d{4})\.(?P<step>.+)$")


@dataclass
class Caps:
    dumps: int = MAX_DUMPS
    dump_chars: int = MAX_DUMP_CHARS
    total_chars: int = MAX_TOTAL_CHARS
    disk_bytes: int = MAX_DISK_BYTES


@dataclass(order=True)
class _File:
    order: tuple[int, int]
    pipeline: str
    name: str
    path: Path


def _describe(step: str) -> tuple[str, str]:
    """'simplification.after_algsimp.before_dce' -> ('simplification', 'after algsimp')."""
    pipeline, _, tail = step.partition(".after_")
    if not tail:
        return "", step.replace("_", " ")
    after = tail.split(".before_", 1)[0]
    if after == "pipeline-start":
        return pipeline, "pipeline start"
    return pipeline, f"after {after}"


def _dump_files(folder: Path) -> list[_File]:
    """The HLO text dumps of the module with the most of them, in XLA's order."""
    by_module: dict[str, list[_File]] = {}
    for path in folder.iterdir():
        match = _DUMP_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        rest = match["rest"]
        numbered = _NUMBERED.match(rest)
        if numbered:
            pipeline, name = _describe(numbered["step"])
            entry = _File((1, int(numbered["index"])), pipeline, name, path)
        elif rest == "before_optimizations":
            entry = _File((0, 0), "", "before optimizations", path)
        elif rest.endswith("_after_optimizations"):  # cpu_/gpu_after_optimizations
            entry = _File((2, 0), "", "after optimizations", path)
        else:
            continue  # buffer assignment, memory reports, LLVM IR, debug options
        by_module.setdefault(match["module"], []).append(entry)
    if not by_module:
        return []
    longest: list[_File] = max(by_module.values(), key=len)  # the module with every pass
    return sorted(longest)


def _read(path: Path, limit: int) -> tuple[str, bool]:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    text = data[:limit].decode("utf-8", "replace")
    return text, len(data) > limit


@contextlib.contextmanager
def _no_persistent_cache() -> Iterator[None]:
    import jax

    try:
        from jax.experimental.compilation_cache import compilation_cache
    except ImportError:
        yield
        return
    previous = jax.config.jax_enable_compilation_cache  # type: ignore[attr-defined]
    compilation_cache.reset_cache()
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", previous)
        compilation_cache.reset_cache()


def _collect(files: list[_File], caps: Caps) -> tuple[list[PassDump], list[str]]:
    dumps: list[PassDump] = []
    notes: list[str] = []
    previous: str | None = None
    total = 0
    if len(files) > caps.dumps:
        notes.append(f"{len(files) - caps.dumps} later dumps left out (cap: {caps.dumps})")
        files = files[: caps.dumps - 1] + files[-1:]  # keep the final module
    for index, item in enumerate(files):
        text, cut = _read(item.path, caps.dump_chars)
        text = scrub_foreign_files(text)
        if cut:
            text += f"\n... [cut at {caps.dump_chars} characters]"
            notes.append(f"{item.name}: cut at {caps.dump_chars} characters")
        if text == previous:
            dumps.append(PassDump(index, item.pipeline, item.name, None))
            continue
        if total + len(text) > caps.total_chars:
            notes.append(f"dumps from {item.name!r} on left out: {caps.total_chars} characters "
                         "sent in all")
            break
        total += len(text)
        previous = text
        dumps.append(PassDump(index, item.pipeline, item.name, text))
    return dumps, notes


def dump_passes(lowered: Any, module_chars: int, caps: Caps | None = None,
                ) -> tuple[list[PassDump], str]:
    """Compile `lowered` again with XLA's pass dumps on; the dumps and a note on what is cut."""
    caps = caps or Caps()
    folder = Path(tempfile.mkdtemp(prefix="xla-passes-"))
    try:
        free = shutil.disk_usage(folder).free
        need = module_chars * _DISK_FACTOR
        if need > min(caps.disk_bytes, free // 2):
            return [], (f"Not dumped: this module would need about {need // 1024} KiB of the "
                        f"run's scratch for XLA's dump (cap: {caps.disk_bytes // 1024} KiB).")
        options = {"xla_dump_to": str(folder), "xla_dump_hlo_pass_re": ".*",
                   "xla_dump_hlo_as_text": True, "xla_dump_hlo_as_proto": False}
        with _no_persistent_cache():
            lowered.compile(compiler_options=options)
        files = _dump_files(folder)
        if not files:
            return [], "XLA wrote no pass dumps for this compile."
        dumps, notes = _collect(files, caps)
        return dumps, "; ".join(notes)[:NOTE_LIMIT]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
