"""Phone-menu navigation over real SIP: each scenario company in ``assets/scenarios/`` runs in
the simulator (its own process); this process places the call with the SIP engine, hears it
with the audio analyzer (offline Whisper) and navigates with ``engine.ivr``. Ground truth is
the simulator's log: the first queue (hold node) the call entered, the digits it received,
and the time from answer to entering that queue.

Modes (per scenario intent, in this order):
* ``offline`` — the offline navigator on a fresh call (it also learns the flow);
* ``replay``  — the learned flow, verified menu by menu as it is heard;
* ``llm``     — the LLM navigator (only when HOLDSLAYER_LLM_BASE_URL and _MODEL are set).

    nice .venv/bin/python bench/bench_navigation.py [--limit N] [--split test|tune|all]
         [--intents first|all] [--modes offline,replay] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import LlmSettings, ProfileSettings, Settings, SipSettings  # noqa: E402
from engine.demo import DemoCompany  # noqa: E402
from engine.events import EventBus, EventType  # noqa: E402
from engine.ivr.flow_store import FlowStore  # noqa: E402
from engine.ivr.wiring import start_navigator  # noqa: E402
from engine.sip.engine import SipEngine  # noqa: E402
from engine.store.database import HistoryStore  # noqa: E402

SCENARIOS = ROOT / "assets" / "scenarios"


def start_analyzer(engine: SipEngine, bus: EventBus, call_id: str) -> Any:
    """What Runtime does per call: the far end's frames into the CallAudioAnalyzer."""
    from engine.audio.analyzer import CallAudioAnalyzer

    analyzer = CallAudioAnalyzer(bus, call_id)
    sub = engine.tap(call_id, "remote").subscribe(maxframes=1500)

    def feed() -> None:
        try:
            while (frame := sub.get(timeout=1.0)) is not None or not sub.closed:
                if frame is not None:
                    analyzer.feed(frame.pcm, frame.t)
        finally:
            with contextlib.suppress(Exception):
                analyzer.close()

    threading.Thread(target=feed, name=f"analyzer-{call_id}", daemon=True).start()
    return analyzer


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def call_truth(log: list[dict[str, Any]], call_no: int) -> dict[str, Any]:
    """What the simulator saw of call ``call_no``: first queue, digits, answer→queue."""
    rows = [r for r in log if r.get("call") == call_no]
    start = next((r["t"] for r in rows if r["event"] == "call_start"), None)
    hold = next((r for r in rows if r["event"] == "node" and r.get("kind") == "hold"), None)
    digits = [r["digit"] for r in rows if r["event"] == "digit"]
    nodes = [r["node"] for r in rows if r["event"] == "node"]
    return {"queue": hold["node"] if hold else None,
            "seconds": round(hold["t"] - start, 2) if hold and start else None,
            "digits": len(digits), "keys": "".join(digits), "nodes": nodes,
            "hung_up": next((r.get("reason") for r in rows if r["event"] == "hangup"), None)}


VERBOSE = False


