"""The sandbox of one run: which layers this host can give, and applying them in the child.

API used by the runner (supervisor and zygote), one module each:
    probing.probe(settings=None) -> dict[str, bool]       which layers this host provides (cached)
    entry.enter_child(settings, scratch, run_uid=None) -> dict[str, bool]
        in a freshly forked child of the single-threaded zygote, before the JAX backend starts;
        as root the run becomes run_uid (its own, from app/runner/supervisor/uids.py), else nobody;
        applies every layer and returns which are active. With a pid namespace it forks twice:
        pid 1 of the namespace (a minimal init) and the worker (pid 2) that returns and runs the
        code; the calling process waits and _exits with the worker's status, so the caller's
        wait status is faithful, and killing it (or the cgroup) ends every process of the run.
    cgroups.RunCgroup(run_id, settings)           one per run, created by the supervisor
    layers.SandboxUnavailable                     a required layer (PLAYGROUND_REQUIRE_SANDBOX)
                                                  is missing: raised by probe and enter_child

pid_namespace.py is the fork into the run's pid namespace; mounts, privileges, rlimits,
environment and seccomp_filter apply one layer each; libc wraps the syscalls Python lacks.
docs/security.md says what each layer does and needs from the host.
"""
