# JAX Playground image. CPU by default; NVIDIA GPUs with --build-arg ACCELERATOR=cuda13.
# deploy/container-check.sh builds and runs it with a real engine (podman on CI); the replay
# without one (deploy/container_check.py) needs every step a plain RUN/ENV/COPY. Run options the
# sandbox needs, each explained: docs/container.md.
FROM python:3.11-slim-bookworm

# cpu, or cuda13 (jax[cuda13]: CUDA 13 wheels from PyPI; the host needs the NVIDIA driver and
# the NVIDIA container toolkit, `docker run --gpus all`).
ARG ACCELERATOR=cpu

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XLA_PYTHON_CLIENT_PREALLOCATE=false

# libseccomp2: the sandbox's syscall filter (pyseccomp loads it). The sandbox builds its
# namespaces and filesystem view itself (app/runner/sandbox), so no bubblewrap.
# apt-get clean and the *.bin caches: 75 MB that update leaves where the base image does not
# configure apt to skip them (docs/container.md, "Sizes and times").
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libseccomp2 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

# The app runs as this unprivileged user: the sandbox then needs no capability of the container's
# root (it builds its namespaces in a user namespace), and an escape lands as uid 10001.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin playground

WORKDIR /srv/playground
COPY requirements.txt constraints.txt ./
RUN python -m pip install -r requirements.txt -c constraints.txt
RUN if [ "$ACCELERATOR" = "cuda13" ]; then \
        python -m pip install "jax[cuda13]==0.10.2" -c constraints.txt; \
    elif [ "$ACCELERATOR" != "cpu" ]; then \
        echo "ACCELERATOR must be cpu or cuda13, not $ACCELERATOR" >&2; exit 1; \
    fi
# Code owned by root, read-only to the app user.
COPY . .
# The JAX runtimes of runtimes.toml, one venv each under .runtimes/ (docs/jax-versions.md); a
# runtime none of whose Pythons this base image has is skipped with one line (on this 3.11 base:
# JAX 0.11 and later need a 3.12+ base).
RUN if [ "$ACCELERATOR" = "cuda13" ]; then python scripts/setup_runtimes.py --gpu; \
    else python scripts/setup_runtimes.py; fi

USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
CMD ["scripts/serve.sh"]
