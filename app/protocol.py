"""The one contract between the app, the runner and the sandboxed worker.

Plain dataclasses that round-trip through JSON. Both sides import this module and nothing
else of each other: the worker never imports streamlit or app.ui, the runner never imports
app.ui, and pages only see these objects.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")

Status = Literal[
    "ok", "error", "timeout", "memory", "output_limit", "crashed", "rejected", "busy", "cancelled"
]
STATUSES: tuple[str, ...] = get_args(Status)

# Wrapper names a transform stack may hold, innermost first.
TransformName = Literal["grad", "value_and_grad", "jit", "vmap", "pmap"]
TRANSFORM_NAMES: tuple[str, ...] = get_args(TransformName)

# Where a run may run: the server's accelerator, or the CPU with its forced host devices (for pmap
# and sharding demos on a host with fewer accelerator devices). "auto": the accelerator, unless the
# code needs more devices than it has (app/runner/supervisor/placement.py).
Target = Literal["auto", "accelerator", "cpu"]
TARGETS: tuple[str, ...] = get_args(Target)

# Views the worker can render for the wrapped function.
ViewName = Literal["jaxpr", "stablehlo", "hlo", "cost", "memory", "shapes", "devices"]
VIEW_NAMES: tuple[str, ...] = get_args(ViewName)

# Bounds on what a run's report may hold. The worker keeps within them; the runner refuses a
# report beyond them (app/decoding.py), so no run can make the supervisor or the app do unbounded
# work (a 300k-entry report once stalled every run for 20 s).
MAX_ITEMS = 1000  # entries of a list or dict of objects, unless its field's metadata says
MAX_SCALAR_ITEMS = 200_000  # entries of a list or dict of strings or numbers (source_lines)
MAX_DECODED_OBJECTS = 20_000  # objects and containers in one report or result, in all
MAX_COMPILATIONS = 200  # functions listed in one compilations list
MAX_REASONS = 50  # reasons kept per function (its count stays exact)
MAX_OUTPUT_CHUNKS = 2000  # stdout/stderr blocks of a result; past it the streams' order is coarse


def at_most(limit: int) -> dict[str, int]:
    """Field metadata: this list or dict field holds at most `limit` entries."""
    return {"max_items": limit}


# Caps on what the worker reports beside the IR text (app.worker enforces them; the page says
# them; a decoder of the report may check them).
MAX_PASS_DUMPS = 150  # InspectResult.passes
MAX_PASS_DUMP_CHARS = 200_000  # one PassDump.text
MAX_PASS_TOTAL_CHARS = 2_000_000  # all PassDump.text together
MAX_PASS_DISK_BYTES = 8 * 1024 * 1024  # scratch a dump may take (estimated before compiling)
MAX_PROFILE_EVENTS = 1500  # Profile.events
MAX_VALUE_NODES = 300  # nodes of one ValueNode tree
MAX_VALUE_DEPTH = 8
MAX_OPS_PER_VIEW = 500  # InspectResult.ops[view]


@dataclass
class TransformStep:
    """One wrapper in the stack, e.g. TransformStep("vmap", {"in_axes": [None, 0]})."""

    name: TransformName
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class InspectRequest:
    """What to do with a function the snippet defines, after the snippet ran."""

    function: str  # name in the snippet's namespace, e.g. "loss"
    args: str = "()"  # Python expression evaluated in the snippet's namespace -> tuple
    transforms: list[TransformStep] = field(default_factory=list)  # innermost first
    views: list[ViewName] = field(default_factory=list)
    timings: bool = False
    compare_unjitted: bool = False  # also time the function without any jit
    numpy_function: str | None = None  # name of a NumPy version to time on the same inputs
    passes: bool = False  # the HLO after each XLA pass that changed it (a second, dumped compile)
    profile: bool = False  # a profiler timeline of a few steady-state calls


# RunRequest.run_id: uuid4 hex fits; anything else is refused (by the local and the remote runner).
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass
class RunRequest:
    code: str
    timeout_s: float | None = None  # None: the configured default; capped by the config
    x64: bool = False  # jax_enable_x64 for this run only
    inspect: InspectRequest | None = None
    session_id: str | None = None  # for per-session rate limits; never shown to other users
    # Chosen by the caller, unguessable (uuid4 hex): the name under which the run can be stopped
    # (Runner.cancel) while it waits or runs. None: the runner picks one; such a run cannot be
    # stopped by the caller.
    run_id: str | None = None
    # Who sent it, as the app knows them (the client address in hosted mode): limits that must
    # not be dodged by opening a new browser session are keyed by this. Never shown to others.
    client_id: str | None = None
    # An exercise's check: Python run by the worker after `code`, in the same process, with the
    # code's namespace as `user` (app/worker/checking.py). Counted with `code` against the
    # code-size limit. None: no check, and the result's `check` stays None.
    check: str | None = None
    target: Target = "auto"  # where it runs; see Target
    # The JAX runtime (runtimes.toml id, e.g. "0.4.38") it runs on; None: the default (newest).
    jax: str | None = None


@dataclass
class RuntimeInfo:
    """The JAX runtime a run ran on, as its zygote found it (never from the run's own report)."""

    id: str  # runtimes.toml id; "" where no runtime is installed (the server's own JAX)
    jax: str = ""
    jaxlib: str = ""
    python: str = ""

    def label(self) -> str:
        return f"JAX {self.jax} · jaxlib {self.jaxlib} · Python {self.python}"


@dataclass
class ErrorInfo:
    type: str  # exception class name, e.g. "TypeError"
    message: str
    line: int | None = None  # 1-based line in the user's code, or None
    traceback: str = ""  # frames of the user's code only, "<snippet>" as file name
    advice: str | None = None  # one sentence on what to change, where we know one


@dataclass
class OutputChunk:
    stream: Literal["stdout", "stderr"]
    text: str


@dataclass
class StepTiming:
    """Repeated calls with block_until_ready on the whole output pytree."""

    median_s: float
    min_s: float
    spread_s: float  # max - min over the repeats
    count: int
    calls_per_sample: int = 1  # calls averaged in one sample (autorange for fast functions)


@dataclass
class Timings:
    trace_lower_s: float | None = None  # trace_s + lower_s where JAX's events gave them
    compile_s: float | None = None
    first_call_s: float | None = None
    steady: StepTiming | None = None
    unjitted: StepTiming | None = None
    numpy: StepTiming | None = None
    # New fields go last: older callers build Timings positionally.
    trace_s: float | None = None  # jax.monitoring: jaxpr_trace_duration
    lower_s: float | None = None  # jax.monitoring: jaxpr_to_mlir_module_duration
    # "jax.monitoring" (JAX's own duration events) or "clock" (perf_counter around the stages,
    # where this JAX sent no events)
    split_source: str = "clock"
    compile_cached: bool = False  # the compile was a persistent compilation cache hit


@dataclass
class Compilation:
    function: str
    count: int
    # JAX's own cache-miss explanations, the first MAX_REASONS of them
    reasons: list[str] = field(default_factory=list, metadata=at_most(MAX_REASONS))


@dataclass
class ValueNode:
    """One node of a value's tree: a container (children) or a leaf (summary).

    Bounded by the worker (app.worker.values): depth, node count and text lengths are capped;
    `more` counts children left out.
    """

    path: str  # e.g. "['params']['w']" ('' for the root)
    kind: str  # "dict", "list", "tuple", "array", "scalar", "none", or a type name
    summary: str  # "f32[3,4]  mean 0.12  min -1  max 2" or the repr of a small leaf
    children: list[ValueNode] = field(default_factory=list, metadata=at_most(MAX_VALUE_NODES))
    more: int = 0  # children not sent (over the cap)


@dataclass
class PassDump:
    """The HLO module after one XLA pass that changed it (what XLA's dump wrote)."""

    index: int  # XLA's order of the dumps, from 0
    pipeline: str  # e.g. "simplification"
    name: str  # e.g. "after algsimp" or "before optimizations"
    text: str | None = None  # None: identical to the previous dump (collapsed)


@dataclass
class ProfileEvent:
    lane: str  # "host: python" / "XLA CPU thread 1" / "/device:GPU:0 stream 7"
    name: str  # the op or the host activity, e.g. "multiply_add_fusion"
    start_us: float  # from the first event of the profile
    duration_us: float


@dataclass
class Profile:
    events: list[ProfileEvent] = field(
        default_factory=list, metadata=at_most(MAX_PROFILE_EVENTS))
    calls: int = 0  # steady-state calls inside the profile
    dropped: int = 0  # events left out over the cap (the shortest ones)


@dataclass
class InspectResult:
    expression: str = ""  # e.g. "jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))"
    output_repr: str | None = None
    jaxpr: str | None = None
    stablehlo: str | None = None
    hlo: str | None = None
    cost: dict[str, float] | None = None
    memory: dict[str, float] | None = None
    devices: list[str] = field(default_factory=list)
    in_shapes: list[str] = field(default_factory=list)
    out_shapes: list[str] = field(default_factory=list)
    timings: Timings | None = None
    compilations: list[Compilation] = field(
        default_factory=list, metadata=at_most(MAX_COMPILATIONS))
    warnings: list[str] = field(default_factory=list)
    error: ErrorInfo | None = None
    truncated_views: list[str] = field(default_factory=list)
    # view ("jaxpr", "stablehlo", "hlo") -> for each line of that view's text, the 1-based line
    # of the user's code it came from, or None (JAX or the playground made it)
    source_lines: dict[str, list[int | None]] = field(default_factory=dict)
    ops: dict[str, list[str]] = field(default_factory=dict)  # view -> the ops it uses, sorted
    output_tree: ValueNode | None = None  # the output on the example arguments, as a tree
    passes: list[PassDump] = field(  # when asked for (request.passes)
        default_factory=list, metadata=at_most(MAX_PASS_DUMPS))
    passes_note: str = ""  # what the pass dump left out, or why there is none
    profile: Profile | None = None  # when asked for (request.profile)
    # Why Inspect looked at another function than asked, or at none: about its own settings
    # (function, arguments, stack), never an error of the code, which keeps its own status.
    notice: str | None = None


# Caps the worker applies to a CheckResult before it reports it (a decoder may rely on them).
CHECK_CASE_CHARS = 200
CHECK_MESSAGE_CHARS = 2000
CHECK_MAX_CASES = 50
CHECK_ERROR_TYPE_CHARS = 100


@dataclass
class CheckResult:
    """How an exercise's check went: passed, or the first case that failed and why."""

    passed: bool
    case: str | None = None  # the failing case's name (<= CHECK_CASE_CHARS); None when passed
    message: str = ""  # what went wrong, in words that teach (<= CHECK_MESSAGE_CHARS)
    passed_cases: list[str] = field(default_factory=list)  # <= CHECK_MAX_CASES names, in order
    error_type: str | None = None  # the exception class that ended the case (<= 100 chars)


@dataclass
class WorkerReport:
    """What the sandboxed child writes on its result pipe; the supervisor adds status and the rest.

    Its status is never taken from this report alone: a run that printed a fake report and then
    crashed is still "crashed" (the supervisor decides from the wait status and cgroup counters).
    """

    error: ErrorInfo | None = None
    value_repr: str | None = None
    inspect: InspectResult | None = None
    compilations: list[Compilation] = field(
        default_factory=list, metadata=at_most(MAX_COMPILATIONS))
    platform: str | None = None
    value_tree: ValueNode | None = None  # the last expression's value as a tree
    check: CheckResult | None = None
    # Compiled programs loaded from / written to the session's cache layer and the shared cache
    # ("session_hits", "shared_hits", "session_writes", "skipped_writes"); empty without a layer.
    compile_cache: dict[str, int] = field(default_factory=dict)


@dataclass
class RunResult:
    status: Status
    stdout: str = ""
    stderr: str = ""
    output: list[OutputChunk] = field(  # both streams, in order
        default_factory=list, metadata=at_most(MAX_OUTPUT_CHUNKS))
    error: ErrorInfo | None = None
    message: str = ""  # one plain sentence for the status, shown to the user
    duration_s: float = 0.0  # wall time of the run itself, queue excluded
    queue_s: float = 0.0  # time spent waiting for a slot
    peak_memory_mb: float | None = None
    sandbox: dict[str, bool] = field(default_factory=dict)  # layer -> active on this host
    limits: dict[str, str] = field(default_factory=dict)  # memory/processes/cpu -> how enforced
    truncated: bool = False
    value_repr: str | None = None  # repr of the snippet's last expression, if any
    inspect: InspectResult | None = None
    compilations: list[Compilation] = field(  # whole-run report
        default_factory=list, metadata=at_most(MAX_COMPILATIONS))
    platform: str | None = None  # "cpu", "gpu", "tpu"
    value_tree: ValueNode | None = None  # the last expression's value as a tree
    check: CheckResult | None = None  # the exercise's check, when the request had one
    target: str | None = None  # where it ran: "accelerator" or "cpu" (see RunRequest.target)
    notes: list[str] = field(default_factory=list)  # plain sentences on how it was run
    compile_cache: dict[str, int] = field(default_factory=dict)  # see WorkerReport
    runtime: RuntimeInfo | None = None  # the JAX, jaxlib and Python it ran on

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --- JSON round trip -----------------------------------------------------------------------


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


def to_json(obj: Any) -> str:
    return json.dumps(to_dict(obj))


def _build(tp: Any, value: Any) -> Any:
    """Build a value of (possibly generic / optional) type tp from plain JSON data."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in get_args(tp) if a is not type(None)]
        return _build(non_none[0], value) if len(non_none) == 1 else value
    if origin is list:
        (item_type,) = get_args(tp) or (Any,)
        return [_build(item_type, v) for v in value]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return from_dict(tp, value)
    return value


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Inverse of to_dict; unknown keys are ignored so old and new sides can talk."""
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {k: _build(hints[k], v) for k, v in data.items() if k in names}
    return cls(**kwargs)


def from_json(cls: type[T], text: str) -> T:
    return from_dict(cls, json.loads(text))
