"""Email to a real local SMTP server (aiosmtpd) that demands STARTTLS and AUTH, with a
certificate made for the test and trusted through ``ca_file``."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from engine.events import Event, EventBus
from engine.notify import Notifier, NotifySettings
from engine.store import HistoryStore

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI missing")

USER, PASSWORD = "me@home.lan", "mail-pa55word"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str], bool, bytes | None]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(
            (envelope.mail_from, list(envelope.rcpt_tos), session.ssl is not None,
             session.login_data)
        )
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(tls_cert: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
        authenticator=authenticator, auth_required=True, auth_require_tls=True,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def run(settings: dict[str, Any], event: Event, tmp_path: Path) -> list[dict[str, Any]]:
    cfg = NotifySettings.model_validate({"desktop": {"enabled": False}, "email": settings})
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        notifier = Notifier(EventBus(), cfg, store=store)
        notifier.handle(event)
        assert notifier.wait_idle(30)
        notifier.close()
        return store.notifications(event.call_id)


def email_settings(port: int, cert: Path, **kw: Any) -> dict[str, Any]:
    return {
        "enabled": True, "host": "127.0.0.1", "port": port, "starttls": True,
        "ca_file": str(cert), "username": USER, "password": PASSWORD,
        "sender": "holdslayer@home.lan", "to": ["me@home.lan", "partner@home.lan"],
        "backoff_s": 0.05, "timeout_s": 5, **kw,
    }


def test_email_over_starttls_with_auth(smtp_server: tuple[Inbox, int], tls_cert: tuple[Path, Path],
                                       human_event: Event, tmp_path: Path) -> None:
    inbox, port = smtp_server
    rows = run(email_settings(port, tls_cert[0]), human_event, tmp_path)
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows] == [("email", "sent", 1)]
    (msg,) = inbox.messages
    assert msg["Subject"] == "[Hold Slayer] the call: a person answered"
    assert msg["From"] == "holdslayer@home.lan"
    assert msg["X-HoldSlayer-Priority"] == "CRITICAL" and msg["Importance"] == "high"
    assert "Pick up now" in msg.get_content() and "Call: call-7" in msg.get_content()
    mail_from, rcpts, tls, _ = inbox.envelopes[0]
    assert mail_from == "holdslayer@home.lan"
    assert rcpts == ["me@home.lan", "partner@home.lan"]
    assert tls  # the message went over the upgraded connection


def test_wrong_password_fails_once(smtp_server: tuple[Inbox, int], tls_cert: tuple[Path, Path],
                                   human_event: Event, tmp_path: Path,
                                   caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp_server
    rows = run(email_settings(port, tls_cert[0], password="nope-wrong"), human_event, tmp_path)
    assert (rows[0]["status"], rows[0]["attempts"]) == ("failed", 1)
    assert "SMTPAuthenticationError" in rows[0]["error"]
    assert inbox.messages == [] and "nope-wrong" not in caplog.text


def test_untrusted_certificate_is_refused(smtp_server: tuple[Inbox, int], human_event: Event,
                                          tmp_path: Path) -> None:
    _, port = smtp_server
    settings = email_settings(port, Path("unused"))
    settings["ca_file"] = None  # system CAs do not know our test certificate
    rows = run(settings, human_event, tmp_path)
    assert rows[0]["status"] == "failed" and "SSLCertVerificationError" in rows[0]["error"]
