"""A private desktop for alert tests: Xvfb, a session D-Bus and dunst printing every
notification it receives to a file. Always a fresh session, even when the developer has
one, so a test neither depends on nor disturbs a real desktop. (tests/conftest.py puts this
folder on sys.path: the test folders are not packages.)"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BINARIES = ("Xvfb", "dbus-daemon", "dunst", "dbus-send")
MISSING = [b for b in BINARIES if shutil.which(b) is None]


def _read_line(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError(f"no line within {timeout} s (got {data!r})")
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _wait_for_dunst(env: dict[str, str], dunst: subprocess.Popen[bytes], err: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if dunst.poll() is not None:
            raise RuntimeError(f"dunst exited: {err.read_text()}")
        reply = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
             "string:org.freedesktop.Notifications"],
            env=env, capture_output=True, text=True, timeout=5)
        if "boolean true" in reply.stdout:
            return
        time.sleep(0.1)
    raise TimeoutError("dunst never took the notification service name")


@contextmanager
def desktop_session(
    directory: Path, dunst_args: tuple[str, ...] = ()
) -> Iterator[tuple[dict[str, str], Path]]:
    """(DISPLAY and DBUS_SESSION_BUS_ADDRESS for the app, the file ``dunst -print`` writes
    every notification to); ``dunst_args`` go to dunst (a config file, say)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        r, w = os.pipe()
        procs.append(subprocess.Popen(  # picks a free display, writes its number to fd w
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        os.close(w)
        display = ":" + _read_line(r, 20)
        os.close(r)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(bus)
        assert bus.stdout is not None
        address = _read_line(bus.stdout.fileno(), 20)
        env = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
        out, err = directory / "dunst.out", directory / "dunst.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            dunst = subprocess.Popen(["dunst", "-print", *dunst_args],
                                     env=dict(os.environ, **env), stdout=stdout, stderr=stderr)
        procs.append(dunst)
        _wait_for_dunst(dict(os.environ, **env), dunst, err)
        yield env, out
    finally:
        for proc in reversed(procs):
            _stop(proc)


def printed(out: Path, count: int = 0, timeout: float = 10) -> list[dict[str, str]]:
    """dunst -print blocks ("{ appname: '...' summary: '...' ... }") as dicts, waiting up to
    ``timeout`` for at least ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        blocks = re.findall(r"\{\n(.*?)\n\}", out.read_text(), flags=re.S)
        if len(blocks) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return [dict(re.findall(r"^\t(\w+): '?(.*?)'?$", b, flags=re.M)) for b in blocks]
