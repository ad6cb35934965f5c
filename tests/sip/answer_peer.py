"""A far end for engine tests: a second, independent PJSUA2 process that auto-answers,
plays a steady tone into each call and prints, once a second, how loud what it hears is.

Run: ``python answer_peer.py [TONE_HZ] [RECORD_DIR] [--tls CERT KEY] [--srtp MODE]``. It
writes a JSON ready line to stdout. ``--tls`` makes it listen on TLS only (with that PEM
certificate and key) and ``--srtp`` sets the SRTP policy, as a secure trunk would; once a
call's media is up it prints the negotiated profile ("RTP/SAVP" means SRTP).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from engine.config import SipSettings
from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine, SipError
from engine.wavio import GrowingWavWriter


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tone_hz", nargs="?", type=float, default=440.0)
    ap.add_argument("record_dir", nargs="?")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--srtp", choices=["off", "optional", "mandatory"], default="off")
    args = ap.parse_args()
    tone_hz, record_dir = args.tone_hz, args.record_dir
    cert, key = args.tls or ("", "")
    writers: dict[str, GrowingWavWriter] = {}
    bus = EventBus()
    events = bus.subscribe_queue()
    settings = SipSettings(transport="tls" if args.tls else "udp", srtp=args.srtp)
    engine = SipEngine(bus, settings, auto_answer=True, tls_cert_file=cert,
                       tls_key_file=key).start()
    print(json.dumps({"event": "ready", "port": engine.local_port,
                      "transport": settings.transport}), flush=True)
    t = np.arange(16000 * 30) / 16000
    tone = (6000 * np.sin(2 * np.pi * tone_hz * t)).astype(np.int16)
    subs = {}
    media_told: set[str] = set()
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
            for snap in engine.calls():
                if snap.media_proto and snap.call_id not in media_told:
                    media_told.add(snap.call_id)
                    print(json.dumps({"event": "media", "call": snap.call_id,
                                      "proto": snap.media_proto}), flush=True)
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
