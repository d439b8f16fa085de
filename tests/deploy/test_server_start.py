"""app/server.py: the server starts without the polling and wake-ups that only serve development,
and with the app's long-lived objects frozen out of the garbage collector's full passes. Each
check runs in a fresh interpreter: the patches are process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_config_file_is_polled() -> None:
    seen = run_python("""
import json
import streamlit.watcher.path_watcher as path_watcher
created = []
original = path_watcher._watch_path
path_watcher._watch_path = lambda *a, **k: created.append(a[0]) or True
from app.server import drop_config_polling
hooked = drop_config_polling()
from streamlit.web import bootstrap
bootstrap._install_config_watchers({})
print(json.dumps({"hooked": hooked, "watched": created}))
""")
    assert seen == {"hooked": True, "watched": []}


def test_without_the_hook_streamlit_would_poll_every_config_file() -> None:
    """The control: the same call without drop_config_polling watches the config files, so the
    test above would see them."""
    seen = run_python("""
import json
import streamlit.watcher.path_watcher as path_watcher
created = []
path_watcher._watch_path = lambda *a, **k: created.append(a[0]) or True
from streamlit.web import bootstrap
bootstrap._install_config_watchers({})
print(json.dumps({"watched": created}))
""")
    assert any(str(p).endswith("config.toml") for p in seen["watched"])  # type: ignore[union-attr]


def test_uvicorn_ticks_once_a_second_and_still_serves_and_stops() -> None:
    seen = run_python("""
import asyncio, json, socket, threading, time, urllib.request
from app.server import calm_server_ticks
calmed = calm_server_ticks()
import uvicorn
from uvicorn.server import Server

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
ticks = []
original = Server.on_tick
async def counting(self, counter):
    ticks.append(counter)
    return await original(self, counter)
Server.on_tick = counting
thread = threading.Thread(target=server.run, daemon=True); thread.start()
while not server.started:
    time.sleep(0.05)
with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
    date = answer.headers.get("date")
window_start = len(ticks); time.sleep(2.0); in_window = len(ticks) - window_start
server.should_exit = True
thread.join(10)
print(json.dumps({"calmed": calmed, "date": bool(date), "ticks_in_2s": in_window,
                  "headers_refreshed": all(t % 10 == 0 for t in ticks),
                  "stopped": not thread.is_alive()}))
""")
    assert seen["calmed"] and seen["date"] and seen["stopped"] and seen["headers_refreshed"]
    # uvicorn's own loop ticks 20 times in 2 s; a loaded machine only ever ticks fewer.
    assert seen["ticks_in_2s"] <= 4  # type: ignore[operator]


def test_the_first_script_run_freezes_what_every_session_shares() -> None:
    seen = run_python("""
import gc, json
from streamlit.testing.v1 import AppTest
before = gc.get_freeze_count()
app = AppTest.from_file("app/main.py", default_timeout=60).run()
first = gc.get_freeze_count()
app.run()
print(json.dumps({"before": before, "first": first, "second": gc.get_freeze_count(),
                  "errors": len(app.exception)}))
""")
    assert seen["before"] == 0 and seen["errors"] == 0
    assert seen["first"] > 10_000  # type: ignore[operator]
    # Once per process, not once per run: the second run froze nothing more (frozen objects
    # that are freed by their reference count leave the count).
    assert seen["second"] <= seen["first"]  # type: ignore[operator]


def test_the_shipped_config_turns_off_the_collection_after_every_script_run() -> None:
    seen = run_python("""
import json
from streamlit import config
config.get_config_options(force_reparse=True)
print(json.dumps({"post_script_gc": config.get_option("runner.postScriptGC")}))
""")
    assert seen == {"post_script_gc": False}
