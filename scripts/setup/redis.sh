#!/usr/bin/env bash
# Installs Debian's redis-server for the distributed coprocessor (BullMQ) tests, benchmarks and demo. Idempotent:
# does nothing when redis-server is on the PATH. Servers are started per test or bench on a free loopback port
# (coprocessor/src/queue/redis-server.ts), never as a system service.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "Installing Debian's redis-server for the BullMQ workers (once per machine)..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# The package enables a system service on port 6379; the project starts its own servers and needs none.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
redis-server --version >&2
