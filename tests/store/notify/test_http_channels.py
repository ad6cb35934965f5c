"""Webhook, Twilio, SMS gateway and ntfy against a real HTTP server on 127.0.0.1: the bytes on
the wire, signatures, auth, retries and what history says afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from engine.events import Event, EventBus, EventType
from engine.notify import Notifier, NotifySettings
from engine.notify.channels import build_channels
from engine.notify.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from engine.store import HistoryStore

SECRET = "s3cr3t-webhook-key"
TOKEN = "tw-auth-token-xyz"


def deliver(settings: dict[str, Any], event: Event, tmp_path: Path) -> list[dict[str, Any]]:
    """Run one event through a real Notifier with these channel settings; history rows."""
    cfg = NotifySettings.model_validate({"desktop": {"enabled": False}, **settings})
    bus = EventBus()
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        notifier = Notifier(bus, cfg, store=store)
        notifier.handle(event)  # as the bus thread would
        assert notifier.wait_idle(20)
        notifier.close()
        return store.notifications(event.call_id)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def fast(**kw: Any) -> dict[str, Any]:
    return {"enabled": True, "backoff_s": 0.05, "timeout_s": 2.0, **kw}


def test_webhook_signed_json(http_server: Any, human_event: Event, tmp_path: Path) -> None:
    rows = deliver(
        {"webhook": fast(url=http_server.url + "/hook", secret=SECRET,
                         headers={"X-Home": "lab"})},
        human_event, tmp_path,
    )
    (req,) = http_server.requests
    assert req.path == "/hook" and req.headers["Content-Type"] == "application/json"
    assert req.headers["X-Home"] == "lab" and req.headers["X-HoldSlayer-Event"] == "HUMAN_DETECTED"
    ts = req.headers[TIMESTAMP_HEADER]
    assert abs(int(ts) - time.time()) < 60
    expected = "sha256=" + hmac.new(
        SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256
    ).hexdigest()
    assert req.headers[SIGNATURE_HEADER] == expected
    assert verify(SECRET, ts, req.body, expected)
    assert not verify("wrong", ts, req.body, expected)
    body = req.json()
    assert body["event"] == "HUMAN_DETECTED" and body["priority"] == "CRITICAL"
    assert body["call_id"] == "call-7" and body["data"]["confidence"] == 0.92
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows] == [("webhook", "sent", 1)]


def test_webhook_retries_5xx_then_succeeds(http_server: Any, human_event: Event,
                                           tmp_path: Path) -> None:
    http_server.script = [(500, 0.0), (503, 0.0)]
    t0 = time.monotonic()
    rows = deliver({"webhook": fast(url=http_server.url, secret=SECRET)}, human_event, tmp_path)
    assert time.monotonic() - t0 >= 0.15  # 0.05 s then 0.1 s of backoff
    assert len(http_server.requests) == 3
    # each attempt is signed afresh and verifies
    for req in http_server.requests:
        assert verify(SECRET, req.headers[TIMESTAMP_HEADER], req.body,
                      req.headers[SIGNATURE_HEADER])
    assert (rows[0]["status"], rows[0]["attempts"]) == ("sent", 3)


def test_webhook_timeout_is_retried_then_recorded_failed(http_server: Any, human_event: Event,
                                                         tmp_path: Path) -> None:
    http_server.script = [(200, 1.0)] * 3  # answers too late every time
    rows = deliver({"webhook": fast(url=http_server.url, timeout_s=0.3, retries=2)},
                   human_event, tmp_path)
    assert len(http_server.requests) == 3
    assert (rows[0]["status"], rows[0]["attempts"]) == ("failed", 3)
    assert "ReadTimeout" in rows[0]["error"]


def test_webhook_4xx_is_not_retried(http_server: Any, human_event: Event, tmp_path: Path) -> None:
    http_server.default = 404
    rows = deliver({"webhook": fast(url=http_server.url)}, human_event, tmp_path)
    assert len(http_server.requests) == 1
    assert (rows[0]["status"], rows[0]["attempts"]) == ("failed", 1)
    assert "HTTP 404" in rows[0]["error"]


def test_twilio_documented_request(http_server: Any, human_event: Event, tmp_path: Path) -> None:
    http_server.default = 201  # Twilio answers 201 Created
    http_server.script = [(503, 0.0)]  # first try hits a 503: retried
    sid = "AC0123456789abcdef0123456789abcdef"
    rows = deliver(
        {"twilio": fast(account_sid=sid, auth_token=TOKEN, from_number="+15005550006",
                        to=["+15551230001", "+15551230002"], api_base=http_server.url)},
        human_event, tmp_path,
    )
    reqs = http_server.requests
    assert len(reqs) == 3
    for req in reqs:
        assert req.method == "POST"
        assert req.path == f"/2010-04-01/Accounts/{sid}/Messages.json"
        assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert req.headers["Authorization"] == basic(sid, TOKEN)
    forms = [r.form() for r in reqs]
    assert sorted(f["To"] for f in forms[-2:]) == ["+15551230001", "+15551230002"]
    assert {f["From"] for f in forms} == {"+15005550006"}
    assert forms[0]["Body"].startswith("the call: a person answered. Pick up now")
    assert sorted((r["target"], r["status"]) for r in rows) == [
        ("+15551230001", "sent"), ("+15551230002", "sent"),
    ]
    assert sorted(r["attempts"] for r in rows) == [1, 2]


def test_twilio_bad_credentials_not_retried(http_server: Any, human_event: Event,
                                            tmp_path: Path, caplog: pytest.LogCaptureFixture
                                            ) -> None:
    http_server.default = 401
    caplog.set_level(logging.DEBUG)
    rows = deliver(
        {"twilio": fast(account_sid="AC1", auth_token=TOKEN, from_number="+1500",
                        to=["+1555"], api_base=http_server.url)},
        human_event, tmp_path,
    )
    assert len(http_server.requests) == 1
    assert rows[0]["status"] == "failed" and "HTTP 401" in rows[0]["error"]
    assert TOKEN not in caplog.text  # secrets never reach the log
    assert "twilio gave up" in caplog.text


def test_sms_gateway_json_and_bearer(http_server: Any, human_event: Event, tmp_path: Path) -> None:
    rows = deliver(
        {"sms": fast(url=http_server.url + "/message", to=["+15551230001"], sender="HoldSlayer",
                     token="gw-token", message_field="text", to_field="phone")},
        human_event, tmp_path,
    )
    (req,) = http_server.requests
    assert req.path == "/message" and req.headers["Authorization"] == "Bearer gw-token"
    body = req.json()
    assert body["phone"] == "+15551230001" and body["from"] == "HoldSlayer"
    assert body["text"].startswith("the call: a person answered.")
    assert rows[0]["status"] == "sent" and rows[0]["channel"] == "sms"


def test_ntfy_publish(http_server: Any, tmp_path: Path) -> None:
    event = Event(type=EventType.HUMAN_DETECTED,
                  call_id="c5", data={"confidence": 0.8})
    rows = deliver({"ntfy": fast(server=http_server.url, topic="holdslayer-me",
                                 token="tk_ntfy", min_priority="critical")}, event, tmp_path)
    (req,) = http_server.requests
    assert req.path == "/" and req.headers["Authorization"] == "Bearer tk_ntfy"
    body = req.json()
    assert body["topic"] == "holdslayer-me" and body["priority"] == 5
    assert body["title"] == "the call: a person answered"
    assert "rotating_light" in body["tags"]
    assert rows[0]["status"] == "sent"


def test_unreachable_server_is_recorded(human_event: Event, tmp_path: Path) -> None:
    rows = deliver({"ntfy": fast(server="http://127.0.0.1:9", topic="t", retries=1)},
                   human_event, tmp_path)
    assert (rows[0]["status"], rows[0]["attempts"]) == ("failed", 2)
    assert "ConnectError" in rows[0]["error"]


def test_secrets_are_masked() -> None:
    cfg = NotifySettings.model_validate({
        "webhook": {"secret": SECRET}, "twilio": {"auth_token": TOKEN},
        "email": {"password": "mail-pw"}, "ntfy": {"token": "tk"}, "sms": {"token": "gw"},
    })
    shown = repr(cfg) + str(cfg.model_dump()) + json.dumps(cfg.model_dump(mode="json"))
    for secret in (SECRET, TOKEN, "mail-pw"):
        assert secret not in shown
    assert build_channels(cfg)[0].name == "desktop"
