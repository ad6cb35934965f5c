"""How steadily a call's audio flows while the analysis runs: gaps in the media clock.

Why: pjsua2's media clock calls this process's Python ports (the audio we send, the taps that
hear both ways) every 20 ms, and each call needs the GIL. Whatever holds the GIL for longer
(a model loading, a long C call) delays that tick: the audio we send reaches the company with
a hole (an in-band key bent or heard twice) and the far end's frames come late or are lost.
Each call here is the product's own path (``Runtime.place_call`` to the demo airline, in-band
keys ``1,,1`` at its menus); the taps stamp each frame as the clock hands it over.

    .venv/bin/python bench/media_clock.py [--calls 3] [--load 3] [--cold]

``--load N`` runs N busy processes beside it (a busy machine, as under the test suite);
``--cold`` skips the models' warm-up before the call, as before it existed, so they load
during the call. Prints per call: frames, gap p99 and max, gaps over 60 ms, and whether the
simulator heard both keys.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from engine.config import Settings
from engine.events import EventType
from engine.runtime import Runtime
from engine.sip import audio_tap

GAP_S = 0.06


def _burn() -> None:
    while True:
        pass


def stamp_frames() -> dict[int, list[float]]:
    """Every tap's frame times, by tap: the moment the media clock handed each one over."""
    times: dict[int, list[float]] = {}
    push = audio_tap.AudioTap.push

    def stamped(self: audio_tap.AudioTap, pcm_bytes: bytes) -> None:
        times.setdefault(id(self), []).append(time.monotonic())
        push(self, pcm_bytes)

    audio_tap.AudioTap.push = stamped  # type: ignore[method-assign]
    return times


def one_call(rt: Runtime, log_dir: Path) -> bool:
    """A call that presses 1, waits, presses 1 in-band; True when both keys were heard."""
    answered = rt.bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED])
    call_id = rt.place_call("demo:airline", dtmf_method="inband", navigate=False)
    deadline = time.monotonic() + 30
    while (ev := answered.get(timeout=1)) is None or ev.call_id != call_id:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo airline did not answer")
    time.sleep(1.0)  # a key during the greeting, as a caller who knows the menu sends it
    rt.engine.send_dtmf(call_id, "1,,1").result(30)
    time.sleep(1.5)
    rt.hangup(call_id)
    rt.wait_analysis(call_id)
    answered.close()
    log = [json.loads(x) for x in (log_dir / "simulator_airline.jsonl").read_text().splitlines()]
    calls = [e["call"] for e in log if e["event"] == "call_start"]
    heard = [e for e in log if e["event"] == "digit" and e.get("call") == calls[-1]]
    return [e["digit"] for e in heard] == ["1", "1"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--load", type=int, default=0, help="busy processes beside the calls")
    ap.add_argument("--cold", action="store_true",
                    help="no warm-up: the models load during the first call")
    args = ap.parse_args()
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.load)]
    for p in burners:
        p.start()
    try:
        rows = []
        for n in range(args.calls):  # a process per call: every call is a first call
            rows.append(run_in_child(args.cold))
            print(f"call {n + 1}: {rows[-1]}", flush=True)
    finally:
        for p in burners:
            p.terminate()
    worst = max(r["max_gap_ms"] for r in rows)
    print(f"\n{args.calls} calls, load {args.load}, {'cold' if args.cold else 'warm'}: "
          f"gaps over {GAP_S * 1000:.0f} ms {sum(r['gaps'] for r in rows)}, worst {worst:.0f} ms,"
          f" both keys heard on {sum(r['keys_heard'] for r in rows)} of {args.calls}")
    return 0


def run_in_child(cold: bool) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(measure_one, (cold,))


def measure_one(cold: bool) -> dict:
    times = stamp_frames()
    with tempfile.TemporaryDirectory(prefix="media_clock_") as tmp:
        settings = Settings()
        rt = Runtime(settings, history=False, notify=False, demo_log_dir=Path(tmp))
        if cold:
            rt.warm_ears = lambda wait_s=0.0: None  # type: ignore[method-assign]
        with rt:
            heard = one_call(rt, Path(tmp))
    gaps = np.concatenate([np.diff(t) for t in times.values() if len(t) > 1])
    return {"frames": int(sum(len(t) for t in times.values())),
            "p99_gap_ms": round(float(np.percentile(gaps, 99)) * 1000, 1),
            "max_gap_ms": round(float(gaps.max()) * 1000, 1),
            "gaps": int((gaps > GAP_S).sum()), "keys_heard": heard}


if __name__ == "__main__":
    sys.exit(main())
