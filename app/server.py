"""Start Streamlit as a long-running server: `python -m app.server run app/main.py [options]`.

The same as `python -m streamlit ...`, less what only helps while developing an app and costs a
server CPU every second, with or without visitors:
- Streamlit polls each config.toml path (there are two: the user's and the project's) every
  0.2 s so that an edited config reloads without a restart. A server's configuration is set at
  start (scripts/serve.sh turns PLAYGROUND_* settings into options), so the polling is dropped:
  it was most of an idle server's CPU (~240 ms a minute here, bench/server_capacity.py).
- uvicorn (Streamlit's web server) wakes ten times a second to refresh its Date header and check
  whether to stop. Once a second does both: the header keeps a one-second resolution and a stop
  is seen within a second.
- The garbage collection after every script run (`runner.postScriptGC`) is turned off in
  .streamlit/config.toml; see the note there. Python's own collector still runs, and its full
  passes walk every object the process holds. So once the first script run has imported the
  app's modules, everything alive is frozen (gc.freeze, app/main.py calls freeze_long_lived):
  those objects live as long as the process anyway, and a full pass skips them. Not before the
  first run: a custom component (the code editor) registers itself only when imported inside
  a script run.
- No outbound connection: left alone, headless Streamlit fetches http(s)://checkip.amazonaws.com
  for its start banner, and again for every cross-origin WebSocket a visitor opens (the external
  address is an allowed origin; a failed lookup is not remembered, so each such visit costs two
  outbound requests), and connects a UDP socket towards 8.8.8.8 for the internal one. Both
  answers are "unknown" here, so only localhost, the configured browser.serverAddress and
  server.corsAllowedOrigins are allowed origins (tests/deploy/test_no_outbound.py).
- In hosted mode it first refuses to start where a run's memory would have no bound of its own
  (app/runner/api/start_check.py): the message on stderr, exit status 3.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading

log = logging.getLogger(__name__)


def drop_config_polling() -> bool:
    """Keep Streamlit from installing its config-file watchers; False if this Streamlit has no
    such hook (then it polls as before: slower when idle, never wrong)."""
    from streamlit.web import bootstrap

    if not callable(getattr(bootstrap, "_install_config_watchers", None)):
        log.warning("streamlit.web.bootstrap has no _install_config_watchers: config polling kept")
        return False

    def no_watchers(flag_options: object) -> None:
        del flag_options  # the configuration is read once, at start

    bootstrap._install_config_watchers = no_watchers
    return True


def _unknown() -> None:
    return None


def patch_address_lookups() -> None:
    """Streamlit never asks the network for this machine's addresses (server_util and
    bootstrap call these through the module at each use)."""
    from streamlit import net_util

    net_util.get_external_ip = _unknown
    net_util.get_internal_ip = _unknown


TICK_S = 1.0


def calm_server_ticks() -> bool:
    """uvicorn's housekeeping loop ticks once a second instead of ten times; False if this
    uvicorn has no such loop (then it ticks as before)."""
    import asyncio

    try:
        from uvicorn.server import Server
    except ImportError:
        return False
    if not callable(getattr(Server, "on_tick", None)):
        log.warning("uvicorn.server.Server has no on_tick: its 0.1 s loop is kept")
        return False

    async def main_loop(self: Server) -> None:
        # uvicorn refreshes its headers when counter % 10 == 0: pass multiples of 10.
        ticks = 0
        should_exit = await self.on_tick(0)
        while not should_exit:
            ticks = (ticks + 1) % 86400
            await asyncio.sleep(TICK_S)
            should_exit = await self.on_tick(ticks * 10)

    Server.main_loop = main_loop  # type: ignore[method-assign]
    return True


_frozen = threading.Event()
_freezing = threading.Lock()


def freeze_long_lived() -> bool:
    """Once per process: collect, then freeze every object alive; True the time it froze."""
    if _frozen.is_set():
        return False
    with _freezing:
        if _frozen.is_set():
            return False
        gc.collect()
        gc.freeze()
        _frozen.set()
        return True


def observe() -> None:
    """Logs as the operator configured them; the /metrics endpoint when
    PLAYGROUND_METRICS_PORT is set, with the runner's and the rooms' state read at each scrape."""
    from app.config import settings
    from app.observability import logs, metrics

    logs.configure("app")
    config = settings()
    if not config.metrics_port:
        return
    from app.rooms.activity import open_rooms_and_people
    from app.rooms.store import get_store
    from app.runner.factory import started_runner_status

    where = "replica" if config.runner_url else "local"
    metrics.register_once("runner", metrics.RunnerCollector(started_runner_status, where))
    metrics.register_once("rooms", metrics.RoomsCollector(
        lambda now: open_rooms_and_people(get_store(), now)))
    metrics.serve(config.metrics_port)


def main(argv: list[str]) -> None:
    from app.config import settings
    from app.runner.api import start_check

    refused = start_check.check(settings())
    if refused is not None:
        print(refused, file=sys.stderr)
        sys.exit(3)
    patch_address_lookups()
    drop_config_polling()
    calm_server_ticks()
    observe()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *argv]
    streamlit_main()


if __name__ == "__main__":
    main(sys.argv[1:])
