#!/usr/bin/env bash
# Sets up everything the tests need, then runs the whole suite, the import contract and ruff.
# The suite runs inside a private D-Bus session (the notification tests start their own
# Xvfb + dunst) so it never touches a real desktop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HOLDSLAYER_TEST_RUN=1
.venv/bin/lint-imports
.venv/bin/ruff check .
exec dbus-run-session --config-file=tests/dbus-session.conf -- .venv/bin/pytest "$@"
