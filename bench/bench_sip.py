"""Real calls on loopback to the company simulator: DTMF latency and the engine's CPU cost.

* DTMF send→receive latency per method (rfc2833, info, inband): our IVR_DTMF_SENT event's
  timestamp against the simulator log's ``digit`` ``t`` (both ``time.time()`` on one host).
* CPU seconds (user+sys of this process: engine thread, media clock, tap reader) per minute
  of a call that plays hold music, with an audio-tap subscriber reading every frame; and the
  idle engine's CPU for comparison.

    .venv/bin/python bench/bench_sip.py [--calls 5] [--digits 12345678] [--cpu-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from engine.config import SipSettings
from engine.events import Event, EventBus, EventType, Subscription
from engine.sip.engine import SipEngine

METHODS = ("rfc2833", "info", "inband")
COMPANY = """\
name: Bench Co
number: "+1 800 555 0199"
start: main
defaults: {timeout: 600, max_retries: 1000}
nodes:
  main:
    type: menu
    prompt: {silence: 0.2}
    options: {1: main, 2: main, 3: main, 4: main, 5: main, 6: main, 7: main, 8: main,
              9: main, "*": main, "#": main, 0: music}
  music:
    type: hold
    music: moh:macroform-the_simplicity
    duration: 3600
    next: bye
  bye:
    type: hangup
"""


def start_simulator(workdir: Path) -> tuple[subprocess.Popen, dict, Path]:
    company = workdir / "bench_co.yaml"
    company.write_text(COMPANY)
    log_path = workdir / "sim.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "simulate", "--company", str(company), "--port",
         "0", "--log", str(log_path), "--no-tcp"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = proc.stdout.readline() if sel.select(120) else ""
    if not line:
        proc.kill()
        sys.exit("the simulator did not start (try: holdslayer simulate --company acme_bank)")
    return proc, json.loads(line), log_path


def sim_log(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x] if path.exists() else []


def wait_log(path: Path, pred, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = sim_log(path)
        if pred(ev):
            return ev
        time.sleep(0.05)
    raise RuntimeError(f"simulator log did not show the expected entry within {timeout}s")


def wait_event(sub: Subscription, kind: EventType, call_id: str, timeout: float) -> Event:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ev = sub.get(left)
        if ev is not None and ev.type == kind and ev.call_id == call_id:
            return ev
        if ev is not None and ev.type == EventType.CALL_FAILED and ev.call_id == call_id:
            raise RuntimeError(f"call failed: {ev.data['reason']}")
    raise RuntimeError(f"no {kind.value} within {timeout}s")


def dial(engine: SipEngine, sub: Subscription, uri: str) -> str:
    call_id = engine.dial(uri)
    wait_event(sub, EventType.CALL_ANSWERED, call_id, 10)
    return call_id


def hang_up(engine: SipEngine, sub: Subscription, call_id: str) -> None:
    engine.hangup(call_id).result(5)
    wait_event(sub, EventType.CALL_ENDED, call_id, 10)


def dtmf_calls(engine: SipEngine, bus: EventBus, uri: str, log_path: Path, calls: int,
               digits: str) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Each call sends ``digits`` once per method; latencies in ms, and digits lost."""
    latency: dict[str, list[float]] = {m: [] for m in METHODS}
    lost = dict.fromkeys(METHODS, 0)
    calls_done = sum(e["event"] == "call_start" for e in sim_log(log_path))
    for n in range(calls_done + 1, calls_done + calls + 1):
        sub = bus.subscribe_queue()
        sent_sub = bus.subscribe_queue([EventType.IVR_DTMF_SENT])
        call_id = dial(engine, sub, uri)
        wait_log(log_path, lambda ev, n=n: any(e.get("call") == n and e["event"] == "node"
                                               for e in ev))
        for method in METHODS:
            engine.send_dtmf(call_id, digits, method=method).result(30)
            time.sleep(0.7)  # past the simulator's cross-method de-dup window
        hang_up(engine, sub, call_id)
        sent = [e for e in sent_sub.drain() if e.call_id == call_id]
        sub.close()
        sent_sub.close()
        received = [e for e in sim_log(log_path) if e.get("call") == n and e["event"] == "digit"]
        _match(sent, received, latency, lost)
    return latency, lost


def _match(sent: list[Event], received: list[dict], latency: dict[str, list[float]],
           lost: dict[str, int]) -> None:
    used = [False] * len(received)
    for ev in sent:
        method, digit = ev.data["method"], ev.data["digits"]
        for i, r in enumerate(received):
            if not used[i] and r["digit"] == digit and r["method"] == method:
                used[i] = True
                latency[method].append((r["t"] - ev.timestamp) * 1000)
                break
        else:
            lost[method] += 1


def _music_call(
    engine: SipEngine, bus: EventBus, uri: str, log_path: Path
) -> tuple[str, Subscription]:
    """A call put through to the simulator's hold music."""
    sub = bus.subscribe_queue()
    call_id = dial(engine, sub, uri)
    n = sum(e["event"] == "call_start" for e in sim_log(log_path))
    wait_log(log_path, lambda ev: any(e.get("call") == n and e["event"] == "node" for e in ev))
    engine.send_dtmf(call_id, "0").result(5)
    wait_log(log_path, lambda ev: any(e.get("call") == n and e.get("node") == "music"
                                      for e in ev))
    return call_id, sub


