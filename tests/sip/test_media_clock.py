"""Live calls keep their audio while another thread of the process is busy in Python.

The media clock runs our Python ports every 20 ms and each needs the GIL; a thread busy in
pure Python (the terminal UI redrawing) kept it for CPython's 5 ms switch interval each time,
and with three calls the taps lost most frames (37 % got through in ``bench/media_clock.py
--at-once 3 --busy-thread --switch-ms 5``). The engine lowers the interval to 1 ms.

The garbage collector's full sweeps hold the GIL too, 140-390 ms in the terminal app: while a
call is live the engine keeps the process's old objects out of them (``engine.sip.gc_pause``)
and sweeps everything once no call is live."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from engine.events import EventBus, EventType
from engine.sip import gc_pause
from engine.sip.engine import SipEngine

pytestmark = pytest.mark.sip

LISTEN_S = 5.0


def _busy_python(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(2000))


def _answered_calls(engine: SipEngine, bus: EventBus, uri: str, n: int) -> list[str]:
    """``n`` calls to ``uri``, once the far end has answered every one (20 s at most)."""
    answered = bus.subscribe_queue(types=[EventType.CALL_ANSWERED])
    calls = [engine.dial(uri) for _ in range(n)]
    waiting, deadline = set(calls), time.monotonic() + 20
    while waiting and time.monotonic() < deadline:
        ev = answered.get(timeout=1)
        if ev is not None:
            waiting.discard(ev.call_id)
    answered.close()
    assert not waiting, "the simulator did not answer every call"
    return calls


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_old_objects_sit_out_collections_during_a_call_and_are_swept_after(
        engine: SipEngine, bus: EventBus, simulator) -> None:
    old = _Node()
    gone = weakref.ref(old)
    [call] = _answered_calls(engine, bus, simulator("acme_bank").uri, 1)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the modules, the engine, this test's objects
    del old
    young = [_Node() for _ in range(1000)]
    gc.collect()
    assert gone() is not None  # frozen: the full collection did not walk it
    assert gc.get_freeze_count() >= frozen + 1000  # the survivors sit out the next one
    del young
    gc_pause.sweep_if_due(time.monotonic() + gc_pause.SWEEP_EVERY_S)  # a long hold
    assert gone() is None  # freed by the periodic sweep, with the call still live
    assert gc.get_freeze_count() > 10_000  # and the heap frozen again
    later = _Node()
    gone = weakref.ref(later)
    gc.collect()
    del later
    engine.hangup(call).result(5)
    deadline = time.monotonic() + 10
    while gc.get_freeze_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gc.get_freeze_count() == 0, "no sweep after the last call ended"
    assert gone() is None  # swept once no call was live


def test_three_calls_hear_every_frame_beside_a_busy_python_thread(
        engine: SipEngine, bus: EventBus, simulator) -> None:
    calls = _answered_calls(engine, bus, simulator("acme_bank").uri, 3)
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
