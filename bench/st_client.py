"""A Streamlit client that speaks the browser's websocket protocol, without a browser.

One `BrowserSession` is one browser tab: it opens a page (a `rerun_script` BackMsg with the page's
script hash and query string), keeps every widget's state as the browser does and sends all of it
with each rerun, clicks buttons (a one-shot trigger value), sets a custom component's value (the
code editor's JSON), and answers the server's `auto_rerun` requests (`st.fragment(run_every=...)`:
the live panel, the dashboard) with fragment reruns at the interval asked, as the browser's timer
does. What the server draws is kept as plain text per element, so a load script can wait for a
result to appear.

It exists to measure the app server's own cost per person (bench/server_capacity.py): hundreds of
these fit in one process where as many Chromium tabs would not fit on the machine.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

# Element fields that carry what a person reads.
_TEXT_FIELDS = ("body", "label", "text", "code_text", "value")


@dataclass
class Widget:
    id: str
    kind: str
    label: str


@dataclass
class PageState:
    """What the tab shows: element texts by delta path, widgets by id, and the run counters."""

    texts: dict[tuple[int, ...], str] = field(default_factory=dict)
    widgets: dict[str, Widget] = field(default_factory=dict)
    finished_runs: int = 0
    exceptions: list[str] = field(default_factory=list)


def _element_text(element: Any) -> tuple[str, str, str, str]:
    """(kind, id, label, text) of a new element."""
    kind = element.WhichOneof("type") or ""
    body = getattr(element, kind, None)
    if body is None:
        return kind, "", "", ""
    widget_id = getattr(body, "id", "") if hasattr(body, "id") else ""
    label = getattr(body, "label", "") if hasattr(body, "label") else ""
    parts = []
    for name in _TEXT_FIELDS:
        if hasattr(body, name):
            value = getattr(body, name)
            if isinstance(value, str) and value:
                parts.append(value)
    if kind == "exception":
        parts = [body.type, body.message]
    return kind, widget_id, label, "\n".join(parts)


class BrowserSession:
    """One browser tab on a served Streamlit app (see the module docstring)."""

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None,
                 query: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.query = query
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path name ("" for the main page) -> script hash
        self.state = PageState()
        self.widget_values: dict[str, dict[str, Any]] = {}
        self.session_id = ""
        self.closed = False
        self.last_finished_at = 0.0
        self._cond = threading.Condition()
        self._auto: dict[str, float] = {}  # fragment id -> interval (s)
        self._auto_next: dict[str, float] = {}
        self._send_lock = threading.Lock()
        ws_url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self._ws: ClientConnection = connect(
            ws_url, subprotocols=["streamlit"], origin=self.base_url, max_size=None,  # type: ignore[list-item]
            additional_headers=headers or {}, open_timeout=30)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self._timer = threading.Thread(target=self._auto_loop, daemon=True)
        self._timer.start()

    # -- sending --------------------------------------------------------------------------------
    def _send_rerun(self, *, triggers: dict[str, dict[str, Any]] | None = None,
                    fragment_id: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.page_script_hash = self.page_hash
        rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = auto
        values = dict(self.widget_values)
        values.update(triggers or {})
        for widget_id, value in values.items():
            state = rerun.widget_states.widgets.add()
            state.id = widget_id
            for name, item in value.items():
                setattr(state, name, item)
        with self._send_lock:
            if not self.closed:
                self._ws.send(msg.SerializeToString())

    def open(self, path: str = "", query: str | None = None, timeout: float = 60.0) -> bool:
        """Open a page (its URL path name; "" is the start page), as a click in the sidebar, and
        wait until its script has run; False if it did not within timeout."""
        if query is not None:
            self.query = query
        if path and not self.pages:  # a new tab learns the pages from its first draw
            runs = self.state.finished_runs
            self._send_rerun()
            self.wait_finished(runs, 60)
        self.page_hash = self.pages.get(path, "")
        if path and not self.page_hash:
            raise KeyError(f"no page {path!r}; known: {sorted(self.pages)}")
        self.widget_values.clear()
        with self._cond:
            self.state.widgets.clear()
            self.state.texts.clear()
            runs = self.state.finished_runs
        self._send_rerun()
        return self.wait_finished(runs, timeout)

    def click(self, widget_id: str) -> None:
        self._send_rerun(triggers={widget_id: {"trigger_value": True}})

    def set_value(self, widget_id: str, **value: Any) -> None:
        """Keep a widget's value (e.g. string_value=..., bool_value=...) and rerun, as a change."""
        self.widget_values[widget_id] = value
        self._send_rerun()

    def submit_code(self, editor_id: str, code: str) -> None:
        """Ctrl+Enter in a code editor: the component's value is the event with the code."""
        self._editor_event(editor_id, code, "submit")

    def type_code(self, editor_id: str, code: str) -> None:
        """Type code, then leave the editor (it sends its text on blur, as before a click)."""
        self._editor_event(editor_id, code, "blur")

    def _editor_event(self, editor_id: str, code: str, kind: str) -> None:
        event = {"id": uuid.uuid4().hex[:8], "type": kind, "lang": "python", "text": code,
                 "selected": "", "cursor": ""}
        self.widget_values[editor_id] = {"json_value": json.dumps(event)}
        self._send_rerun()

    # -- reading --------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        try:
            while True:
                raw = self._ws.recv()
                msg = ForwardMsg()
                msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
                self._handle(msg)
        except Exception:  # the connection closed: the tab is gone
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        with self._cond:
            if kind == "new_session":
                if not msg.metadata.run.fragment_ids:
                    # A full-app run starts: the browser drops every fragment timer; the
                    # fragments drawn by this run register theirs again.
                    self._auto.clear()
                    self._auto_next.clear()
                self.session_id = msg.new_session.initialize.session_id or self.session_id
                for page in msg.new_session.app_pages:
                    self.pages[page.url_pathname] = page.page_script_hash
            elif kind == "navigation":
                for page in msg.navigation.app_pages:
                    self.pages[page.url_pathname] = page.page_script_hash
                if msg.navigation.page_script_hash:
                    self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta":
                path = tuple(msg.metadata.delta_path)
                if msg.delta.WhichOneof("type") == "new_element":
                    el_kind, widget_id, label, text = _element_text(msg.delta.new_element)
                    self.state.texts[path] = text
                    if widget_id:
                        self.state.widgets[widget_id] = Widget(widget_id, el_kind, label)
                    if el_kind == "exception":
                        self.state.exceptions.append(text)
            elif kind == "auto_rerun":
                fragment = msg.auto_rerun.fragment_id
                self._auto[fragment] = max(0.05, msg.auto_rerun.interval)
                self._auto_next.setdefault(fragment, time.monotonic() + self._auto[fragment])
            elif kind == "stop_auto_rerun":
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    self._auto.pop(fragment, None)
                    self._auto_next.pop(fragment, None)
            elif kind == "script_finished":
                self.state.finished_runs += 1
                self.last_finished_at = time.monotonic()
            self._cond.notify_all()

    def _auto_loop(self) -> None:
        while not self.closed:
            time.sleep(0.05)
            now = time.monotonic()
            with self._cond:
                due = [f for f, at in self._auto_next.items() if at <= now and f in self._auto]
                for fragment in due:
                    self._auto_next[fragment] = now + self._auto[fragment]
            for fragment in due:
                try:
                    self._send_rerun(fragment_id=fragment, auto=True)
                except Exception:
                    return

    # -- waiting --------------------------------------------------------------------------------
    def wait(self, predicate: Callable[[PageState], bool], timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.state):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return False
                self._cond.wait(left)
            return True

    def wait_finished(self, after: int, timeout: float = 60.0) -> bool:
        return self.wait(lambda s: s.finished_runs > after, timeout)

    def text(self) -> str:
        with self._cond:
            return "\n".join(self.state.texts[k] for k in sorted(self.state.texts))

    def widget(self, key_suffix: str) -> str:
        """The id of the widget whose user key ends with key_suffix (or whose label is it)."""
        with self._cond:
            for widget in self.state.widgets.values():
                if widget.id.endswith(key_suffix) or widget.label == key_suffix:
                    return widget.id
            known = [w.id.split("-", 2)[-1] for w in self.state.widgets.values()]
        raise KeyError(f"no widget {key_suffix!r}; known: {known[:40]}")

    def widget_of_kind(self, kind: str) -> str:
        """The id of the first widget of that element kind (e.g. "component_instance")."""
        with self._cond:
            for widget in self.state.widgets.values():
                if widget.kind == kind:
                    return widget.id
        raise KeyError(f"no widget of kind {kind!r}")

    def auto_fragments(self) -> set[str]:
        """The fragments whose timer (run_every) is ticking now."""
        with self._cond:
            return set(self._auto)

    def close(self) -> None:
        with self._send_lock:
            self.closed = True
            self._ws.close()
