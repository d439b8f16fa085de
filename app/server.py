"""The web server's start: Streamlit's own command line, minus its address lookups.

scripts/serve.sh runs `python -m app.server run app/main.py ...`, which is `streamlit run` with
one change: Streamlit never asks the network for this machine's addresses. Left alone, headless
Streamlit fetches http(s)://checkip.amazonaws.com for its start banner, and again for every
cross-origin WebSocket a visitor opens (the external address is an allowed origin; a failed
lookup is not remembered, so each such visit costs two outbound requests), and connects a UDP
socket towards 8.8.8.8 for the internal one. A hosted sandbox makes no outbound connection it
does not need: both answers are "unknown" here, so only localhost, the configured
browser.serverAddress and server.corsAllowedOrigins are allowed origins.

In hosted mode it first refuses to start where a run's memory would have no bound of its own
(app/runner/api/start_check.py).
"""

from __future__ import annotations

import sys

from streamlit import net_util
from streamlit.web.cli import main

from app.config import settings
from app.runner.api import start_check


def _unknown() -> None:
    return None


def patch_address_lookups() -> None:
    # server_util and bootstrap call these through the module at each use.
    net_util.get_external_ip = _unknown
    net_util.get_internal_ip = _unknown


if __name__ == "__main__":
    refused = start_check.check(settings())
    if refused is not None:
        print(refused, file=sys.stderr)
        sys.exit(3)
    patch_address_lookups()
    main(prog_name="streamlit")
