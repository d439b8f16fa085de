"""The JAX runtimes: runtimes.toml lists them, each is a venv of its own made by `make setup`.

A runtime is one JAX version with its own interpreter environment. The runner starts one zygote
per runtime with that venv's interpreter; the app offers the installed ones, the newest first and
by default. This module reads the list and what is installed; scripts/setup_runtimes.py installs.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIMES_FILE = REPO_ROOT / "runtimes.toml"
STAMP = ".installed"  # in a runtime's venv: the spec it was installed from (JSON)
ID_PATTERN = re.compile(r"^[0-9][0-9A-Za-z.+-]{0,31}$")
SERIES_PATTERN = re.compile(r"^3\.[0-9]{1,2}$")
PIN_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+==[0-9A-Za-z.+!-]+$")


class UnknownRuntime(ValueError):
    """A JAX version this host does not have (the message lists the ones it has)."""


@dataclass(frozen=True)
class Runtime:
    id: str
    jax: str
    jaxlib: str
    python: tuple[str, ...]  # interpreter series it may use, preferred first: ("3.12", "3.13")
    pins: tuple[str, ...]
    cuda: str = ""  # the jax extra of its GPU build ("cuda13"), for `setup_runtimes.py --gpu`

    def requirements(self, gpu: bool = False) -> list[str]:
        jax = f"jax[{self.cuda}]=={self.jax}" if gpu and self.cuda else f"jax=={self.jax}"
        return [jax, f"jaxlib=={self.jaxlib}", *self.pins]

    def spec(self, gpu: bool = False) -> str:
        """What decides the venv's contents: a changed spec means a reinstall."""
        return json.dumps({"python": list(self.python), "requirements": self.requirements(gpu)})

    def spec_hash(self) -> str:
        return hashlib.sha256(self.spec().encode()).hexdigest()[:16]


def version_key(version: str) -> tuple[int, ...]:
    """"0.12.0.1" -> (0, 12, 0, 1); anything not a number sorts as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def parse(text: str) -> list[Runtime]:
    """The runtimes a runtimes.toml text lists (ValueError naming the bad entry)."""
    data = tomllib.loads(text)
    entries = data.get("runtime", [])
    if not isinstance(entries, list) or not entries:
        raise ValueError("runtimes.toml lists no [[runtime]]")
    out: list[Runtime] = []
    for i, entry in enumerate(entries):
        try:
            series = entry["python"]
            runtime = Runtime(
                id=str(entry["id"]), jax=str(entry["jax"]), jaxlib=str(entry["jaxlib"]),
                python=tuple(str(s) for s in (series if isinstance(series, list) else [series])),
                pins=tuple(str(p) for p in entry.get("pins", [])),
                cuda=str(entry.get("cuda", "")))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"runtimes.toml entry {i + 1}: missing {exc}") from exc
        if not ID_PATTERN.match(runtime.id):
            raise ValueError(f"runtimes.toml entry {i + 1}: bad id {runtime.id!r}")
        if not runtime.python or not all(SERIES_PATTERN.match(s) for s in runtime.python):
            raise ValueError(f"runtime {runtime.id}: python must list series such as 3.12")
        if runtime.cuda and not re.match(r"^cuda[0-9]{2}$", runtime.cuda):
            raise ValueError(f"runtime {runtime.id}: cuda must be an extra such as cuda13")
        for pin in (f"jax=={runtime.jax}", f"jaxlib=={runtime.jaxlib}", *runtime.pins):
            if not PIN_PATTERN.match(pin):
                raise ValueError(f"runtime {runtime.id}: {pin!r} is not an exact pin")
        if any(r.id == runtime.id for r in out):
            raise ValueError(f"runtimes.toml lists {runtime.id} twice")
        out.append(runtime)
    return sorted(out, key=lambda r: version_key(r.jax), reverse=True)


@cache
def listed(path: Path = RUNTIMES_FILE) -> tuple[Runtime, ...]:
    return tuple(parse(path.read_text()))


def runtimes_dir(settings: Settings) -> Path:
    return Path(settings.runtimes_dir) if settings.runtimes_dir else REPO_ROOT / ".runtimes"


def venv(settings: Settings, runtime: Runtime) -> Path:
    return runtimes_dir(settings) / runtime.id


def interpreter(settings: Settings, runtime: Runtime) -> Path:
    return venv(settings, runtime) / "bin" / "python"


def is_installed(settings: Settings, runtime: Runtime) -> bool:
    """Its venv exists and was made from this spec (the CPU or the GPU build of it)."""
    try:
        stamp = (venv(settings, runtime) / STAMP).read_text().strip()
    except OSError:
        return False
    return (stamp in (runtime.spec(), runtime.spec(gpu=True))
            and os.access(interpreter(settings, runtime), os.X_OK))


def installed(settings: Settings) -> list[Runtime]:
    """The listed runtimes this host has, newest JAX first."""
    return [r for r in listed() if is_installed(settings, r)]


def default(settings: Settings) -> Runtime | None:
    """The newest installed JAX; None where none is installed."""
    have = installed(settings)
    return have[0] if have else None


def resolve(settings: Settings, requested: str | None) -> Runtime:
    """The runtime a request names (None or "": the default); UnknownRuntime if not here."""
    have = installed(settings)
    if not have:
        raise UnknownRuntime("no JAX runtime is installed here: run `make setup`")
    if not requested:
        return have[0]
    for runtime in have:
        if runtime.id == requested:
            return runtime
    names = ", ".join(r.id for r in have)
    raise UnknownRuntime(f"JAX {str(requested)[:40]!r} is not available here (available: {names})")


def first_interpreter(runtime: Runtime) -> Path | None:
    """The interpreter of the first series in the runtime's list that this machine has."""
    for series in runtime.python:
        found = find_interpreter(series)
        if found is not None:
            return found
    return None


def find_interpreter(series: str) -> Path | None:
    """python3.X for a series: pyenv's highest patch release of it, else /usr/local/bin, /usr/bin
    or PATH (not through pyenv's shims, which refuse a version not selected). The patch version
    is never written anywhere: it is found."""
    name = f"python{series}"
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    matches = glob.glob(os.path.join(glob.escape(root), "versions", f"{series}.*", "bin", name))
    matches = [m for m in matches if re.search(rf"/{re.escape(series)}\.[0-9]+/bin/", m)]
    if matches:
        return Path(max(matches, key=lambda m: version_key(Path(m).parents[1].name)))
    on_path = os.environ.get("PATH", "").split(os.pathsep)
    folders = ["/usr/local/bin", "/usr/bin"] + [
        p for p in on_path if p and "shims" not in Path(p).parts]
    found = shutil.which(name, path=os.pathsep.join(folders))
    return Path(found) if found else None
