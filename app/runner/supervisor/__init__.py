"""The supervisor: a single-threaded process that owns the queue, the clocks, the caps and the pool.

Started by the Runner as `python -m app.runner.supervisor`; speaks JSON lines on stdin/stdout:

    runner -> supervisor  {"op": "init", "settings": {...}}          first line
                          {"op": "run", "id": N, "request": {...}, "stream": bool}
                          {"op": "cancel", "id": M, "run": N}        stop run N (queued/running)
                          {"op": "status", "id": N}
                          {"op": "shutdown"}
    supervisor -> runner  {"event": "hello", ...}                     platform, layers, limits
                          {"event": "warm", "ok": bool, ...}           the warm-up finished
                          {"event": "queued", "id": N, "position": P}
                          {"event": "running", "id": N}
                          {"event": "output", "id": N, "chunks": [[stream, text], ...]}
                          {"event": "result", "id": N, "result": {...RunResult}}
                          {"event": "cancel", "id": M, "found": bool}  run N is being stopped
                          {"event": "status", "id": N, "status": {...}}
                          {"event": "fatal", "message": "..."}

A run sent with "stream" gets its stdout/stderr in "output" events while it runs (in order,
batched, within the output cap), all of them before its "result". A stopped run's result is
"cancelled": from the queue at once, or, when running, after its cgroup was killed.

EOF on stdin (the Runner's process died) shuts everything down. Runs are children of the zygote;
this process is their subreaper too, so a run orphaned by a dying zygote is still reaped here.
It never opens a path a run created: results arrive on pipes, scratch dirs are removed by
tree_removal.py (no recursion, no link followed, bounded, never raising).

The process, one job per module: bootstrap.py (start: subreaper, stale scratch, the first line),
service.py (the Supervisor's state; it is made of the jobs below), messages.py (protocol I/O),
status.py, zygote_events.py, pool_upkeep.py (forking, sizing and dropping waiting children),
warmup_runs.py, queueing.py (submit, dispatch, cancel), live_output.py (pipes and streamed
output), exits.py (reaping, results, clean-up), clocks.py (timers), event_loop.py (the loop and
shutdown). What they use: pool.py (child and run records, sizing, GPU choice, set-up health),
pipes.py, outcome.py (a finished run's status), report_decoder.py, session_cache.py with
detached_tmpfs.py and tree_removal.py, uids.py, fairness.py, client_limits.py, placement.py,
warmup.py, zygote_link.py.
"""
