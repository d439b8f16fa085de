"""A real container engine for deploy/container-check.sh: docker where its daemon answers, else
podman run rootful with settings of its own (CONTAINERS_CONF / CONTAINERS_STORAGE_CONF in a work
dir; /etc/containers is left alone), and the base image: pulled where a registry answers, else
a debootstrap stand-in imported under the base image's name, cached in the work dir by its inputs.

Standard library only. docs/container.md says why each podman setting is what it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# Outside the repository and outside /tmp (the sandbox's private /tmp), kept between runs: the
# stand-in base image and the engine's layer cache make a second check cost one short build.
DEFAULT_WORK_DIR = Path("/var/tmp/jax-playground-container")

# podman 4.3 on a host with hybrid cgroups (v1 controllers) and no systemd: crun 1.8 refuses
# hybrid cgroups, so runc; cgroupfs because there is no systemd; netavark for -p; no default
# ulimits (the sandbox sets its own, and podman's nofile/nproc defaults exceed what runc may set
# in a nested container).
CONTAINERS_CONF = """\
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
network_backend = "netavark"
"""

STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{root}/storage"
runroot = "{root}/run"
"""

# The stand-in for python:3.11-slim-bookworm: what the official image holds, from the mirror in
# this host's apt sources. Part of the cache key: change it and the stand-in is rebuilt.
STAND_IN_SUITE = "bookworm"
STAND_IN_INCLUDE = "python3.11,python3.11-venv,python3-pip,ca-certificates,netbase,tzdata"
# As in the official image: python and pip on /usr/local/bin, no PEP 668 marker (pip installs
# into the system interpreter, as the Dockerfile expects).
STAND_IN_FINISH = (
    "ln -sf /usr/bin/python3.11 /usr/local/bin/python && "
    "ln -sf /usr/bin/python3.11 /usr/local/bin/python3 && "
    "ln -sf /usr/bin/pip3 /usr/local/bin/pip && "
    "rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED && "
    "apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin"
)
PULL_TIMEOUT_S = 60


class EngineError(RuntimeError):
    pass


@dataclass
class Engine:
    name: str  # "docker" or "podman"
    work_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, *args: str) -> list[str]:
        return [self.name, *args]

    def run(self, *args: str, timeout: float = 600, check: bool = True,
            input_text: str | None = None, cwd: Path | None = None,
            ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, input=input_text, cwd=cwd)
        if check and proc.returncode != 0:
            raise EngineError(f"{self.name} {' '.join(args[:3])} ... exit {proc.returncode}: "
                              f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
        return proc


def docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose(work_dir: Path = DEFAULT_WORK_DIR, prefer: str | None = None) -> Engine:
    """docker where its daemon answers (or when asked), else podman with our own settings."""
    if prefer == "docker" or (prefer is None and docker_works()):
        return Engine("docker", work_dir, dict(os.environ))
    if shutil.which("podman") is None:
        raise EngineError("no container engine: docker does not answer and podman is not "
                          "installed (scripts/system-deps.sh installs it)")
    work_dir.mkdir(parents=True, exist_ok=True)
    conf = work_dir / "containers.conf"
    storage = work_dir / "storage.conf"
    conf.write_text(CONTAINERS_CONF)
    storage.write_text(STORAGE_CONF.format(root=work_dir))
    env = dict(os.environ, CONTAINERS_CONF=str(conf), CONTAINERS_STORAGE_CONF=str(storage))
    return Engine("podman", work_dir, env)


def apt_mirror() -> str:
    """The Debian mirror of this host's apt sources (deb822 or one-line format)."""
    for source in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d")
                                                         .glob("*"))]:
        try:
            text = source.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and "security" not in line:
                url = next((w for w in words[1:] if "://" in w), None)
                if url:
                    return url
    return "http://deb.debian.org/debian"


def stand_in_key(mirror: str) -> str:
    recipe = "\n".join((STAND_IN_SUITE, STAND_IN_INCLUDE, STAND_IN_FINISH, mirror))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def has_image(engine: Engine, name: str) -> bool:
    return engine.run("image", "inspect", name, check=False, timeout=60).returncode == 0


def ensure_base(engine: Engine, image: str, log: callable) -> str:  # type: ignore[valid-type]
    """The Dockerfile's base image present in the engine: returns how ("cached", "pulled",
    "stand-in"). The stand-in's tarball is kept in the work dir under its key."""
    mirror = apt_mirror()
    key = stand_in_key(mirror)
    marker = engine.work_dir / f"base-{key}.imported"
    if has_image(engine, image) and (marker.exists() or engine.name == "docker"):
        return "cached"
    pulled = engine.run("pull", image, check=False, timeout=PULL_TIMEOUT_S * 3)
    if pulled.returncode == 0:
        return "pulled"
    log(f"pull {image} failed ({pulled.stderr.strip().splitlines()[-1:]}); "
        "using the debootstrap stand-in")
    tarball = engine.work_dir / f"base-{key}.tar"
    if not tarball.exists():
        build_stand_in(tarball, mirror, log)
    engine.run("import", "--change", 'CMD ["python3"]', str(tarball), image, timeout=600)
    for old in engine.work_dir.glob("base-*.imported"):
        old.unlink()
    marker.touch()
    return "stand-in"


def build_stand_in(tarball: Path, mirror: str, log: callable) -> None:  # type: ignore[valid-type]
    if shutil.which("debootstrap") is None:
        raise EngineError("no registry and no debootstrap for a stand-in base image")
    root = Path(tempfile.mkdtemp(prefix="stand-in-", dir=tarball.parent))
    try:
        log(f"debootstrap {STAND_IN_SUITE} from {mirror} (a few minutes, cached afterwards)")
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={STAND_IN_INCLUDE}",
                        STAND_IN_SUITE, str(root), mirror],
                       check=True, capture_output=True, timeout=1800)
        subprocess.run(["chroot", str(root), "/bin/sh", "-c", STAND_IN_FINISH], check=True,
                       timeout=120)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
                       check=True, timeout=600)
        partial.rename(tarball)
    except subprocess.CalledProcessError as exc:
        raise EngineError(f"stand-in base image: {exc}: {(exc.stderr or b'')[-800:]!r}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)
