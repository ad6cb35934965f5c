"""TLS signalling and SRTP media against a second PJSUA2 process on loopback that, like many
providers, listens on TLS only and insists on SRTP; plus the settings that ask for them.

The certificates are throwaway self-signed ones made with the ``openssl`` CLI."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from engine.config import ConfigError, SipSettings, load_settings
from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine
from engine.sip.targets import needs_tls, parse_target

from .conftest import HERE, Proc, wait_event
from .test_engine_calls import collect, dominant_hz

pytestmark = pytest.mark.sip


def make_cert(directory: Path, name: str, cn: str) -> tuple[Path, Path]:
    """A self-signed PEM certificate and key valid for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed; it makes the test certificates")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={cn}",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path]:
    return make_cert(tmp_path, "peer", "127.0.0.1")


@pytest.fixture
def secure_peer(certs: tuple[Path, Path]) -> Iterator[Proc]:
    """The answer peer on TLS only, refusing calls without SRTP."""
    cert, key = certs
    peer = Proc([sys.executable, str(HERE / "answer_peer.py"), "440",
                 "--tls", str(cert), str(key), "--srtp", "mandatory"], timeout=30)
    yield peer
    peer.kill()


@pytest.fixture
def start_engine() -> Iterator[Callable[..., tuple[SipEngine, EventBus]]]:
    engines: list[SipEngine] = []

    def start(**settings: object) -> tuple[SipEngine, EventBus]:
        bus = EventBus()
        eng = SipEngine(bus, SipSettings(rtp_timeout=5.0, **settings)).start()
        engines.append(eng)
        return eng, bus

    yield start
    for eng in engines:
        eng.stop()


@pytest.mark.parametrize("form", ["sips", "transport=tls"])
def test_tls_and_srtp_call_carries_audio_both_ways(
        form: str, secure_peer: Proc, certs: tuple[Path, Path], start_engine) -> None:
    # the sips: form also checks the peer's certificate against it as our CA
    verify = {"tls_ca_file": str(certs[0]), "tls_verify_server": True} if form == "sips" \
        else {}
    engine, bus = start_engine(transport="tls", srtp="mandatory", **verify)
    uri = (f"sips:company@127.0.0.1:{secure_peer.port}" if form == "sips"
           else f"sip:company@127.0.0.1:{secure_peer.port};transport=tls")
    events = bus.subscribe_queue()
    call = engine.dial(uri)
    sub = engine.tap(call, "remote").subscribe()
    wait_event(events, EventType.CALL_ANSWERED, call)
    frames = collect(sub, 1.5)
    assert len(frames) >= 50
    assert abs(dominant_hz(frames[-25:]) - 440) < 15  # we hear the far end's tone

    t = np.arange(16000 * 2) / 16000
    engine.play_pcm(call, (6000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))
    assert secure_peer.wait_for(lambda d: d.get("event") == "heard" and d["rms"] > 2000
                                and abs(d["peak_hz"] - 1000) < 30, timeout=5)
    # both ends negotiated the SRTP profile
    assert [c.media_proto for c in engine.calls()] == ["RTP/SAVP"]
    media = secure_peer.wait_for(lambda d: d.get("event") == "media", timeout=5)
    assert media and media["proto"] == "RTP/SAVP"

    engine.hangup(call).result(5)
    ended = wait_event(events, EventType.CALL_ENDED, call)
    assert ended.data["answered"]


def test_srtp_off_against_a_peer_that_requires_it_fails_clearly(
        secure_peer: Proc, start_engine) -> None:
    engine, bus = start_engine()  # UDP, no SRTP: the TLS transport is made for this URI
    events = bus.subscribe_queue()
    started = time.monotonic()
    call = engine.dial(f"sip:company@127.0.0.1:{secure_peer.port};transport=tls")
    failed = wait_event(events, EventType.CALL_FAILED, call, timeout=15)
    assert time.monotonic() - started < 15
    assert failed.data["sip_code"] == 488
    assert "SRTP" in failed.data["reason"] and "srtp" in failed.data["reason"]
    wait_event(events, EventType.CALL_ENDED, call)
    assert not secure_peer.wait_for(lambda d: d.get("event") == "answered", timeout=0.5)


def test_an_untrusted_certificate_fails_clearly(
        secure_peer: Proc, tmp_path: Path, start_engine) -> None:
    other_ca, _ = make_cert(tmp_path, "other", "someone else")
    engine, bus = start_engine(transport="tls", srtp="mandatory",
                               tls_ca_file=str(other_ca), tls_verify_server=True)
    events = bus.subscribe_queue()
    call = engine.dial(f"sips:company@127.0.0.1:{secure_peer.port}")
    failed = wait_event(events, EventType.CALL_FAILED, call, timeout=15)
    assert "TLS certificate" in failed.data["reason"]
    assert "tls_ca_file" in failed.data["reason"]


def test_a_listener_that_never_completes_tls_does_not_hang_the_call(start_engine) -> None:
    with socket.socket() as mute:  # accepts TCP (the kernel does), never answers TLS
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)
        engine, bus = start_engine(transport="tls")
        events = bus.subscribe_queue()
        started = time.monotonic()
        call = engine.dial(f"sip:x@127.0.0.1:{mute.getsockname()[1]};transport=tls")
        failed = wait_event(events, EventType.CALL_FAILED, call, timeout=25)
    assert time.monotonic() - started < 25  # the handshake timeout is 10 s
    assert "TLS" in failed.data["reason"]


# ---------------------------------------------------------------- settings and targets
def test_tls_settings_defaults_and_validation(tmp_path: Path) -> None:
    default = SipSettings()
    assert (default.transport, default.srtp, default.tls_ca_file,
            default.tls_verify_server) == ("udp", "off", "", False)
    assert SipSettings(transport="tls", srtp="optional").transport == "tls"
    with pytest.raises(ValidationError, match="srtp"):
        SipSettings(srtp="always")
    with pytest.raises(ValidationError, match="tls_verify_server = true needs tls_ca_file"):
        SipSettings(tls_verify_server=True)
    with pytest.raises(ValidationError, match="tls_ca_file .* does not exist"):
        SipSettings(tls_ca_file=str(tmp_path / "missing.pem"), tls_verify_server=True)
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert SipSettings(tls_ca_file=str(ca), tls_verify_server=True).tls_verify_server

    cfg = tmp_path / "config.toml"
    cfg.write_text('[sip]\ntransport = "tls"\ntls_verify_server = true\n')
    with pytest.raises(ConfigError, match="tls_ca_file"):
        load_settings(cfg)


def test_tls_uris_are_dialable_targets() -> None:
    for uri in ("sips:support@pbx.example.com", "sips:alice@127.0.0.1:5061",
                "sip:alice@127.0.0.1:5061;transport=tls"):
        t = parse_target(uri)
        assert (t.kind, t.value) == ("sip", uri)
        assert needs_tls(t.value)
    assert needs_tls("<SIP:a@b;lr;Transport=TLS>")
    assert not needs_tls("sip:alice@127.0.0.1:5060")
    assert not needs_tls("sip:alice@127.0.0.1;transport=tcp")
