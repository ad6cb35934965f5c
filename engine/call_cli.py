"""``holdslayer call TARGET``: place one call headless and stay until it ends.

With ``--json`` every engine event is one JSON line on stdout (the public event names and
fields), so scripts can follow a call; human-readable progress otherwise. Errors go to
stderr with exit status 2 (bad input) or 1 (the call failed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.config import ConfigError, load_settings
from engine.demo import DemoError
from engine.events import Event, EventType
from engine.notify.messages import HANG_UP
from engine.sip.dtmf import plan_digits
from engine.sip.engine import SipError
from engine.sip.targets import InvalidTarget, parse_target


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "call",
        help="place a call headless (no TUI) and stay on it until it ends",
        description="Call TARGET: a phone number ((800) 555-1234, +1 800 555 1234, "
        "1-800-FLOWERS), a sip: URI, or demo:<company> (starts the bundled simulator).",
    )
    p.add_argument("target", help="number, sip: URI or demo:<company>")
    p.add_argument("--digits", default="",
                   help="DTMF to send once answered; ',' pauses 1 s (e.g. 1,3,,2)")
    p.add_argument("--digits-delay", type=float, default=1.0,
                   help="seconds to wait after the answer before sending --digits (default 1)")
    p.add_argument("--dtmf-method", choices=["rfc2833", "info", "inband"],
                   help="how to send digits (default from settings: rfc2833)")
    p.add_argument("--intent", default="",
                   help="what you want from this call; Hold Slayer then works the phone menu "
                   "itself (unless --digits is given)")
    p.add_argument("--company", default="",
                   help="company name: for history, its announcement memory, and to know "
                        "its recordings' \"This is ACME\" for no person")
    p.add_argument("--record", action="store_true", help="record the call")
    p.add_argument("--json", action="store_true", help="one JSON line per event on stdout")
    p.add_argument("--levels", action="store_true", help="with --json, include AUDIO_LEVEL")
    p.add_argument("--max-seconds", type=float, default=0,
                   help="hang up after this many seconds (0 = stay until the far end hangs up)")
    p.add_argument("--hangup-after-digits", type=float, default=None, metavar="SECONDS",
                   help="hang up this many seconds after the last digit was sent")
    p.add_argument("--demo-hold-seconds", type=float, default=None,
                   help="demo companies: make their hold this long")
    p.add_argument("--demo-log", type=Path, default=None,
                   help="demo companies: write the simulator's ground-truth log here (dir)")
    p.set_defaults(func=run_call)


def _human(event: Event) -> str | None:
    d = event.data
    match event.type:
        case EventType.CALL_STARTED:
            return f"calling {d.get('target') or d.get('uri')} ({d.get('uri')})"
        case EventType.CALL_RINGING:
            return "ringing"
        case EventType.CALL_ANSWERED:
            return "answered"
        case EventType.IVR_DTMF_SENT:
            return f"pressed {d.get('digits')} ({d.get('method')})"
        case EventType.IVR_STEP:
            chosen, reason = d.get("chosen") or "", d.get("reason") or ""
            return f"menu: {chosen} \u2014 {reason}" if chosen else f"menu: {reason}"
        case EventType.QUEUE_POSITION:
            pos, wait = d.get("position"), d.get("wait_minutes")
            parts = [f"caller {pos}" if pos else "", f"~{wait:g} min" if wait else ""]
            return "queue: " + ", ".join(p for p in parts if p)
        case EventType.CALLBACK_OFFER:
            return f"callback offered (press {d.get('key')})" if d.get("key") \
                else "callback offered"
        case EventType.HOLD_DETECTED:
            return "on hold"
        case EventType.HUMAN_DETECTED:
            return "a person answered!"
        case EventType.TRANSCRIPT_CHUNK:
            return f"  \u201c{d.get('text', '').strip()}\u201d"
        case EventType.CALL_FAILED:
            return f"call failed: {d.get('reason')}"
        case EventType.CALL_ENDED:
            return f"call ended: {d.get('reason')} after {d.get('duration', 0):.0f} s"
        case EventType.RECORDING_STOPPED:
            return f"recording ({d.get('kind')}): {d.get('path')} ({d.get('duration', 0):.1f} s)"
        case EventType.USER_ACTION:
            action = str(d.get("action", "")).replace("_", " ")
            return f"{action!r} pressed on the {d.get('source') or 'other'} notification"
        case EventType.ENGINE_ERROR | EventType.REGISTRATION_STATE:
            return str(d.get("message", ""))
        case EventType.LINE_QUALITY:
            return (f"line {d.get('grade')}: {d.get('loss_pct', 0):g}% lost, "
                    f"{d.get('jitter_ms', 0):.0f} ms jitter ({d.get('codec') or '?'})")
    return None


def _news(event: Event, grades: dict[str, str]) -> bool:
    """Whether a human reader wants this event: LINE_QUALITY only when the grade changes
    (it comes every 5 s)."""
    if event.type != EventType.LINE_QUALITY:
        return True
    grade = str(event.data.get("grade"))
    if grades.get(event.call_id) == grade:
        return False
    grades[event.call_id] = grade
    return True


def run_call(args: argparse.Namespace) -> int:
    from engine.runtime import Runtime

    def fail(msg: str, code: int = 2) -> int:
        print(f"holdslayer call: error: {msg}", file=sys.stderr)
        return code

    try:
        settings = load_settings()
    except ConfigError as exc:
        return fail(str(exc))
    try:
        target = parse_target(args.target, settings.sip.default_country)
        if args.digits:
            plan_digits(args.digits)
    except (InvalidTarget, ValueError) as exc:
        return fail(str(exc))
    out_lock = threading.Lock()
    grades: dict[str, str] = {}

    def show(event: Event) -> None:
        if args.json:
            if event.type == EventType.AUDIO_LEVEL and not args.levels:
                return
            line = event.to_json()
        else:
            line = _human(event) if _news(event, grades) else None
            if line is None:
                return
            line = time.strftime("%H:%M:%S ", time.localtime(event.timestamp)) + line
        with out_lock:
            print(line, flush=True)

    rt = Runtime(settings, demo_hold_seconds=args.demo_hold_seconds,
                 demo_log_dir=args.demo_log)
    if args.demo_log:
        args.demo_log.mkdir(parents=True, exist_ok=True)
    interrupted = Interrupted()
    previous = signal.signal(signal.SIGINT, interrupted.by_signal("Ctrl-C"))
    signal.signal(signal.SIGTERM, interrupted.by_signal("SIGTERM"))
    signal.signal(signal.SIGHUP, interrupted.by_signal("terminal closed"))  # a BYE, not a vanish
    try:
        printer = rt.bus.subscribe(show)
        try:
            rt.start()
        except SipError as exc:
            return fail(str(exc), 1)
        events = rt.bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED,
                                               EventType.CALL_FAILED, EventType.USER_ACTION])
        if settings.sip.registrar and target.kind == "tel":
            try:
                rt.engine.wait_registered()
            except SipError as exc:
                return fail(str(exc), 1)
        try:
            call_id = rt.place_call(target, intent=args.intent, company=args.company,
                                    record=args.record or None, dtmf_method=args.dtmf_method,
                                    navigate=not args.digits)
        except (SipError, DemoError) as exc:
            return fail(str(exc), 1)
        if sys.stdin is not None and sys.stdin.isatty():
            threading.Thread(target=_keys_from_terminal, args=(rt, call_id), daemon=True,
                             name="terminal-keys").start()
        status = _follow(rt, call_id, events, args, interrupted)
        rt.wait_analysis(call_id)  # the last words are transcribed after the call ends
        rt.recordings.stop_all()
        printer.close()  # flush what was already published before we exit
        return status
    finally:
        signal.signal(signal.SIGINT, previous)
        rt.stop()


def _keys_from_terminal(rt: Any, call_id: str) -> None:
    """Keys typed on the terminal, then Enter, are pressed on the call: how a user of the
    headless call answers a prompt the navigator cannot (an account number it lacks)."""
    with contextlib.suppress(OSError, ValueError):  # the terminal closed under us
        for line in sys.stdin:
            digits = "".join(ch for ch in line if ch in "0123456789*#")
            if not digits:
                continue
            try:
                rt.engine.send_dtmf(call_id, digits).add_done_callback(lambda f: f.exception())
            except SipError as exc:
                print(f"holdslayer call: keys not sent: {exc}", file=sys.stderr)


class Interrupted(threading.Event):
    """Set by a signal; ``why`` says which, for the hang-up reason history keeps."""

    why = ""

    def by_signal(self, why: str) -> Callable[..., None]:
        def handler(*_: object) -> None:
            self.why = self.why or why
            self.set()

        return handler


def _follow(rt, call_id: str, events, args: argparse.Namespace,
            interrupted: Interrupted) -> int:
    started = time.monotonic()
    answered_at: float | None = None
    digits_future = None
    digits_done_at: float | None = None
    hanging_up = False
    failed = False
    asked_to_hang_up = ""  # "Hang up" pressed on the desktop notification
    while True:
        ev = events.get(timeout=0.1)
        if ev is not None and ev.call_id == call_id:
            if ev.type == EventType.CALL_ANSWERED:
                answered_at = time.monotonic()
            elif ev.type == EventType.CALL_FAILED:
                failed = True
            elif ev.type == EventType.CALL_ENDED:
                return 1 if failed else 0
            elif ev.type == EventType.USER_ACTION and ev.data.get("action") == HANG_UP:
                asked_to_hang_up = f"hung up by user ({ev.data.get('source') or 'notification'})"
        now = time.monotonic()
        if answered_at and args.digits and digits_future is None \
                and now - answered_at >= args.digits_delay:
            digits_future = rt.engine.send_dtmf(call_id, args.digits, args.dtmf_method)
        if digits_future is not None and digits_future.done() and digits_done_at is None:
            digits_done_at = now
            if digits_future.exception():
                print(f"holdslayer call: digits not sent: {digits_future.exception()}",
                      file=sys.stderr)
        if hanging_up:
            continue
        reason = None
        if interrupted.is_set():
            reason = f"hung up by user ({interrupted.why})"
        elif asked_to_hang_up:
            reason = asked_to_hang_up
        elif args.max_seconds and now - started >= args.max_seconds:
            reason = f"hung up after --max-seconds {args.max_seconds:g}"
        elif args.hangup_after_digits is not None and digits_done_at \
                and now - digits_done_at >= args.hangup_after_digits:
            reason = "hung up after the digits were sent"
        if reason:
            hanging_up = True
            fut = rt.engine.hangup(call_id, reason)
            fut.add_done_callback(lambda f: f.exception())  # the call may already be gone


def json_dumps(obj: object) -> str:
    return json.dumps(obj, default=str)
