"""Desktop notifications through a real notification daemon: a private X server (Xvfb), a
private D-Bus session bus and dunst printing every notification it receives.

The fixture always starts its own session (even when the developer has one) so the test
neither depends on nor disturbs a real desktop.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from desktop_session import MISSING, desktop_session, printed

from engine.events import Event, EventBus, EventType
from engine.notify import Notifier, NotifySettings, message_for
from engine.notify.channels import DesktopChannel
from engine.notify.settings import DesktopSettings
from engine.store import HistoryStore

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs {', '.join(MISSING)} (apt-get install xvfb dbus dunst)"
)


@pytest.fixture
def dunst_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Path of the file dunst prints received notifications to, with the session env set."""
    with desktop_session(tmp_path) as (env, out):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield out


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


# -- answering the notification: "Take call" / "Hang up" ----------------------------------------

PICK_SCRIPT = """#!/bin/sh
# Stands in for dmenu in dunst's context menu: keeps the menu dunst offered, then picks the
# line the test chose (a user would type or click it).
cat > "{menu}.part" && mv "{menu}.part" "{menu}"
grep -m1 -F -- "$(cat "{choice}")" "{menu}"
"""


@dataclasses.dataclass
class DunstMenu:
    """dunst with its context menu (``dunstctl context``) wired to a scripted 'dmenu'."""

    out: Path
    menu: Path
    choice: Path

    def pick(self, title: str, timeout: float = 10) -> str:
        """Open dunst's context menu and choose the action titled ``title``, the way a dunst
        user does (keyboard shortcut / right click -> dmenu). Returns the menu offered."""
        self.choice.write_text(f"#{title} (")
        deadline = time.monotonic() + timeout
        while not self.menu.exists():  # dunst offers no menu until the notification shows
            if time.monotonic() > deadline:
                raise TimeoutError("dunst never opened its context menu")
            subprocess.run(["dunstctl", "context"], check=True, capture_output=True, timeout=5)
            wait_until = time.monotonic() + 1
            while not self.menu.exists() and time.monotonic() < wait_until:
                time.sleep(0.05)
        return self.menu.read_text()


@pytest.fixture
def dunst_menu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DunstMenu]:
    if shutil.which("dunstctl") is None:
        pytest.skip("needs dunstctl (Debian dunst)")
    menu, choice, script = tmp_path / "menu.txt", tmp_path / "choice.txt", tmp_path / "pick.sh"
    script.write_text(PICK_SCRIPT.format(menu=menu, choice=choice))
    script.chmod(0o755)
    config = tmp_path / "dunstrc"
    config.write_text(f"[global]\n    dmenu = {script}\n")
    with desktop_session(tmp_path, ("-config", str(config))) as (env, out):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield DunstMenu(out, menu, choice)


@pytest.mark.parametrize(("title", "action"), [("Hang up", "hang_up"), ("Take call", "take_call")])
def test_a_button_on_the_person_alert_reaches_the_bus(
    dunst_menu: DunstMenu, title: str, action: str
) -> None:
    bus = EventBus()
    with bus.subscribe_queue(types=[EventType.USER_ACTION]) as actions:
        with Notifier(bus, NotifySettings()) as notifier:
            bus.publish(Event(EventType.CALL_STARTED, "c9", {"company": "Acme Bank"}))
            bus.publish(Event(EventType.HUMAN_DETECTED, "c9", {"confidence": 0.9}))
            (shown,) = printed(dunst_menu.out, 1)
            assert shown["urgency"] == "CRITICAL"
            offered = dunst_menu.pick(title)
            event = actions.get(timeout=10)
            assert event is not None, f"no USER_ACTION; dunst offered:\n{offered}"
            assert actions.get(timeout=0.5) is None  # one press, one event
            assert notifier.wait_idle(10)
    summary = "Acme Bank: a person answered"
    assert f"#Take call ({summary}) [{shown['id']},take_call]" in offered.splitlines()
    assert f"#Hang up ({summary}) [{shown['id']},hang_up]" in offered.splitlines()
    assert (event.call_id, event.data) == ("c9", {"action": action, "source": "desktop"})


def test_clicking_the_alert_itself_asks_to_show_that_call(dunst_menu: DunstMenu) -> None:
    """dunst's "do action" on a notification (its default click) invokes the default action
    desktop-notifier registers for on_clicked."""
    bus = EventBus()
    with bus.subscribe_queue(types=[EventType.USER_ACTION]) as actions:
        with Notifier(bus, NotifySettings()) as notifier:
            bus.publish(Event(EventType.CALL_STARTED, "c4", {"company": "Acme Bank"}))
            bus.publish(Event(EventType.HUMAN_DETECTED, "c4", {"confidence": 0.9}))
            printed(dunst_menu.out, 1)
            event = None
            deadline = time.monotonic() + 10
            while event is None and time.monotonic() < deadline:  # shown only once drawn
                subprocess.run(["dunstctl", "action", "0"], capture_output=True, timeout=5)
                event = actions.get(timeout=0.5)
            assert notifier.wait_idle(10)
    assert event is not None, "clicking the notification sent nothing"
    assert (event.call_id, event.data) == ("c4", {"action": "show_call", "source": "desktop"})


class _FakeServer:
    """desktop-notifier's side of a server, reporting what it can do and what it was sent."""

    def __init__(self, capabilities: frozenset[object]) -> None:
        self.capabilities = capabilities
        self.sent: list[dict[str, object]] = []

    async def get_capabilities(self) -> frozenset[object]:
        return self.capabilities

    async def send(self, title: str, message: str, **kw: object) -> str:
        self.sent.append(dict(kw, title=title))
        on_dispatched = kw["on_dispatched"]
        assert callable(on_dispatched)
        on_dispatched()
        return "id"


@pytest.mark.parametrize("buttons", [True, False])
def test_buttons_only_where_the_server_shows_them(buttons: bool) -> None:
    from desktop_notifier import Capability

    caps = {Capability.URGENCY, Capability.ON_CLICKED}
    if buttons:
        caps.add(Capability.BUTTONS)
    server = _FakeServer(frozenset(caps))
    channel = DesktopChannel(DesktopSettings())
    channel._notifier = server
    chosen: list[tuple[str, str]] = []
    channel.on_action = lambda n, action: chosen.append((n.call_id, action))
    human = message_for(Event(EventType.HUMAN_DETECTED, "c3"), {})
    hold = message_for(Event(EventType.HOLD_DETECTED, "c3"), {})
    assert human is not None and hold is not None
    try:
        channel.send(human, "")
        channel.send(hold, "")
    finally:
        channel.close()
    human_buttons, hold_buttons = (sent["buttons"] for sent in server.sent)
    assert hold_buttons == ()
    if not buttons:
        assert human_buttons == ()
        return
    assert [b.title for b in human_buttons] == ["Take call", "Hang up"]
    human_buttons[1].on_pressed()
    assert chosen == [("c3", "hang_up")]
