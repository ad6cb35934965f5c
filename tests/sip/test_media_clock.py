"""Live calls keep their audio while another thread of the process is busy in Python.

The media clock runs our Python ports every 20 ms and each needs the GIL; a thread busy in
pure Python (the terminal UI redrawing) kept it for CPython's 5 ms switch interval each time,
and with three calls the taps lost most frames (37 % got through in ``bench/media_clock.py
--at-once 3 --busy-thread --switch-ms 5``). The engine lowers the interval to 1 ms."""

from __future__ import annotations

import threading
import time

import pytest

from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine

pytestmark = pytest.mark.sip

LISTEN_S = 5.0


def _busy_python(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(2000))


def test_three_calls_hear_every_frame_beside_a_busy_python_thread(
        engine: SipEngine, bus: EventBus, simulator) -> None:
    sim = simulator("acme_bank")
    answered = bus.subscribe_queue(types=[EventType.CALL_ANSWERED])
    calls = [engine.dial(sim.uri) for _ in range(3)]
    waiting, deadline = set(calls), time.monotonic() + 20
    while waiting and time.monotonic() < deadline:
        ev = answered.get(timeout=1)
        if ev is not None:
            waiting.discard(ev.call_id)
    assert not waiting, "the simulator did not answer every call"
    taps = [engine.tap(c, "remote").subscribe(maxframes=1000) for c in calls]
    stop = threading.Event()
    busy = threading.Thread(target=_busy_python, args=(stop,), daemon=True)
    busy.start()
    try:
        time.sleep(LISTEN_S)
    finally:
        stop.set()
        busy.join()
    got = [len(tap.get_all(timeout=0.1)) for tap in taps]
    for c in calls:
        engine.hangup(c).result(5)
    expected = LISTEN_S / 0.02
    assert min(got) >= 0.8 * expected, f"frames per call {got} of {expected:.0f}"
