"""The event bus: ordered delivery to threads and asyncio, and no subscriber can hurt others."""

import asyncio
import threading
import time

from engine.events import Event, EventBus, EventType


def test_callback_subscribers_get_events_in_order_and_filtered() -> None:
    bus = EventBus()
    got: list[Event] = []
    done = threading.Event()

    def on(ev: Event) -> None:
        got.append(ev)
        if len(got) == 3:
            done.set()

    sub = bus.subscribe(on, types=[EventType.CALL_RINGING, EventType.CALL_ENDED], call_id="a")
    bus.emit(EventType.CALL_RINGING, "a", sip_code=180)
    bus.emit(EventType.CALL_RINGING, "b", sip_code=180)  # other call: filtered
    bus.emit(EventType.AUDIO_LEVEL, "a", rms_dbfs=-20)  # other type: filtered
    bus.emit(EventType.REGISTRATION_STATE, "", registered=True)  # engine-wide, other type
    bus.emit(EventType.CALL_RINGING, "a", sip_code=181)
    bus.emit(EventType.CALL_ENDED, "a", reason="x")
    assert done.wait(2)
    assert [e.data.get("sip_code") for e in got[:2]] == [180, 181]
    assert got[2].type == EventType.CALL_ENDED
    assert got[0].seq < got[1].seq < got[2].seq
    sub.close()


def test_a_raising_or_slow_subscriber_does_not_hurt_the_publisher_or_others() -> None:
    bus = EventBus()
    good: list[int] = []
    release = threading.Event()

    def broken(ev: Event) -> None:
        raise RuntimeError("boom")

    def slow(ev: Event) -> None:
        release.wait(5)

    subs = [bus.subscribe(broken), bus.subscribe(slow, maxsize=10),
            bus.subscribe(lambda ev: good.append(ev.data["n"]))]
    try:
        t0 = time.perf_counter()
        for n in range(1000):
            bus.emit(EventType.AUDIO_LEVEL, "c", n=n)
        publish_time = time.perf_counter() - t0
        deadline = time.monotonic() + 5
        while len(good) < 1000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert good == list(range(1000))
        assert publish_time < 1.0  # the stuck subscriber never blocked publishing
        assert subs[1].dropped >= 980  # it lost its own oldest events, nobody else's
    finally:
        release.set()
        for sub in subs:  # their threads would live on through the rest of the suite
            sub.close()


def test_asyncio_subscribers_receive_events_published_from_threads() -> None:
    bus = EventBus()

    async def main() -> list[str]:
        sub = bus.subscribe_async(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED])
        threading.Thread(target=lambda: (bus.emit(EventType.CALL_ANSWERED, "x"),
                                         bus.emit(EventType.CALL_ENDED, "x"))).start()
        names = []
        async for ev in sub:
            names.append(ev.type.value)
            if ev.type == EventType.CALL_ENDED:
                sub.close()
        return names

    assert asyncio.run(asyncio.wait_for(main(), 5)) == ["CALL_ANSWERED", "CALL_ENDED"]


def test_events_round_trip_as_json() -> None:
    ev = EventBus().emit(EventType.IVR_DTMF_SENT, "c1", digits="3", method="info")
    import json

    back = Event.from_dict(json.loads(ev.to_json()))
    assert back == ev
