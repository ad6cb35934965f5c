"""Real peers on loopback for interop tests: SIPp, a Kamailio registrar and the simulator.

Every peer is a subprocess on a free port with a bounded start-up; teardown always kills it.
The engine under test runs in this process (one pjsua2 Endpoint at a time).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import SipSettings
from engine.events import Event, EventBus, EventType, Subscription
from engine.sip.engine import SipEngine

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pa55"
USER = "alice"
PEER_USER = "bob"  # registered by SIPp in the routing test


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free UDP+TCP port")


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (apt-get install {package})")
    return path


def stop_process(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process's own group (Kamailio forks workers), SIGKILL it after ``grace``."""
    def signal_group(sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    if proc.poll() is None:
        signal_group(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    signal_group(signal.SIGKILL)  # strays left in the group, if any
    if proc.poll() is None:
        proc.wait(5)


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """Popen in a new session (its own process group), always killed at teardown."""
    procs: list[subprocess.Popen] = []

    def start(cmd: list[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(cmd, start_new_session=True, **kw)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop_process(proc)


def sip_probe(port: int, timeout: float) -> bool:
    """Send OPTIONS until anything answers on 127.0.0.1:port (the peer is listening)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        me = s.getsockname()[1]
        while time.monotonic() < deadline:
            branch = uuid.uuid4().hex
            msg = (
                f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{branch}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@127.0.0.1:{me}>;tag={branch[:8]}\r\n"
                f"To: <sip:probe@127.0.0.1:{port}>\r\n"
                f"Call-ID: {branch}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            s.sendto(msg.encode(), ("127.0.0.1", port))
            try:
                if s.recv(4096).startswith(b"SIP/2.0"):
                    return True
            except (TimeoutError, ConnectionRefusedError):
                time.sleep(0.1)
    return False


# ---------------------------------------------------------------- the engine under test
@dataclass
class EngineUnderTest:
    engine: SipEngine
    bus: EventBus
    events: Subscription
    seen: list[Event]

    def wait_event(self, kind: EventType, call_id: str | None = None, timeout: float = 10.0,
                   where: Callable[[Event], bool] = lambda e: True) -> Event:
        """The first event of ``kind`` matching ``where``, seen or arriving within ``timeout``."""
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.seen):
                ev = self.seen[i]
                i += 1
                if ev.type == kind and call_id in (None, ev.call_id) and where(ev):
                    return ev
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                got = [(e.type.value, e.data) for e in self.seen]
                raise AssertionError(f"no {kind.value} within {timeout}s; events: {got}")
            ev = self.events.get(min(remaining, 0.2))
            if ev is not None:
                self.seen.append(ev)

    def types(self, call_id: str) -> list[str]:
        while (ev := self.events.get(0)) is not None:
            self.seen.append(ev)
        return [e.type.value for e in self.seen if e.call_id == call_id]


@pytest.fixture
def make_engine() -> Iterator[Callable[..., EngineUnderTest]]:
    """``make_engine(**SipSettings fields)``: a started SipEngine, stopped at teardown."""
    started: list[SipEngine] = []

    def make(**settings) -> EngineUnderTest:
        bus = EventBus()
        sub = bus.subscribe_queue()
        engine = SipEngine(bus, SipSettings(**settings)).start()
        started.append(engine)
        return EngineUnderTest(engine, bus, sub, [])

    yield make
    for engine in started:
        engine.stop()


# ---------------------------------------------------------------- SIPp
UAS_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="UAS answering 486 Busy Here">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 100 Trying
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
"""


UAC_REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="REGISTER with digest auth, Contact pointing elsewhere">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@127.0.0.1:@CONTACT_PORT@>
Expires: 120
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[service]@127.0.0.1:@CONTACT_PORT@>
[authentication]
Expires: 120
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


def sipp_register(tmp_path: Path, registrar_port: int, user: str, password: str,
                  contact_port: int) -> subprocess.CompletedProcess[str]:
    """SIPp registers ``user`` (digest auth) with a Contact on ``contact_port``."""
    sipp = need("sipp", "sip-tester")
    scenario = tmp_path / "uac_register.xml"
    scenario.write_text(UAC_REGISTER.replace("@CONTACT_PORT@", str(contact_port)))
    return subprocess.run(
        [sipp, f"127.0.0.1:{registrar_port}", "-sf", str(scenario), "-s", user, "-au", user,
         "-ap", password, "-i", "127.0.0.1", "-p", str(free_udp_port()), "-m", "1",
         "-nostdin", "-timeout", "10s", "-timeout_error"],
        cwd=tmp_path, capture_output=True, text=True, timeout=20,
    )


@dataclass
class Sipp:
    proc: subprocess.Popen
    port: int

    @property
    def uri(self) -> str:
        return f"sip:service@127.0.0.1:{self.port}"


@pytest.fixture
def sipp_uas(spawn, tmp_path: Path) -> Callable[..., Sipp]:
    """``sipp_uas()`` answers one call (built-in ``uas``); ``sipp_uas(busy=True)`` sends 486;
    ``sipp_uas(scenario=XML)`` runs that scenario for one call."""

    def start(busy: bool = False, port: int | None = None, scenario: str = "") -> Sipp:
        sipp = need("sipp", "sip-tester")
        port = port or free_udp_port()
        if busy:
            scenario = UAS_BUSY
        if scenario:
            path = tmp_path / "uas_scenario.xml"
            path.write_text(scenario)
            which = ["-sf", str(path)]
        else:
            which = ["-sn", "uas"]
        proc = spawn(
            [sipp, *which, "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port()),
             "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error"],
            cwd=tmp_path,
        )
        # SIPp listens within ~100 ms; give it a moment rather than probing (a probe would
        # count as its one call).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not _udp_bound(port):
            time.sleep(0.05)
        assert proc.poll() is None, f"sipp exited early ({proc.returncode})"
        return Sipp(proc, port)

    return start


def _udp_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# ---------------------------------------------------------------- the company simulator
@dataclass
class Simulator:
    proc: subprocess.Popen
    ready: dict
    log_path: Path

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def events(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def wait_for(self, pred: Callable[[list[dict]], bool], timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = self.events()
            if pred(ev):
                return ev
            time.sleep(0.05)
        raise AssertionError(f"simulator log never matched; it holds:\n{self.log_path.read_text()}")


def start_simulator(spawn: Callable[..., subprocess.Popen], log_path: Path, company: str,
                    *extra: str, timeout: float = 60.0) -> Simulator:
    """``holdslayer simulate`` on a free port; returns once it printed its ready line."""
    err_path = log_path.with_suffix(".stderr")
    with err_path.open("w") as err:
        proc = spawn(
            [sys.executable, "-m", "engine.cli", "simulate", "--company", company, "--port",
             "0", "--log", str(log_path), "--no-tcp", *extra],
            cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = proc.stdout.readline() if sel.select(timeout) else ""
    if not line:
        raise AssertionError(f"simulator not ready within {timeout}s (exit {proc.poll()}):\n"
                             f"{err_path.read_text()}")
    return Simulator(proc, json.loads(line), log_path)


@pytest.fixture
def simulator(spawn, tmp_path: Path) -> Simulator:
    """Acme Bank answering on a free loopback port, logging to ``tmp_path/sim.jsonl``."""
    return start_simulator(spawn, tmp_path / "sim.jsonl", "acme_bank")


# ---------------------------------------------------------------- Kamailio
KAMAILIO_CFG = """#!KAMAILIO
# Registrar + authenticating proxy for tests. REGISTER and INVITE need digest auth
# (users @USERS@, password @PASSWORD@); an INVITE to a registered user goes to its contact,
# to anyone else to the company simulator at @FALLBACK@.
debug=2
log_stderror=yes
children=1
tcp_children=1
disable_sctp=yes
auto_aliases=no
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
alias="127.0.0.1:@PORT@"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "maxfwd.so"
loadmodule "rr.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"

request_route {
    if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
    if (has_totag()) {
        if (loose_route()) { t_relay(); exit; }
        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
        sl_send_reply("404", "Not here"); exit;
    }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("REGISTER")) {
        if (!($tU =~ "^(@USERS@)$") || !pv_www_authenticate("$td", "@PASSWORD@", "0")) {
            www_challenge("$td", "0"); exit;
        }
        if ($au != $tU) { sl_send_reply("403", "Forbidden auth ID"); exit; }
        xlog("L_NOTICE", "HS-REGISTER $au $hdr(Expires) $pr\\n");
        save("location");
        exit;
    }
    if (is_method("INVITE")) {
        if (!($fU =~ "^(@USERS@)$") || !pv_proxy_authenticate("$fd", "@PASSWORD@", "0")) {
            xlog("L_NOTICE", "HS-CHALLENGE INVITE from $fu\\n");
            proxy_challenge("$fd", "0"); exit;
        }
        consume_credentials();
        record_route();
        if (lookup("location")) {
                xlog("L_NOTICE", "HS-INVITE $au registered $ru $pr\\n");
            t_relay(); exit;
        }
        $ru = "sip:" + $rU + "@@FALLBACK@";  # the simulator listens on UDP only
        xlog("L_NOTICE", "HS-INVITE $au fallback $ru $pr\\n");
        t_relay();
        exit;
    }
    if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
    sl_send_reply("405", "Method Not Allowed");
}
"""


@dataclass
class Kamailio:
    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def registrar(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    def log_lines(self, tag: str, at_least: int = 0, timeout: float = 3.0) -> list[str]:
        """What our ``xlog`` lines tagged ``tag`` said (waiting for ``at_least`` of them)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line.split(tag, 1)[1].strip()
                     for line in self.log_path.read_text().splitlines() if tag in line]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@pytest.fixture
def kamailio(spawn, tmp_path: Path) -> Callable[..., Kamailio]:
    """``kamailio(fallback_port)``: a registrar/proxy on a free port (UDP and TCP), in the
    foreground (-DD -E)."""

    def start(fallback_port: int) -> Kamailio:
        binary = need("kamailio", "kamailio")
        port = free_port_pair()
        cfg = tmp_path / "kamailio.cfg"
        text = KAMAILIO_CFG
        for key, value in {"@PORT@": str(port), "@USERS@": f"{USER}|{PEER_USER}",
                           "@PASSWORD@": PASSWORD,
                           "@FALLBACK@": f"127.0.0.1:{fallback_port}"}.items():
            text = text.replace(key, value)
        cfg.write_text(text)
        log_path = tmp_path / "kamailio.log"
        with log_path.open("w") as log:
            proc = spawn([binary, "-DD", "-E", "-f", str(cfg), "-m", "16", "-M", "4",
                          "-Y", str(tmp_path)], stdout=log, stderr=subprocess.STDOUT)
        if not sip_probe(port, 10):
            stop_process(proc)
            raise AssertionError(f"kamailio did not answer on {port}:\n{log_path.read_text()}")
        return Kamailio(proc, port, log_path)

    return start
