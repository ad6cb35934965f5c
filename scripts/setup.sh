#!/usr/bin/env bash
# Sets up Hold Slayer on a fresh Debian/Ubuntu machine with Python 3.11:
# system packages (real prompts and hold music for the demo companies, flite, portaudio),
# then a virtual environment in .venv with the project installed.
# Usage: bash scripts/setup.sh [--dev]     (--dev also installs what the tests need)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_RUNTIME="python3-venv asterisk-core-sounds-en-wav asterisk-moh-opsound-wav flite libportaudio2"
APT_TEST="sip-tester kamailio dunst xvfb dbus dbus-x11 libnotify-bin openssl tmux pocketsphinx-testdata fretsonfire-songs-muldjord"
PKGS="$APT_RUNTIME"
if [ "${1:-}" = "--dev" ]; then PKGS="$PKGS $APT_TEST"; fi

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi
