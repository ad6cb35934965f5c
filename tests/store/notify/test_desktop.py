"""Desktop notifications through a real notification daemon: a private X server (Xvfb), a
private D-Bus session bus and dunst printing every notification it receives.

The fixture always starts its own session (even when the developer has one) so the test
neither depends on nor disturbs a real desktop.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.events import Event, EventBus, EventType
from engine.notify import Notifier, NotifySettings
from engine.store import HistoryStore

BINARIES = ("Xvfb", "dbus-daemon", "dunst")
MISSING = [b for b in BINARIES if shutil.which(b) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs {', '.join(MISSING)} (apt-get install xvfb dbus dunst)"
)


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


def _daemon_ready(env: dict[str, str], out: Path, dunst: subprocess.Popen[bytes]) -> None:
    """Wait until dunst owns org.freedesktop.Notifications on the private bus."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if dunst.poll() is not None:
            raise RuntimeError(f"dunst exited: {out.with_suffix('.err').read_text()}")
        if shutil.which("dbus-send") is None:
            time.sleep(1.0)
            return
        reply = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
             "string:org.freedesktop.Notifications"],
            env=env, capture_output=True, text=True, timeout=5,
        )
        if "boolean true" in reply.stdout:
            return
        time.sleep(0.1)
    raise TimeoutError("dunst never took the notification service name")


@pytest.fixture
def dunst_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Path of the file dunst prints received notifications to, with the session env set."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        r, w = os.pipe()
        xvfb = subprocess.Popen(  # picks a free display and writes its number to fd w
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        procs.append(xvfb)
        os.close(w)
        display = ":" + _read_line(r, 20)
        os.close(r)
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        procs.append(bus)
        assert bus.stdout is not None
        address = _read_line(bus.stdout.fileno(), 20)
        env = dict(os.environ, DISPLAY=display, DBUS_SESSION_BUS_ADDRESS=address)
        out = tmp_path / "dunst.out"
        with out.open("wb") as stdout, out.with_suffix(".err").open("wb") as stderr:
            dunst = subprocess.Popen(["dunst", "-print"], env=env, stdout=stdout, stderr=stderr)
        procs.append(dunst)
        _daemon_ready(env, out, dunst)
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield out
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for proc in procs:
            if proc.stdout is not None:
                proc.stdout.close()


def printed(out: Path, count: int, timeout: float = 10) -> list[dict[str, str]]:
    """dunst -print blocks ("{ appname: '...' summary: '...' ... }") as dicts."""
    deadline = time.monotonic() + timeout
    while True:
        blocks = re.findall(r"\{\n(.*?)\n\}", out.read_text(), flags=re.S)
        if len(blocks) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    result = []
    for block in blocks:
        fields = dict(re.findall(r"^\t(\w+): '?(.*?)'?$", block, flags=re.M))
        result.append(fields)
    return result


def test_person_answered_reaches_the_desktop(dunst_output: Path, tmp_path: Path) -> None:
    bus = EventBus()
    settings = NotifySettings.model_validate({"desktop": {"min_priority": "normal"}})
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        with Notifier(bus, settings, store=store) as notifier:
            assert [c.name for c in notifier.channels] == ["desktop"]
            bus.publish(Event(EventType.CALL_STARTED, "c1", {"company": "Acme Bank"}))
            bus.publish(Event(EventType.IVR_STEP, "c1", {"transcript": "press 1"}))  # LOW: no
            bus.publish(Event(EventType.HUMAN_DETECTED, "c1", {"confidence": 0.9}))
            shown = printed(dunst_output, 1)
            assert notifier.wait_idle(10)
        rows = store.notifications("c1")
    assert len(shown) == 1
    assert shown[0]["appname"] == "Hold Slayer"
    assert shown[0]["summary"] == "Acme Bank: a person answered"
    assert shown[0]["body"] == "Pick up now: a live agent is on the line (confidence 90%)."
    assert shown[0]["urgency"] == "CRITICAL"
    assert [(r["channel"], r["status"]) for r in rows] == [("desktop", "sent")]


def test_no_daemon_is_a_recorded_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no session bus at all the call goes on; the failure is in history."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    bus = EventBus()
    settings = NotifySettings.model_validate(
        {"desktop": {"retries": 1, "backoff_s": 0.05, "timeout_s": 5}}
    )
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        notifier = Notifier(bus, settings, store=store)
        notifier.handle(Event(EventType.HUMAN_DETECTED, "c2"))
        assert notifier.wait_idle(20)
        notifier.close()
        (row,) = store.notifications("c2")
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert "no desktop notification service" in row["error"]
