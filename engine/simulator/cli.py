"""``holdslayer simulate``: run a company phone system on a SIP port.

Contract relied on by the engine's tests and by people scripting it: once listening it prints
exactly one JSON line to stdout, ``{"event": "ready", "port", "uri", "company"}``, then runs
until SIGTERM/SIGINT or ``--max-calls`` calls have ended, and exits 0. A bad company file exits
2 with ``FILE:LINE: problem`` on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HOLD_SECONDS_ENV = "HOLDSLAYER_SIM_HOLD_SECONDS"
PACKET_LOSS_ENV = "HOLDSLAYER_SIM_PACKET_LOSS"
CODEC_ENV = "HOLDSLAYER_SIM_CODEC"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="run a simulated company phone system (a SIP user agent) described in YAML",
        description="Answer SIP calls as a company phone system: menus, input prompts, hold "
        "music with announcements, and an agent who answers. Prints one JSON 'ready' line "
        "when listening.",
    )
    p.add_argument("--company", required=True,
                   help="bundled company name (e.g. acme_bank) or a path to a YAML file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="SIP port, UDP and TCP (0 = a free one)")
    p.add_argument("--log", type=Path, help="append the ground-truth JSON-lines log to FILE")
    p.add_argument("--max-calls", type=int, help="exit after this many calls have ended")
    p.add_argument("--hold-seconds", type=float, default=None,
                   help=f"fixed hold duration for every hold node (env {HOLD_SECONDS_ENV})")
    p.add_argument("--seed", type=int, help="seed for random hold durations (reproducible runs)")
    p.add_argument("--packet-loss", type=int, default=None, metavar="PCT",
                   help="drop this percentage (0-50) of the RTP packets we send, at random: a "
                   f"bad line, concealed by the caller's own jitter buffer (env {PACKET_LOSS_ENV})")
    p.add_argument("--record-dir", type=Path, help="record what the caller says to the agent")
    p.add_argument("--codec", default=None, metavar="NAME[,NAME]",
                   help="speak only these audio codecs, the first preferred (e.g. PCMU, GSM, "
                   f"iLBC, G722, speex/8000): a company behind a narrowband line (env {CODEC_ENV})")
    p.add_argument("--no-tcp", action="store_true", help="listen on UDP only")
    p.add_argument("--pj-log-level", type=int, default=0, help="pjsua2 log level to stderr")
    p.add_argument("--echo", action="store_true", help="also print the log lines on stderr")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the process that started this one dies (how the app runs "
                   "its demo companies: none is left behind when it is killed)")
    p.set_defaults(func=run)


def _option(value: T | None, env: str, parse: Callable[[str], T], must_be: str) -> T | None:
    """The flag's value, else the environment's (ValueError saying what it must be)."""
    if value is not None or not os.environ.get(env):
        return value
    try:
        return parse(os.environ[env])
    except ValueError:
        raise ValueError(f"{env} must be {must_be}") from None


def _fail(msg: str, code: int) -> int:
    print(f"holdslayer simulate: error: {msg}", file=sys.stderr, flush=True)
    return code


def run(args: argparse.Namespace) -> int:
    stop = {"requested": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["requested"] = True

    old = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    parent = os.getppid()

    def stop_requested() -> bool:
        # a parent killed outright (SIGKILL, a closed SSH session) cannot stop us: notice
        # that we were handed to another parent instead
        return stop["requested"] or (args.exit_with_parent and os.getppid() != parent)

    try:
        return _run(args, stop_requested)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, stop_requested: Callable[[], bool]) -> int:
    from engine.simulator.audio_files import AudioFileError
    from engine.simulator.company import CompanyError, load_company
    from engine.simulator.ground_truth import GroundTruthLog
    from engine.simulator.prompts import PromptRenderer
    from engine.simulator.voice import SynthesisError, Synthesizer

    try:
        company = load_company(args.company)
    except CompanyError as exc:
        return _fail(str(exc), 2)

    try:
        hold = _option(args.hold_seconds, HOLD_SECONDS_ENV, float, "a number of seconds")
        loss = _option(args.packet_loss, PACKET_LOSS_ENV, int, "a whole percentage")
    except ValueError as exc:
        return _fail(str(exc), 2)
    if hold is not None and hold < 0:
        return _fail("--hold-seconds must be >= 0", 2)
    if loss is not None and not 0 <= loss <= 50:
        return _fail("--packet-loss must be a percentage from 0 to 50", 2)
    if args.max_calls is not None and args.max_calls < 1:
        return _fail("--max-calls must be >= 1", 2)

    renderer = PromptRenderer(Synthesizer())
    try:
        for prompt in company.prompts():  # before "ready": the first call must not wait
            if stop_requested():
                return 0
            renderer.render(prompt)
    except (SynthesisError, AudioFileError, OSError) as exc:
        return _fail(f"{company.source}: cannot prepare prompts: {exc}", 2)
    if company.listens():
        from engine.simulator.speech_input import warm_whisper

        warm_whisper()

    # stdout carries only the ready line: pjlib prints to fd 1 before its log level can be set.
    ready_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    # pjsua2 is imported only now: validation and --help stay fast and abort-proof.
    from engine.simulator.sip_agent import SimulatorAgent, SimulatorOptions, SimulatorStartError

    log = GroundTruthLog(args.log, echo=sys.stderr if args.echo else None)
    opts = SimulatorOptions(
        host=args.host, port=args.port, max_calls=args.max_calls, hold_seconds=hold,
        seed=args.seed, record_dir=args.record_dir, tcp=not args.no_tcp,
        pj_log_level=args.pj_log_level, packet_loss_pct=loss or 0,
        codecs=tuple(c for c in (_option(args.codec, CODEC_ENV, str, "") or "").split(",") if c),
    )
    agent = SimulatorAgent(company, renderer.render, log, opts)
    try:
        try:
            port = agent.start()
        except SimulatorStartError as exc:
            return _fail(str(exc), 1)
        except ValueError as exc:  # a codec this build does not have
            return _fail(str(exc), 2)
        log.write("listening", port=port, uri=agent.uri, company=company.name,
                  source=str(company.source), hold_seconds=hold, seed=args.seed,
                  packet_loss_pct=loss or 0, codecs=list(opts.codecs))
        ready = {
            "event": "ready", "port": port, "uri": agent.uri, "company": company.name,
            "slug": company.slug,
        }
        print(json.dumps(ready), file=ready_out, flush=True)
        agent.run(stop_requested)
    finally:
        agent.shutdown()
        log.write("stopped", calls=agent.calls_seen)
        log.close()
        os.dup2(ready_out.fileno(), sys.stdout.fileno())  # give the caller its stdout back
        ready_out.close()
    return 0