def cpu_calls(engine: SipEngine, bus: EventBus, uri: str, log_path: Path,
              seconds: float, calls: int = 1) -> dict[str, float]:
    """``calls`` calls at once on hold music, each with a tap reader; CPU of this process
    over ``seconds`` (the idle engine's own share included)."""
    lines = [_music_call(engine, bus, uri, log_path) for _ in range(calls)]
    stats = {"frames": 0, "loud": 0}
    taps = [engine.tap(call_id, "remote").subscribe() for call_id, _ in lines]

    def reader(frames) -> None:  # what a detector would do per frame, minus the model
        while (f := frames.get(1.0)) is not None:
            stats["frames"] += 1
            rms = float(np.sqrt(np.mean(f.pcm.astype(np.float32) ** 2)))
            stats["loud"] += rms > 100

    threads = [threading.Thread(target=reader, args=(f,), name="tap-reader", daemon=True)
               for f in taps]
    for t in threads:
        t.start()
    time.sleep(1.0)  # settle
    r0, c0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.monotonic()
    f0 = stats["frames"]
    time.sleep(seconds)
    r1, c1, w1 = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.monotonic()
    f1 = stats["frames"]
    for call_id, sub in lines:
        hang_up(engine, sub, call_id)
        sub.close()
    for t in threads:
        t.join(3)
    wall = w1 - w0
    return {"wall": wall, "cpu": c1 - c0, "user": r1.ru_utime - r0.ru_utime,
            "sys": r1.ru_stime - r0.ru_stime, "frames_per_s": (f1 - f0) / wall / calls,
            "loud_share": stats["loud"] / max(1, stats["frames"]),
            "dropped": sum(f.dropped for f in taps), "calls": calls}


def idle_cpu(seconds: float) -> float:
    c0, w0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - c0) / (time.monotonic() - w0) * 60


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=5, help="calls for the DTMF figures")
    ap.add_argument("--digits", default="12345678", help="keys sent per method per call")
    ap.add_argument("--cpu-seconds", type=float, default=30.0, help="length of the CPU call")
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--cpu-calls", type=int, default=1,
                    help="calls at once for the CPU figure (each with its tap reader)")
    args = ap.parse_args()

    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench_sip_") as tmp:
        sim, ready, log_path = start_simulator(Path(tmp))
        bus = EventBus()
        engine = SipEngine(bus, SipSettings()).start()
        try:
            idle = idle_cpu(args.idle_seconds)
            latency, lost = dtmf_calls(engine, bus, ready["uri"], log_path, args.calls,
                                       args.digits)
            cpu = cpu_calls(engine, bus, ready["uri"], log_path, args.cpu_seconds,
                            args.cpu_calls)
        finally:
            engine.stop()
            sim.terminate()
            try:
                sim.wait(10)
            except subprocess.TimeoutExpired:
                sim.kill()

    print(f"\nSIP benchmark: {args.calls} calls to the simulator on loopback, "
          f"{len(args.digits)} keys per method per call, 0.3 s spacing")
    print("\nDTMF send -> simulator received (ms)      n   median     p95     max   lost")
    for m in METHODS:
        v = latency[m]
        if v:
            print(f"  {m:<36} {len(v):4d} {statistics.median(v):8.1f} {pct(v, 0.95):7.1f} "
                  f"{max(v):7.1f} {lost[m]:6d}")
        else:
            print(f"  {m:<36} {0:4d}        -       -       - {lost[m]:6d}")
    print("  (sent = the engine's IVR_DTMF_SENT stamp, taken just after pjsua2 accepted the key,"
          "\n   i.e. after a SIP INFO already left: ~0 ms, even slightly negative, for info;"
          "\n   received = the simulator's log `t` when its detector reported the key)")
    n = cpu["calls"]
    per_min = cpu["cpu"] / cpu["wall"] * 60 / n
    print(f"\nCPU, {n} call(s) at once on hold music, each with an audio-tap reader "
          f"({cpu['wall']:.0f} s):")
    print(f"  {per_min:.2f} CPU s per call-minute "
          f"(user {cpu['user'] / cpu['wall'] * 60 / n:.2f}, "
          f"sys {cpu['sys'] / cpu['wall'] * 60 / n:.2f}; the process uses "
          f"{per_min * n / 60 * 100:.1f}% of one core)")
    print(f"  idle engine, no call: {idle:.2f} CPU s per minute; beyond it, "
          f"{(cpu['cpu'] / cpu['wall'] * 60 - idle) / n:.2f} CPU s per call-minute")
    print(f"  tap: {cpu['frames_per_s']:.1f} frames/s per call (50 expected), "
          f"{cpu['loud_share'] * 100:.0f}% non-silent, {cpu['dropped']} dropped")
    print(f"\nbenchmark wall time {time.monotonic() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
