"""A run's pipes, from the supervisor's side: the request it writes, the output and report it reads.

Every end the supervisor keeps is non-blocking and watched by its one selector, so a run that
floods its output, or never reads its request, cannot stall the loop. The caps hold on what
arrives, as it arrives: output past `output_bytes` is cut with a mark, a result past
`result_bytes` is refused. This module says when a cap is hit; the caller kills the run.
"""

from __future__ import annotations

import array
import codecs
import contextlib
import fcntl
import os
import selectors
import socket

from app.protocol import MAX_OUTPUT_CHUNKS, OutputChunk
from app.runner.supervisor.outcome import size_text
from app.runner.supervisor.pool import Child

F_SETPIPE_SZ = 1031
PIPE_SIZE = 1 << 20
READ_CHUNK = 1 << 16
TRUNCATION_MARK = "\n[output truncated: the run printed more than {limit} and was stopped]\n"
# Live output goes to the Runner in batches: at most every LIVE_BATCH_S, or at once when this
# much waits, so a flood costs a few messages a second, not one per read.
LIVE_BATCH_S = 0.1
LIVE_BATCH_BYTES = 1 << 16

Fds = tuple[int, int, int, int]


def open_pipes() -> tuple[Fds, Fds]:
    """A child's four channels: (request_w, stdout_r, stderr_r, result_r) stay here, and
    (request_r, stdout_w, stderr_w, result_w) go to the zygote for the child. The request
    channel is a unix socket, so that a descriptor (the session's cache layer) can go along."""
    request_w, request_r = (s.detach() for s in socket.socketpair(socket.AF_UNIX,
                                                                   socket.SOCK_STREAM))
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    result_r, result_w = os.pipe()
    for fd in (stdout_r, result_r):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    sock = socket.socket(fileno=request_w)
    try:  # room for a large request at once, as the pipes have (the kernel may give less)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_SIZE)
    except OSError:
        pass
    finally:
        sock.detach()
    return (request_w, stdout_r, stderr_r, result_r), (request_r, stdout_w, stderr_w, result_w)


def _send(fd: int, data: bytes, pass_fd: int | None) -> int:
    """Write what the socket takes; pass_fd goes along with the first byte."""
    if pass_fd is None:
        return os.write(fd, data)
    sock = socket.socket(fileno=fd)
    try:
        rights = array.array("i", [pass_fd])
        return sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
    finally:
        sock.detach()


class Pipes:
    """The children's pipe ends registered with the supervisor's selector, and their owners."""

    def __init__(self, selector: selectors.BaseSelector) -> None:
        self.selector = selector
        self.by_fd: dict[int, Child] = {}

    def owner(self, fd: int) -> Child | None:
        return self.by_fd.get(fd)

    def watch(self, c: Child) -> None:
        """Start reading a freshly forked child's stdout, stderr and result pipes."""
        for fd in (c.request_w, c.stdout_r, c.stderr_r, c.result_r):
            os.set_blocking(fd, False)
        for fd, kind in ((c.stdout_r, "stdout"), (c.stderr_r, "stderr"), (c.result_r, "result")):
            self.selector.register(fd, selectors.EVENT_READ, ("pipe", kind))
            self.by_fd[fd] = c
            c.open_fds.add(fd)
        for stream in ("stdout", "stderr"):
            c.decoders[stream] = codecs.getincrementaldecoder("utf-8")("replace")

    def close_fd(self, c: Child, fd: int) -> None:
        if fd in c.open_fds:
            c.open_fds.discard(fd)
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(fd)
            self.by_fd.pop(fd, None)
            os.close(fd)

    def close_reads(self, c: Child) -> None:
        for fd in list(c.open_fds):
            self.close_fd(c, fd)

    def close_request_pipe(self, c: Child) -> None:
        """Stop writing to a child's request pipe; a waiting child exits when it sees EOF."""
        if c.request_w >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(c.request_w)
            self.by_fd.pop(c.request_w, None)
            os.close(c.request_w)
            c.request_w = -1

    def write_request(self, c: Child, data: bytes, close: bool = False,
                      pass_fd: int | None = None) -> None:
        """Queue data for the child's request channel; pass_fd (a descriptor the child gets a
        copy of) goes along with its first byte."""
        if pass_fd is not None and not c.request_buffer:
            c.request_pass_fd = pass_fd
        c.request_buffer += data
        self.flush_request(c, close_when_done=close)

    def flush_request(self, c: Child, close_when_done: bool = False) -> None:
        """Write what the channel takes now; the rest when the selector says it is writable."""
        if c.request_w < 0:
            return
        try:
            while c.request_buffer:
                written = _send(c.request_w, c.request_buffer, c.request_pass_fd)
                c.request_pass_fd = None
                c.request_buffer = c.request_buffer[written:]
        except BlockingIOError:
            pass
        except OSError:  # the child is gone; its exit tells the rest
            c.request_buffer = b""
            c.request_pass_fd = None
        registered = c.request_w in self.by_fd
        if c.request_buffer and not registered:
            self.selector.register(c.request_w, selectors.EVENT_WRITE, ("request", "close"
                                   if close_when_done else "keep"))
            self.by_fd[c.request_w] = c
        elif not c.request_buffer:
            if registered:
                key = self.selector.unregister(c.request_w)
                del self.by_fd[c.request_w]
                close_when_done = close_when_done or key.data[1] == "close"
            if close_when_done:
                os.close(c.request_w)
                c.request_w = -1


