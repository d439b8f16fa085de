#!/usr/bin/env bash
# Builds the image and runs it with a real container engine (docker where its daemon answers, else
# podman, which scripts/system-deps.sh installs): base image, build, run with the documented
# options, health, a sandboxed run, the hostile suite inside the container, the start page, stop,
# cleanup. Ends with one line: `container: built in N s, healthy in N s, layers on K/K, hostile N/N`.
# Options: deploy/engine_check.py (--gpu, --engine, --keep, --no-hostile). docs/container.md.
# The older replay without an engine stays as a quick check: python3 -m deploy.container_check.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m deploy.engine_check "$@"
