#!/usr/bin/env bash
# Installs the Debian packages the project needs, if missing and if we can (root + apt-get).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/lib/x86_64-linux-gnu/libseccomp.so.2 ] || [ -e /usr/lib/aarch64-linux-gnu/libseccomp.so.2 ] || need+=(libseccomp2)
# PostgreSQL server binaries for the store tests (they start a private server in a temp dir).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# redis-server: the engine between app replicas and worker hosts (PLAYGROUND_RUNNER_URL); the
# tests start their own private server from this binary.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# haproxy: deploy/haproxy.cfg (the compose deployment's sticky proxy) is checked with `haproxy -c`.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
# A real container engine for deploy/container-check.sh (the image built and run as deployed),
# unless a docker daemon answers: podman, runc (Debian's crun refuses hybrid cgroup hosts),
# conmon, catatonit, netavark + aardvark-dns + iptables (published ports), uidmap, and
# debootstrap for a stand-in base image where no registry is reachable (docs/container.md).
if ! { command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; }; then
  for pkg in podman runc conmon catatonit netavark aardvark-dns iptables uidmap debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || need+=("$pkg")
  done
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]}; install them with your package manager" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installing a package must not start its service (redis-server would listen on 6379): the
# tests start private servers. Debian's policy-rc.d convention: exit 101 = "do not start".
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  made_policy=1
fi
trap '[ "$made_policy" -eq 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
