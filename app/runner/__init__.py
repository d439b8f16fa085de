"""The runner: runs untrusted code in fresh, sandboxed processes. One package per process:

    api/         the caller's side, in the app's (or the CLI's) process: Runner, its interface,
                 admission (per-session rate limits), `python -m app run`
    factory.py   get_runner(): the process-wide runner, local or remote as configured
    supervisor/  `python -m app.runner.supervisor`: one single-threaded process that owns the
                 queue, the clocks, the caps and the pool of waiting children
    zygote/      `python -m app.runner.zygote`: imports JAX once and forks every run's child;
                 child.py is what a run's process does before and after the user's code
    sandbox/     the layers a child enters before any user code (namespaces, mounts, cgroups,
                 rlimits, seccomp, privileges)
    remote/      worker hosts through Redis: the app replica's RemoteRunner and the host process
    platform.py, policy.py   what this host has and the run policy it decides: read by every process
    limits.py    how a run's limits are enforced here (cgroups, or what stands in for them)

Nothing here is imported by this package itself: the zygote and the sandboxed children import
their own modules without pulling in the caller-side Runner (threads, subprocess).
"""
