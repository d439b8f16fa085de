"""The sandbox's layers by name, and the check that the required ones are active."""

from __future__ import annotations

from app.config import Settings

# In the order they are applied. "all" in PLAYGROUND_REQUIRE_SANDBOX means every one of these.
CHILD_LAYERS: tuple[str, ...] = (
    "session",
    "oom_score_adj",
    "net_ns",
    "mount_ns",
    "filesystem",
    "ipc_ns",
    "uts_ns",
    "cgroup_ns",
    "pid_ns",
    "private_proc",
    "rlimits",
    "environment",
    "unprivileged",
    "no_new_privs",
    "seccomp",
)
CGROUP_LAYERS: tuple[str, ...] = ("cgroup_memory", "cgroup_pids", "cgroup_cpu")
LAYERS: tuple[str, ...] = CHILD_LAYERS + CGROUP_LAYERS
# Reported but never required: root needs no user namespace, an unprivileged user does; the
# rlimit_* are what bound a run where a cgroup layer is off (a container's read-only cgroups):
# rlimit_as its memory (with RLIMIT_DATA and the sized tmpfs), rlimit_nproc its processes.
INFO_LAYERS: tuple[str, ...] = ("user_ns", "rlimit_as", "rlimit_nproc")


class SandboxUnavailable(RuntimeError):
    """A layer that the operator requires (PLAYGROUND_REQUIRE_SANDBOX) is not available here."""


def required_layers(settings: Settings) -> list[str]:
    names = [n.strip() for n in settings.require_sandbox.split(",") if n.strip()]
    if "all" in names:
        names = [n for n in names if n != "all"] + list(LAYERS)
    return names


def check_required(settings: Settings, active: dict[str, bool], among: tuple[str, ...]) -> None:
    missing = [
        name
        for name in required_layers(settings)
        if (name in among or name not in LAYERS) and not active.get(name, False)
    ]
    if missing:
        raise SandboxUnavailable(
            "required sandbox layer(s) unavailable on this host: "
            + ", ".join(dict.fromkeys(missing))
            + " (PLAYGROUND_REQUIRE_SANDBOX; see docs/security.md)"
        )
