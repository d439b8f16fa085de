#!/usr/bin/env bash
# Builds and starts the Dockerfile's image without Docker: replays its ARG/ENV/RUN/COPY/USER/CMD
# lines in a throwaway root and venv, serves the app as the image's non-root user and requires
# the HEALTHCHECK to pass (see deploy/container_check.py). Exit 0 only if all of it worked.
# Run by tests/deploy/test_container_check.py (marked slow) in `make test` / .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m deploy.container_check "$@"
