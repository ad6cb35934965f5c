"""The real app in a real pseudo-terminal, as over SSH: when the terminal goes away (the SSH
session drops: SIGHUP) or the app is killed (SIGTERM), every call ends with a BYE, history says
so, the app exits, and no demo company is left running. Before, SIGHUP killed the app on the
spot (no BYE, history "interrupted", simulators orphaned), and once handled, Textual's own exit
blocked for ever writing to the dead terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(150)]

DOWN, ENTER = "\x1b[B", "\r"
APP = "from holdslayer_tui.launcher import main; raise SystemExit(main())"  # `holdslayer`


class Screen:
    """Reads everything the app draws, as a terminal does: an unread pty fills up and the
    app then blocks on its next write."""

    def __init__(self, fd: int) -> None:
        self.fd, self.seen = fd, b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if ready:
                    chunk = os.read(self.fd, 65536)
                    if not chunk:
                        return
                    self.seen = self.seen[-200_000:] + chunk
            except (OSError, ValueError):
                return

    def wait_for(self, needle: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert needle in self.seen, self.seen[-2000:]


def _history(env: dict[str, str]) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "engine.cli", "history", "--json"],
                         capture_output=True, text=True, timeout=60, env=env).stdout
    return json.loads(out)


def _type(fd: int, keys: str) -> None:
    for k in keys:  # as a person types: a burst would reach the old focus
        os.write(fd, k.encode())
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["terminal closed", "SIGTERM"])
def test_a_call_ends_cleanly_when_the_terminal_goes_or_the_app_is_killed(tmp_path: Path,
                                                                           how: str) -> None:
    env = {**os.environ, "HOLDSLAYER_DATA_DIR": str(tmp_path / "data"),
           "HOLDSLAYER_CONFIG": str(tmp_path / "config.toml"), "TERM": "xterm-256color",
           "COLUMNS": "100", "LINES": "30"}  # fmt: skip
    env.pop("HOLDSLAYER_DB_PATH", None)
    log_dir = tmp_path / "simlog"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, on the pty
        os.execvpe(sys.executable, [sys.executable, "-c", APP, "--demo-hold-seconds", "60",
                                    "--demo-log", str(log_dir)], env)  # fmt: skip
    try:
        screen = Screen(fd)
        screen.wait_for(b"Welcome", 60)
        _type(fd, DOWN * 5 + ENTER)  # "Just look around"
        time.sleep(1.0)
        _type(fd, "demo:telco" + ENTER)
        time.sleep(0.5)
        _type(fd, "pay my bill" + ENTER)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            calls = _history(env)
            if calls and calls[0]["answered_at"]:
                break
            time.sleep(1.0)
        assert calls and calls[0]["answered_at"], (calls, screen.seen[-3000:])
        sim = list(log_dir.glob("simulator_telco.jsonl"))
        assert sim, "the demo company was started"
        if how == "SIGTERM":
            os.kill(pid, signal.SIGTERM)
        else:
            os.close(fd)  # the session's terminal is gone: the kernel sends SIGHUP
            fd = -1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.2)
        assert done, f"the app did not exit after {how}"
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if fd >= 0:
            os.close(fd)
    (call,) = _history(env)
    assert (call["outcome"], call["cause"]) == ("hung_up", "hung up: Hold Slayer closed"), call
    left = subprocess.run(["pgrep", "-f", str(log_dir)], capture_output=True, text=True)
    deadline = time.monotonic() + 10
    while left.stdout.strip() and time.monotonic() < deadline:
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-f", str(log_dir)], capture_output=True, text=True)
    assert not left.stdout.strip(), "a demo company outlived the app"
