#!/usr/bin/env bash
# Serves the app: the one start command of `make run`, the container (Dockerfile CMD) and
# deploy/container-check.sh. Settings come from PLAYGROUND_* variables (docs/operations.md);
# this script only turns them into Streamlit options. It makes no outbound connection
# (app/server.py). Extra arguments go to `streamlit run`.
#   PORT (default 8501), ADDRESS (default: all interfaces), PYTHON (default: .venv/bin/python
#   if present, else python3 on PATH, as in the container).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
port="${PORT:-8501}"

is_true() { case "${1,,}" in 1|true|yes|on) return 0 ;; *) return 1 ;; esac; }

# A server never reloads code, asks for an e-mail or reports usage, whatever config.toml says.
export STREAMLIT_SERVER_HEADLESS=true
export STREAMLIT_SERVER_RUN_ON_SAVE=false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
export STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=true
# The address of the start banner and of Streamlit's CORS answers to uploads; set, it also stops
# Streamlit looking up this machine's external address at start (app/server.py stops the rest).
# Set it to the public host name.
export STREAMLIT_BROWSER_SERVER_ADDRESS="${STREAMLIT_BROWSER_SERVER_ADDRESS:-localhost}"

if is_true "${PLAYGROUND_HOSTED:-0}"; then
  # Public demo: visitors never see the app's own exceptions or the developer menu. The rate
  # limits (app.runner.api.admission) and the notice (UI) read PLAYGROUND_HOSTED themselves.
  export STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none
  export STREAMLIT_CLIENT_TOOLBAR_MODE=viewer
  export STREAMLIT_SERVER_FILE_WATCHER_TYPE=none
fi

# PLAYGROUND_THEME=light|dark fixes the base theme; auto (default) follows the browser.
case "${PLAYGROUND_THEME:-auto}" in
  light|dark) export STREAMLIT_THEME_BASE="${STREAMLIT_THEME_BASE:-$PLAYGROUND_THEME}" ;;
esac

args=(--server.port "$port")
[ -n "${ADDRESS:-}" ] && args+=(--server.address "$ADDRESS")
exec "$PYTHON" -m app.server run app/main.py "${args[@]}" "$@"