def read(fd: int) -> bytes | None:
    """A chunk from a readable pipe: b"" at its end (or on an error), None if nothing came yet."""
    try:
        return os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def add_result(c: Child, data: bytes, limit: int, now: float) -> bool:
    """Take a chunk of the result pipe: the layers line (the child is ready), the "started" line
    (the run's own clock starts), then the report. True: it just passed `limit`, kill the run."""
    c.result_data += data
    if c.ready_at is None and b"\n" in c.result_data:
        c.ready_at = now
    if (not c.code_started and c.run is not None and c.state == "running"
            and c.result_data.count(b"\n") >= 2):
        c.code_started = True
        c.started_at = now
        if c.kill_reason is None:
            c.deadline = c.started_at + c.run.timeout_s
    if len(c.result_data) > limit and c.kill_reason is None:
        c.kill_reason = "result"
        return True
    return False


def _append(chunks: list[OutputChunk], stream: str, text: str) -> None:
    """Add text to a list of chunks, merging with the last one when it is the same stream."""
    if chunks and chunks[-1].stream == stream:
        chunks[-1].text += text
    else:
        chunks.append(OutputChunk(stream, text))  # type: ignore[arg-type]


def _append_capped(c: Child, stream: str, text: str) -> None:
    """_append for the result's blocks, at most MAX_OUTPUT_CHUNKS of them (a run alternating
    1-byte writes made 70k, each a widget in the page): past the cap, text joins its stream's
    last block, and the order between the streams is approximate."""
    if c.output and c.output[-1].stream == stream:
        c.output[-1].text += text
    elif len(c.output) < MAX_OUTPUT_CHUNKS or stream not in c.last_chunk:
        c.last_chunk[stream] = OutputChunk(stream, text)  # type: ignore[arg-type]
        c.output.append(c.last_chunk[stream])
    else:
        c.last_chunk[stream].text += text


def add_output(c: Child, stream: str, data: bytes, limit: int, now: float = 0.0) -> bool:
    """Take a chunk of stdout or stderr, up to `limit` bytes in all; True: this chunk was cut at
    the limit (a mark says so), kill the run. A streamed run also keeps the text for take_live
    (what is past the cap is never kept, so never streamed)."""
    if c.truncated:
        return False
    room = limit - c.output_bytes
    cut = len(data) > room
    data = data[: max(room, 0)]
    c.output_bytes += len(data)
    text = c.decoders[stream].decode(data, final=cut)
    if cut:
        text += TRUNCATION_MARK.format(limit=size_text(limit))
    if text:
        (c.stdout if stream == "stdout" else c.stderr).append(text)
        _append_capped(c, stream, text)
        if c.run is not None and c.run.stream:
            _append(c.live, stream, text)
            c.live_bytes += len(text)
            if c.live_since is None:
                c.live_since = now
    if cut:
        c.truncated = True
        if c.kill_reason is None:
            c.kill_reason = "output"
    return cut


def live_due(c: Child, now: float) -> float | None:
    """When the child's unstreamed output should go: now if a batch is full, else LIVE_BATCH_S
    after the oldest of it arrived; None when nothing waits."""
    if not c.live:
        return None
    if c.live_bytes >= LIVE_BATCH_BYTES:
        return now
    return (c.live_since or now) + LIVE_BATCH_S


def take_live(c: Child) -> list[OutputChunk]:
    """The output not streamed yet, in order (both streams), and forget it."""
    chunks, c.live = c.live, []
    c.live_bytes = 0
    c.live_since = None
    return chunks
