#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests. Idempotent: does nothing when /usr/bin/chromium
# exists. The tests never download a browser of their own (playwright-core drives this one).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "Installing Debian's chromium for the browser tests (once per machine)..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation >/dev/null
/usr/bin/chromium --version >&2
