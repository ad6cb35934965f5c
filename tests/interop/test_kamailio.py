"""Registration and an authenticated call through a real Kamailio registrar/proxy."""

from __future__ import annotations

import time

import pytest

from engine.events import EventType
from engine.sip.engine import RegistrationError

from .conftest import PASSWORD, PEER_USER, USER, sipp_register

pytestmark = pytest.mark.sip


def test_register_with_the_right_password(make_engine, kamailio) -> None:
    kam = kamailio(fallback_port=9)
    eut = make_engine(registrar=kam.registrar, username=USER, password=PASSWORD)
    state = eut.engine.wait_registered(timeout=10)
    assert state["registered"] is True and state["code"] == 200
    ev = eut.wait_event(EventType.REGISTRATION_STATE, timeout=2,
                        where=lambda e: e.data["registered"])
    assert ev.data["code"] == 200 and USER in ev.data["message"]
    assert eut.engine.registration()["registered"] is True
    assert PASSWORD not in str(eut.seen)
    assert kam.log_lines("HS-REGISTER") == [f"{USER} 300 udp"]  # Expires as configured
    eut.engine.stop()
    unregistered = [f"{USER} 300 udp", f"{USER} 0 udp"]
    assert kam.log_lines("HS-REGISTER", at_least=2) == unregistered


def test_wrong_password_is_a_clear_registration_error(make_engine, kamailio) -> None:
    kam = kamailio(fallback_port=9)
    eut = make_engine(registrar=kam.registrar, username=USER, password="not-the-password")
    t0 = time.monotonic()
    with pytest.raises(RegistrationError) as err:
        eut.engine.wait_registered(timeout=10)
    assert time.monotonic() - t0 < 5
    message = str(err.value)
    assert "wrong username or password" in message and "401" in message
    assert "not-the-password" not in message
    assert eut.engine.registration()["registered"] is False
    ev = eut.wait_event(EventType.REGISTRATION_STATE, timeout=2, where=lambda e: e.data["code"])
    assert ev.data["code"] == 401 and ev.data["registered"] is False
    assert not kam.log_lines("HS-REGISTER")


def test_unauthenticated_invite_is_challenged(make_engine, kamailio) -> None:
    """No credentials (direct account): the proxy answers 407 and the call fails clearly."""
    kam = kamailio(fallback_port=9)
    eut = make_engine()
    call_id = eut.engine.dial(f"sip:18005550100@127.0.0.1:{kam.port}")
    failed = eut.wait_event(EventType.CALL_FAILED, call_id, timeout=10)
    assert failed.data["sip_code"] == 407
    assert "authentication" in failed.data["reason"]
    assert kam.log_lines("HS-CHALLENGE") and not kam.log_lines("HS-INVITE")


def test_authenticated_call_through_registrar_reaches_simulator(
    make_engine, kamailio, simulator
) -> None:
    kam = kamailio(fallback_port=simulator.port)
    eut = make_engine(registrar=kam.registrar, username=USER, password=PASSWORD)
    eut.engine.wait_registered(timeout=10)
    uri, via_trunk = eut.engine.resolve("1-800-555-0100")
    assert via_trunk and uri == f"sip:+18005550100@127.0.0.1:{kam.port}"

    call_id = eut.engine.dial(uri, via_trunk=via_trunk)
    eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=15)
    simulator.wait_for(lambda ev: any(e["event"] == "node" for e in ev))
    sent = eut.engine.send_dtmf(call_id, "1").result(timeout=10)
    assert sent == [("1", "rfc2833")]
    log = simulator.wait_for(lambda ev: any(e["event"] == "digit" for e in ev))
    time.sleep(0.7)  # a duplicate (e.g. the same key in-band too) would be logged by now
    eut.engine.hangup(call_id).result(timeout=5)
    eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    log = simulator.wait_for(lambda ev: any(e["event"] == "hangup" for e in ev))

    start = [e for e in log if e["event"] == "call_start"]
    assert len(start) == 1
    assert f"sip:{USER}@" in start[0]["from"] and "+18005550100" in start[0]["to"]
    digits = [e for e in log if e["event"] == "digit"]
    assert [(d["digit"], d["method"]) for d in digits] == [("1", "rfc2833")]
    assert [e["by"] for e in log if e["event"] == "hangup"] == ["caller"]
    # The proxy challenged the INVITE and let it through only with alice's credentials.
    assert kam.log_lines("HS-CHALLENGE")
    assert kam.log_lines("HS-INVITE") == [f"{USER} fallback sip:+18005550100@127.0.0.1:"
                                          f"{simulator.port} udp"]


def test_call_to_a_registered_user_goes_to_its_contact(
    make_engine, kamailio, sipp_uas, tmp_path
) -> None:
    """SIPp registers bob with a Contact where a second SIPp answers; alice calls bob."""
    kam = kamailio(fallback_port=9)
    bob = sipp_uas()
    reg = sipp_register(tmp_path, kam.port, PEER_USER, PASSWORD, bob.port)
    assert reg.returncode == 0, reg.stdout[-2000:] + reg.stderr[-2000:]

    eut = make_engine(registrar=kam.registrar, username=USER, password=PASSWORD)
    eut.engine.wait_registered(timeout=10)
    uri, via_trunk = eut.engine.resolve(f"sip:{PEER_USER}@127.0.0.1:{kam.port}")
    assert via_trunk
    call_id = eut.engine.dial(uri, via_trunk=via_trunk)
    eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=10)
    eut.engine.hangup(call_id).result(timeout=5)
    ended = eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    assert ended.data["answered"] is True
    assert bob.proc.wait(15) == 0  # bob's SIPp saw the whole call, BYE included
    assert kam.log_lines("HS-INVITE") == [
        f"{USER} registered sip:{PEER_USER}@127.0.0.1:{bob.port} udp"
    ]


def test_register_and_call_over_tcp(make_engine, kamailio, simulator) -> None:
    """transport = "tcp": REGISTER and INVITE reach the proxy over TCP; it relays by UDP."""
    kam = kamailio(fallback_port=simulator.port)
    eut = make_engine(registrar=kam.registrar, username=USER, password=PASSWORD,
                      transport="tcp")
    assert eut.engine.wait_registered(timeout=10)["registered"] is True
    uri, via_trunk = eut.engine.resolve("+1 800 555 0100")
    assert uri.endswith(";transport=tcp") and via_trunk
    call_id = eut.engine.dial(uri, via_trunk=True)
    eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=15)
    eut.engine.hangup(call_id).result(timeout=5)
    eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    simulator.wait_for(lambda ev: any(e["event"] == "hangup" for e in ev))
    assert kam.log_lines("HS-REGISTER") == [f"{USER} 300 tcp"]
    assert kam.log_lines("HS-INVITE") == [
        f"{USER} fallback sip:+18005550100@127.0.0.1:{simulator.port} tcp"
    ]