def _brief_all(data: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={str(v)[:80]}" for k, v in (data or {}).items())


def _brief(data: dict[str, Any] | None) -> str:
    d = data or {}
    if "chosen" in d:
        return f"{d.get('chosen')!r} ({d.get('source')}): {str(d.get('reason'))[:90]}"
    if "text" in d:
        return f"[{d.get('start', 0):.2f}-{d.get('end', 0):.2f}] {d['text']!r}"
    return ""


def one_call(engine: SipEngine, bus: EventBus, uri: str, entry: dict, intent: str,
             settings: Settings, flows: FlowStore, replay: bool, log_path: Path,
             call_no: int, timeout: float) -> dict[str, Any]:
    call_id = engine.prepare_call()
    if VERBOSE:
        t0 = time.monotonic()
        bus.subscribe(lambda ev: print(f"    {time.monotonic() - t0:6.2f} {ev.type.name:16s} "
                                       f"{_brief(ev.data)}", flush=True),
                      types=[EventType.TRANSCRIPT_CHUNK, EventType.IVR_STEP,
                             EventType.CALL_ANSWERED, EventType.HOLD_DETECTED],
                      call_id=call_id)
    trouble = bus.subscribe_queue(types=[EventType.CALL_FAILED, EventType.CALL_ENDED,
                                         EventType.ENGINE_ERROR, EventType.CALL_ANSWERED],
                                  call_id=call_id)
    start_analyzer(engine, bus, call_id)
    session = start_navigator(engine, bus, call_id, intent, entry["name"], settings,
                              replay=replay, flows=flows)
    mode = session.mode
    engine.dial(uri, call_id=call_id, company=entry["name"], intent=intent)
    deadline = time.monotonic() + timeout
    reached_at = None
    while time.monotonic() < deadline and not session.done:
        time.sleep(0.25)
        if reached_at is None and call_truth(read_log(log_path), call_no)["queue"]:
            reached_at = time.monotonic()
        if reached_at and time.monotonic() - reached_at > 20:
            break  # in the queue; the detector is slow to say so: enough
        if engine.call_state(call_id) in ("ended", "failed", None) and time.monotonic() > \
                deadline - timeout + 5:
            break
    session.stop()
    with contextlib.suppress(Exception):
        engine.hangup(call_id).result(5)
    time.sleep(0.5)
    truth = call_truth(read_log(log_path), call_no)
    # what the call itself said: explains a run that went nowhere
    call_events = [f"{ev.type.name} {_brief_all(ev.data)}" for ev in trouble.drain()]
    trouble.close()
    steps = [{k: st.get(k) for k in ("transcript", "chosen", "reason", "elapsed", "source")}
             for st in session.result.steps]
    return {**truth, "mode": mode, "replayed": session.result.replayed,
            "diverged": session.result.replay_diverged, "steps": steps,
            "call_events": call_events}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="first N companies (0 = all)")
    ap.add_argument("--only", default="", help="comma-separated company slugs")
    ap.add_argument("--split", choices=["tune", "test", "all"], default="all")
    ap.add_argument("--intents", choices=["first", "all"], default="first")
    ap.add_argument("--modes", default="offline,replay,llm")
    ap.add_argument("--timeout", type=float, default=120.0, help="per call")
    ap.add_argument("--hold-seconds", type=float, default=40.0)
    ap.add_argument("--json", type=Path, help="write every run here")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print what each call heard and did, as it happens")
    args = ap.parse_args()
    if args.verbose:
        import logging

        global VERBOSE
        VERBOSE = True
        logging.basicConfig(format="    %(name)s: %(message)s", force=True)
        logging.getLogger("engine.ivr").setLevel(logging.INFO)

    index = yaml.safe_load((SCENARIOS / "scenarios.yaml").read_text())
    entries = [e for e in index["scenarios"] if args.split in ("all", e["split"])]
    if args.only:
        entries = [e for e in entries if e["company"] in args.only.split(",")]
    if args.limit:
        entries = entries[: args.limit]
    modes = [m for m in args.modes.split(",") if m]
    llm = LlmSettings(base_url=os.environ.get("HOLDSLAYER_LLM_BASE_URL", ""),
                      model=os.environ.get("HOLDSLAYER_LLM_MODEL", ""),
                      api_key=os.environ.get("HOLDSLAYER_LLM_API_KEY", ""))
    if "llm" in modes and not (llm.base_url and llm.model):
        modes.remove("llm")
        print("(llm mode skipped: set HOLDSLAYER_LLM_BASE_URL and HOLDSLAYER_LLM_MODEL)")
    profile = ProfileSettings(**index["profile"])
    offline_settings = Settings(profile=profile, llm=LlmSettings())
    llm_settings = Settings(profile=profile, llm=llm)

    work = Path(tempfile.mkdtemp(prefix="bench-nav-"))
    flows = FlowStore(HistoryStore(work / "flows.sqlite3"))
    bus = EventBus()
    engine = SipEngine(bus, SipSettings()).start()
    runs: list[dict[str, Any]] = []
    try:
        for entry in entries:
            log_path = work / f"{entry['company']}.jsonl"
            demo = DemoCompany(str(SCENARIOS / entry["file"]), log_path=log_path,
                               hold_seconds=args.hold_seconds, startup_timeout=600).start()
            call_no = 0
            try:
                intents = entry["intents"][:1] if args.intents == "first" else entry["intents"]
                for it in intents:
                    for mode in modes:
                        call_no += 1
                        settings = llm_settings if mode == "llm" else offline_settings
                        r = one_call(engine, bus, demo.uri, entry, it["intent"], settings,
                                     flows, mode == "replay", log_path, call_no, args.timeout)
                        r.update(company=entry["company"], split=entry["split"],
                                 intent=it["intent"], expected=it["queue"], bench_mode=mode,
                                 ok=r["queue"] == it["queue"], depth=it["depth"])
                        runs.append(r)
                        print(f"{mode:8s} {'OK  ' if r['ok'] else 'MISS'} {entry['company']:22s}"
                              f" {r['seconds'] if r['seconds'] is not None else '-':>6} s "
                              f"keys={r['keys']!r:18} -> {r['queue']} (want {it['queue']})"
                              f"{' [replay→navigate]' if r['diverged'] else ''}", flush=True)
                        if not r["ok"]:
                            for st in r["steps"]:
                                print(f"         heard {st['transcript']!r} -> "
                                      f"{st['chosen']}: {st['reason']}", flush=True)
            finally:
                demo.stop()
    finally:
        engine.stop()
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    print()
    print(f"{'mode':8s} {'calls':>5s} {'right queue':>11s} {'keys/call':>9s} "
          f"{'answer→queue median':>20s} {'mean':>6s}")
    medians = {}
    for mode in modes:
        rs = [r for r in runs if r["bench_mode"] == mode]
        if not rs:
            continue
        ok = [r for r in rs if r["ok"]]
        secs = [r["seconds"] for r in ok if r["seconds"] is not None]
        medians[mode] = statistics.median(secs) if secs else None
        print(f"{mode:8s} {len(rs):5d} {len(ok) / len(rs):10.1%} "
              f"{statistics.mean(r['digits'] for r in rs):9.1f} "
              f"{(statistics.median(secs) if secs else float('nan')):19.1f}s "
              f"{(statistics.mean(secs) if secs else float('nan')):5.1f}s")
    pairs = [(a, b) for a in runs for b in runs if a["bench_mode"] == "offline"
             and b["bench_mode"] == "replay" and a["company"] == b["company"]
             and a["intent"] == b["intent"] and a["ok"] and b["ok"] and a["seconds"]
             and b["seconds"]]
    if pairs:
        speedups = [a["seconds"] / b["seconds"] for a, b in pairs]
        print(f"replay speed-up over first navigation (same scenario): median "
              f"{statistics.median(speedups):.2f}x, min {min(speedups):.2f}x over "
              f"{len(pairs)} pairs")
    print(f"(logs and flows in {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
