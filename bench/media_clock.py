"""How steadily a call's audio flows while the analysis runs: gaps in the media clock.

Why: pjsua2's media clock calls this process's Python ports (the audio we send, the taps that
hear both ways) every 20 ms, and each call needs the GIL. Whatever holds the GIL for longer
(a model loading, a long C call) delays that tick: the audio we send reaches the company with
a hole (an in-band key bent or heard twice) and the far end's frames come late or are lost.
Each call here is the product's own path (``Runtime.place_call`` to the demo airline, in-band
keys ``1,,1`` at its menus); the taps stamp each frame as the clock hands it over.

    .venv/bin/python bench/media_clock.py [--calls 3] [--at-once 1] [--load 3] [--cold]
                                          [--busy-thread] [--switch-ms 5]

``--load N`` runs N busy processes beside it (a busy machine, as under the test suite);
``--cold`` skips the models' warm-up before the call, as before it existed, so they load
during the call; ``--busy-thread`` keeps a pure-Python thread busy beside the calls (the
terminal UI redrawing); ``--switch-ms 5`` puts back CPython's GIL switch interval, which the
engine lowers to 1 ms. Prints per run: frames the taps got and expected, gap p99 and max,
gaps over 60 ms, and on how many calls the simulator heard both keys.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
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


def place_calls(rt: Runtime, log_dir: Path, n: int) -> int:
    """``n`` calls at once, each pressing 1, then 1 again in-band at the airline's menus;
    how many of them the simulator heard both keys on."""
    answered = rt.bus.subscribe_queue(types=[EventType.CALL_ANSWERED])
    calls = [rt.place_call("demo:airline", dtmf_method="inband", navigate=False)
             for _ in range(n)]
    waiting, deadline = set(calls), time.monotonic() + 30
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo airline did not answer")
        ev = answered.get(timeout=1)
        if ev is not None:
            waiting.discard(ev.call_id)
    time.sleep(1.0)  # a key during the greeting, as a caller who knows the menu sends it
    for f in [rt.engine.send_dtmf(c, "1,,1") for c in calls]:
        f.result(30)
    time.sleep(1.5)
    for c in calls:
        rt.hangup(c)
    for c in calls:
        rt.wait_analysis(c)
    answered.close()
    log = [json.loads(x) for x in (log_dir / "simulator_airline.jsonl").read_text().splitlines()]
    heard = {e["call"]: [] for e in log if e["event"] == "call_start"}
    for e in log:
        if e["event"] == "digit":
            heard[e["call"]].append(e["digit"])
    return sum(keys == ["1", "1"] for keys in heard.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--load", type=int, default=0, help="busy processes beside the calls")
    ap.add_argument("--cold", action="store_true",
                    help="no warm-up: the models load during the first call")
    ap.add_argument("--at-once", type=int, default=1, help="calls at once in each run")
    ap.add_argument("--busy-thread", action="store_true",
                    help="a thread busy in pure Python beside the calls (a UI redrawing)")
    ap.add_argument("--switch-ms", type=float, default=None,
                    help="Python's GIL switch interval to use (CPython's default is 5)")
    args = ap.parse_args()
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.load)]
    for p in burners:
        p.start()
    try:
        rows = []
        for n in range(args.calls):  # a process per run: every run's calls are first calls
            rows.append(run_in_child(args.cold, args.at_once, args.busy_thread,
                                     args.switch_ms))
            print(f"run {n + 1}: {rows[-1]}", flush=True)
    finally:
        for p in burners:
            p.terminate()
    worst = max(r["max_gap_ms"] for r in rows)
    calls = args.calls * args.at_once
    print(f"\n{args.calls} runs of {args.at_once} call(s) at once, load {args.load}, "
          f"{'cold' if args.cold else 'warm'}, {'a busy thread, ' if args.busy_thread else ''}"
          f"switch interval {rows[0]['switch_ms']} ms: frames {sum(r['frames'] for r in rows)} "
          f"of {sum(r['expected'] for r in rows)} expected, gaps over {GAP_S * 1000:.0f} ms "
          f"{sum(r['gaps'] for r in rows)}, worst {worst:.0f} ms; both keys heard on "
          f"{sum(r['keys_heard'] for r in rows)} of {calls} calls")
    return 0


def run_in_child(*args: object) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(measure_one, args)


def measure_one(cold: bool, at_once: int, busy_thread: bool, switch_ms: float | None) -> dict:
    times = stamp_frames()
    stop, work = threading.Event(), []
    busy = threading.Thread(target=_busy_python, args=(stop, work), daemon=True)
    with tempfile.TemporaryDirectory(prefix="media_clock_") as tmp:
        rt = Runtime(Settings(), history=False, notify=False, demo_log_dir=Path(tmp))
        if cold:
            rt.warm_ears = lambda wait_s=0.0: None  # type: ignore[method-assign]
        with rt:
            if switch_ms is not None:
                sys.setswitchinterval(switch_ms / 1000)
            if busy_thread:
                busy.start()
            heard = place_calls(rt, Path(tmp), at_once)
            stop.set()
            if busy_thread:
                busy.join()
            figures = gap_figures(times)
    return {"switch_ms": round(sys.getswitchinterval() * 1000, 1), **figures,
            "keys_heard": heard, "busy_rounds_per_s": round(work[0]) if work else None}


def gap_figures(times: dict[int, list[float]]) -> dict:
    """Frames the taps got against the 20 ms clock's count over each tap's span, the gaps'
    p99 and max (ms), and how many gaps were over ``GAP_S``."""
    spans = [t[-1] - t[0] for t in times.values() if len(t) > 1]
    gaps = np.concatenate([np.diff(t) for t in times.values() if len(t) > 1])
    return {"frames": int(sum(len(t) for t in times.values())),
            "expected": int(sum(round(s / 0.02) + 1 for s in spans)),
            "p99_gap_ms": round(float(np.percentile(gaps, 99)) * 1000, 1),
            "max_gap_ms": round(float(gaps.max()) * 1000, 1),
            "gaps": int((gaps > GAP_S).sum())}


def _busy_python(stop: threading.Event, work: list[float]) -> None:
    """Pure Python, as a terminal UI lays out and renders: holds the GIL between switches.
    ``work``: rounds done per second, once stopped."""
    t0, rounds = time.monotonic(), 0
    while not stop.is_set():
        sum(i * i for i in range(2000))
        rounds += 1
    work.append(rounds / (time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(main())
