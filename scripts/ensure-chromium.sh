#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; install it when missing (never a downloaded browser).
set -euo pipefail
CHROMIUM="${DX_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Chromium for the browser tests (apt-get install chromium)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  echo "installing Chromium for the browser tests (sudo apt-get install chromium)…"
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium not found at $CHROMIUM: install it, or set DX_CHROMIUM to a Chromium binary" >&2
  exit 1
fi
