"""A far end for engine tests: a second, independent PJSUA2 process that auto-answers,
plays a steady tone into each call and prints, once a second, how loud what it hears is.

Run: ``python answer_peer.py PORT_FILE [TONE_HZ]``. It writes a JSON ready line to stdout.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from engine.config import SipSettings
from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine, SipError
from engine.wavio import GrowingWavWriter


def main() -> int:
    tone_hz = float(sys.argv[1]) if len(sys.argv) > 1 else 440.0
    record_dir = sys.argv[2] if len(sys.argv) > 2 else None
    writers: dict[str, GrowingWavWriter] = {}
    bus = EventBus()
    events = bus.subscribe_queue()
    engine = SipEngine(bus, SipSettings(), auto_answer=True).start()
    print(json.dumps({"event": "ready", "port": engine.local_port}), flush=True)
    t = np.arange(16000 * 30) / 16000
    tone = (6000 * np.sin(2 * np.pi * tone_hz * t)).astype(np.int16)
    subs = {}
    try:
        while True:
            ev = events.get(timeout=0.2)
            if ev and ev.type == EventType.CALL_ANSWERED:
                engine.play_pcm(ev.call_id, tone)
                try:
                    subs[ev.call_id] = engine.tap(ev.call_id, "remote").subscribe()
                except SipError:  # the caller already hung up
                    continue
                if record_dir:
                    writers[ev.call_id] = GrowingWavWriter(f"{record_dir}/{ev.call_id}.wav")
                print(json.dumps({"event": "answered", "call": ev.call_id}), flush=True)
            if ev and ev.type == EventType.CALL_ENDED:
                print(json.dumps({"event": "ended", "call": ev.call_id, **ev.data}), flush=True)
            for call_id, sub in list(subs.items()):
                frames = []
                while (f := sub.get(0)) is not None:
                    frames.append(f.pcm)
                if frames:
                    if call_id in writers:
                        writers[call_id].write(np.concatenate(frames))
                        writers[call_id].flush()
                    pcm = np.concatenate(frames).astype(np.float64)
                    spec = np.abs(np.fft.rfft(pcm))
                    peak_hz = float(np.argmax(spec[1:]) + 1) * 16000 / pcm.size
                    print(json.dumps({"event": "heard", "call": call_id, "t": time.time(),
                                      "rms": float(np.sqrt(np.mean(pcm ** 2))),
                                      "peak_hz": round(peak_hz)}), flush=True)
                if sub.closed:
                    subs.pop(call_id)
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
