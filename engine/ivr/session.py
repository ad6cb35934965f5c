"""One call's menu driver: listens to the call's transcripts on the bus, decides with a
navigator when a menu has been heard, presses keys through the SIP engine, and stops once
the call reaches a queue or a person.

Why it is built this way:
- Timing is the driver's job, decisions the navigator's (so LLM, offline and replay are
  interchangeable mid-call). The driver endpoints a menu: it acts when the transcript's
  speech episode ended and the line stayed quiet (AUDIO_LEVEL says no speech since), or at
  once when the navigator says no later option can beat its choice.
- A menu heard again right after we pressed means our key was not taken: resend it by
  another DTMF method, then try the next-best option, then 0.
- With a learned flow it replays: it transcribes only the first seconds of each menu on its
  own tap of the call audio, and presses the learned key as soon as those words match what
  that menu said last time, long before the menu finishes. A mismatch drops back to
  navigating, and the new path replaces the old one.
- Everything runs on this session's own thread, fed by a bus subscription: a slow LLM or
  speech-to-text delays this call's next key, never the audio or the bus.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from typing import Any

import numpy as np

from engine.events import Event, EventBus, EventType
from engine.ivr.flow_store import FlowStep, FlowStore, LearnedFlow
from engine.ivr.menu_memory import (
    node_id,
    opening_match,
    opening_recognised,
    opening_words,
    same_menu,
)
from engine.ivr.menu_parser import (
    _MENTION,
    SPEECH_KEY,
    DataPrompt,
    ParsedMenu,
    _key,
    parse_menu,
)
from engine.ivr.navigator import Choice, MenuContext, Navigator
from engine.ivr.offline_navigator import OfflineNavigator, content_stems, profile_value
from engine.speech.stt import transcribe_partial

log = logging.getLogger(__name__)

_METHODS = ("rfc2833", "info", "inband")


@dataclasses.dataclass(slots=True)
class SessionSettings:
    quiet_s: float = 0.15  # speech after a transcript's end means the menu goes on
    settle_s: float = 1.0  # with no audio levels: act this long after the last transcript
    stale_quiet_s: float = 5.0  # menu went on, then silence this long, no transcript: act
    dtmf_timeout_s: float = 30.0
    max_attempts: int = 3  # per menu: other DTMF method, next-best option, then 0
    max_actions: int = 30
    replay_opening_step_s: float = 0.5  # a menu's first seconds: transcribed this often
    replay_verify_s: float = 1.0  # later, transcribe a menu every this many seconds ...
    replay_window_s: float = 4.0  # ... its last this many seconds ...
    replay_max_s: float = 20.0  # ... up to this long, until the learned option is heard
    replay_onset_dbfs: float = -38.0


@dataclasses.dataclass(slots=True)
class _Action:
    menu: ParsedMenu
    choice: Choice
    node: str
    method: str | None
    attempt: int
    tried: set[str]
    audio_t: float
    step: FlowStep | None


@dataclasses.dataclass(slots=True)
class NavigationResult:
    reached: bool = False
    how: str = ""  # hold | human | ended | stopped
    answered_at: float | None = None
    reached_at: float | None = None
    keys: list[str] = dataclasses.field(default_factory=list)
    steps: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    replayed: int = 0  # menus answered from the learned flow
    replay_diverged: bool = False

    @property
    def seconds_to_queue(self) -> float | None:
        if self.reached_at is None or self.answered_at is None:
            return None
        return self.reached_at - self.answered_at


class IvrSession:
    """``IvrSession(engine, bus, call_id, intent, ...).start()``; ``wait()`` for the result."""

    def __init__(
        self,
        engine: Any,
        bus: EventBus,
        call_id: str,
        intent: str,
        company: str = "",
        *,
        navigator: Navigator | None = None,
        profile: Any = None,
        flows: FlowStore | None = None,
        settings: SessionSettings | None = None,
        dtmf_method: str | None = None,
        stt: Any = None,
        tts: Any = None,
        replay: bool = True,
    ) -> None:
        self.engine, self.bus, self.call_id = engine, bus, call_id
        self.intent, self.company = intent, company
        self.profile = profile
        self.s = settings or SessionSettings()
        self.offline = OfflineNavigator(profile)
        self.navigator: Navigator = navigator or self.offline
        self.flows = flows
        self.method = dtmf_method
        self._stt, self._tts = stt, tts
        self.result = NavigationResult()
        self._flow: LearnedFlow | None = None
        if flows is not None and replay:
            try:
                self._flow = flows.find(company, intent)
            except Exception:
                log.exception("cannot read learned flows; navigating")
        self._replay_i = 0
        self._learned: list[FlowStep] = []
        self._asked: set[str] = set()  # data prompts the user was told about
        # the data prompt the user was asked to answer by hand, until we act again: their
        # keys are that answer, not a sign they took the menu over
        self.awaiting_user = ""
        self._chunks: dict[float, tuple[float, str]] = {}  # start → (end, text)
        self._floor_t = -1e9  # transcripts starting before our last key are stale
        self._audio_t = 0.0
        self._have_levels = False
        self._last_speech_t = -1e9
        self._pending: tuple[ParsedMenu, Choice, float, float] | None = None
        self._last: _Action | None = None
        self._invalid_heard = False
        self._menu_started = time.time()
        self._nodes: list[dict[str, Any]] = []
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._sub = None
        self._thread: threading.Thread | None = None
        self._tap_thread: threading.Thread | None = None
        self._tap_sub = None
        self._verify = _ReplayListener(self) if self._flow else None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> IvrSession:
        self._sub = self.bus.subscribe_queue(
            types=[EventType.TRANSCRIPT_CHUNK, EventType.AUDIO_LEVEL, EventType.CALL_ANSWERED,
                   EventType.HOLD_DETECTED, EventType.HUMAN_DETECTED, EventType.CALL_ENDED,
                   EventType.CALL_FAILED],
            call_id=self.call_id)
        if self._verify is not None:
            self._verify.start()
        self._thread = threading.Thread(target=self._run, name=f"ivr-{self.call_id}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> NavigationResult:
        self._done.wait(timeout)
        return self.result

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def mode(self) -> str:
        return "replay" if self._flow is not None else self.navigator.name

    def tree(self) -> dict[str, Any]:
        """The menus heard so far as nested nodes (the root is the call)."""
        root: dict[str, Any] = {"node_id": "call", "company": self.company, "children": []}
        parent = root
        for node in self._nodes:
            child = {**node, "children": []}
            parent["children"].append(child)
            parent = child
        return root

    # -- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        assert self._sub is not None
        try:
            while not self._stop.is_set() and not self._done.is_set():
                ev = self._sub.get(timeout=0.05)
                if ev is not None:
                    self._on_event(ev)
                while True:
                    try:
                        kind, payload = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    if kind == "replay_heard":
                        self._on_replay_heard(*payload)
                self._tick()
        except Exception:
            log.exception("IVR navigation failed for call %s; the call goes on", self.call_id)
        finally:
            self._finish("stopped" if not self._done.is_set() else self.result.how)

    def _on_event(self, ev: Event) -> None:
        d = ev.data or {}
        t = ev.type
        if t is EventType.AUDIO_LEVEL:
            self._have_levels = True
            self._audio_t = float(d.get("t", self._audio_t))
            if d.get("label") == "speech":
                self._last_speech_t = self._audio_t
        elif t is EventType.TRANSCRIPT_CHUNK:
            self._on_chunk(str(d.get("text", "")), float(d.get("start", 0.0)),
                           float(d.get("end", 0.0)), bool(d.get("repeat")))
        elif t is EventType.CALL_ANSWERED:
            self.result.answered_at = ev.timestamp
            self._menu_started = ev.timestamp
        elif t in (EventType.HOLD_DETECTED, EventType.HUMAN_DETECTED):
            self.result.reached = True
            self.result.reached_at = ev.timestamp
            how = "hold" if t is EventType.HOLD_DETECTED else "human"
            self._publish_leaf(how, d)
            self._learn_success()
            self._finish(how)
        elif t in (EventType.CALL_ENDED, EventType.CALL_FAILED):
            if self._flow is not None and self.flows is not None and not self.result.reached:
                self._safe(lambda: self.flows.record_failure(self.company, self.intent))
            self._finish("ended")

    # -- hearing menus -----------------------------------------------------------------

    def _on_chunk(self, text: str, start: float, end: float, repeat: bool) -> None:
        if start < self._floor_t - 0.05 or not text.strip():
            return  # what played before our key (the prompt we interrupted)
        self._chunks[round(start, 2)] = (end, text.strip())
        menu = parse_menu(" ".join(t for _, (_, t) in sorted(self._chunks.items())))
        if menu.invalid and not menu.options and not menu.data:
            self._invalid_heard = True
            return
        if not menu.options and menu.data is None:
            return  # a greeting or an announcement: keep listening
        if self._is_repeat(menu):
            self._retry(menu)
            return
        step = self._replay_step()
        if step is not None:
            if _step_matches(step, menu):
                self._replay(step, menu, "menu recognised from its transcript")
                return
            self._diverge(f"menu differs from the learned one: '{menu.text[:60]}'")
        choice = self._decide(menu)
        if choice.action == "wait":
            self._pending = None
            if menu.data is not None:
                self._ask_user(menu)
            return
        if choice.decisive or self._line_quiet_since(end):
            self._act(menu, choice)
        else:
            self._pending = (menu, choice, end, time.monotonic())

    def _line_quiet_since(self, end: float) -> bool:
        if not self._have_levels:
            return False  # cannot tell: let _tick settle it
        return self._last_speech_t <= end + self.s.quiet_s

    def _tick(self) -> None:
        if self._pending is None:
            return
        menu, choice, end, at = self._pending
        waited = time.monotonic() - at
        if not self._have_levels:
            if waited >= self.s.settle_s:
                self._act(menu, choice)
            return
        quiet_for = self._audio_t - self._last_speech_t
        # the menu went on after this transcript: its rest is still being transcribed (slow
        # on a busy machine); act on what we have only once the line has long been quiet
        if self._last_speech_t <= end + self.s.quiet_s or quiet_for >= self.s.stale_quiet_s:
            self._act(menu, choice)

    def _decide(self, menu: ParsedMenu, excluded: set[str] | None = None,
                attempt: int = 0) -> Choice:
        path = [st.labels[st.keys.index(st.digits)] for st in self._learned
                if st.kind == "option" and st.digits in st.keys]
        ctx = MenuContext(menu, self.intent, self.company, list(self.result.keys),
                          excluded or set(), attempt, path)
        try:
            choice = self.navigator.decide(ctx)
        except Exception:
            log.exception("navigator %s failed; deciding offline", self.navigator.name)
            choice = self.offline.decide(ctx)
        return choice

    # -- repeated menus ----------------------------------------------------------------

    def _is_repeat(self, menu: ParsedMenu) -> bool:
        last = self._last
        if last is None:
            return False
        if last.choice.digits and last.menu.option(last.choice.digits[:1]) is not None and \
                last.menu.option(last.choice.digits[:1]).kind in ("repeat", "back"):
            return False
        return same_menu(last.menu, menu) or (self._invalid_heard and menu.invalid)

    def _retry(self, menu: ParsedMenu) -> None:
        """Our key was not taken: another method, then the next-best option, then 0."""
        last = self._last
        assert last is not None
        self._invalid_heard = False
        attempt = last.attempt + 1
        if self._learned and self._learned[-1] is last.step:
            self._learned.pop()
        if attempt > self.s.max_attempts:
            log.info("call %s: menu keeps repeating; leaving it to time out", self.call_id)
            self._reset_menu()
            return
        tried = set(last.tried)
        if attempt == 1 and last.choice.action == "dtmf":
            current = last.method or self._default_method()
            method = _METHODS[(_METHODS.index(current) + 1) % len(_METHODS)]
            choice = dataclasses.replace(
                last.choice, reason=f"menu repeated: resending {last.choice.digits} by "
                f"{method}", decisive=True)
            self._act(menu, choice, method=method, attempt=attempt, tried=tried)
            return
        if menu.data is not None:
            choice = self._decide(menu, excluded=set(), attempt=attempt + 1)
        else:
            fresh = self._decide(menu, excluded=tried, attempt=attempt)
            if attempt >= 3 and "0" not in tried:
                choice = Choice("dtmf", "0", reason="menu keeps repeating: 0 for an operator",
                                source="rule", decisive=True)
            elif fresh.action == "dtmf":
                choice = dataclasses.replace(fresh, reason="menu repeated: next best, "
                                             + fresh.reason, decisive=True)
            else:
                choice = Choice("dtmf", "0", reason="menu repeated: 0 for an operator",
                                source="rule", decisive=True)
        if choice.action == "wait":
            self._reset_menu()
            return
        self._act(menu, choice, method=last.method, attempt=attempt, tried=tried)

    def _ask_user(self, menu: ParsedMenu) -> None:
        """A data prompt we cannot answer: tell the user once, so they can type it in time."""
        field = menu.data.field if menu.data else ""
        if field in self._asked:
            return
        self._asked.add(field)
        self.awaiting_user = field
        name = field.replace("_", " ")
        self.bus.emit(EventType.IVR_STEP, self.call_id, node_id=node_id(menu),
                      transcript=menu.text, options=[], chosen="", needs_input=field,
                      reason=f"the menu asks for your {name} and the profile has none: "
                      "type it now (or add it in Settings for next time)",
                      elapsed=round(time.time() - self._menu_started, 2))

    def _default_method(self) -> str:
        return self.method or "rfc2833"

    # -- acting ------------------------------------------------------------------------

    def _act(self, menu: ParsedMenu, choice: Choice, *, method: str | None = None,
             attempt: int = 0, tried: set[str] | None = None, replayed: bool = False) -> None:
        self._pending = None
        self.awaiting_user = ""
        if len(self.result.keys) >= self.s.max_actions:
            return
        action = choice.action
        digits = choice.digits
        if action == "request_agent":
            action, digits = "dtmf", "0"
        if action == "hang_up":
            log.info("call %s: navigator suggests hanging up (%s); staying on the line",
                     self.call_id, choice.reason)
            self._reset_menu()
            return
        now = time.time()
        elapsed = now - self._menu_started
        step = None
        if digits and (action == "dtmf" or digits.startswith(SPEECH_KEY)):
            step = self._step_for(menu, choice, digits, elapsed)
        node = node_id(menu)
        self._floor_t = self._audio_t
        method = method or self.method
        sent_ok = True
        if action == "dtmf" and digits:
            try:
                self.engine.send_dtmf(self.call_id, digits, method,
                                      private=menu.data is not None,
                                      source="navigator").result(
                    self.s.dtmf_timeout_s)
            except Exception as exc:
                sent_ok = False
                log.warning("call %s: could not send %s: %s", self.call_id, digits, exc)
        elif action == "speak" and choice.text:
            self._speak(choice.text)
        self.result.keys.append(digits or choice.text)
        if replayed:
            self.result.replayed += 1
        if step is not None:
            self._learned.append(step)
        tried = set(tried or set()) | ({digits} if digits else set())
        self._last = _Action(menu, choice, node, method, attempt, tried, self._audio_t, step)
        options = []
        for o in menu.options:
            od: dict[str, Any] = o.to_dict()
            if o.key in choice.scores:
                od["score"] = choice.scores[o.key]
            options.append(od)
        chosen = digits if action == "dtmf" else f"say: {choice.text}"
        record = {"node_id": node, "transcript": menu.text, "options": options,
                  "chosen": chosen, "reason": choice.reason, "elapsed": round(elapsed, 2),
                  "source": choice.source, "attempt": attempt, "method": method or "",
                  "depth": len(self._nodes) + 1, "sent": sent_ok,
                  "parent": self._nodes[-1]["node_id"] if self._nodes else "call"}
        if menu.data is not None:
            record["data_field"] = menu.data.field
            if step is not None and step.kind == "data":
                record["chosen"] = f"<{menu.data.field}>"  # never publish the value itself
        self._nodes.append(record)
        self.result.steps.append(record)
        self.bus.emit(EventType.IVR_STEP, self.call_id, **record)
        self._reset_menu(started=now)
        if self._verify is not None and self._flow is not None:
            self._verify.arm()

    def _reset_menu(self, started: float | None = None) -> None:
        self._chunks.clear()
        self._pending = None
        if started is not None:
            self._menu_started = started

    def _speak(self, text: str) -> None:
        try:
            if self._tts is None:
                from engine.speech.tts import default_tts

                self._tts = default_tts()
            pcm = self._tts.synthesize(text, sample_rate=16000)
            self.engine.play_pcm(self.call_id, pcm).result(30)
        except Exception as exc:
            log.warning("call %s: could not speak %r: %s", self.call_id, text, exc)

    def _step_for(self, menu: ParsedMenu, choice: Choice, digits: str,
                  elapsed: float) -> FlowStep:
        if menu.data is not None and not menu.option(digits[:1]):
            return FlowStep(opening_words(menu.text), [], [], "", kind="data",
                            field=menu.data.field, terminator=digits[-1] if digits[-1] in "#*"
                            and len(digits) > 1 else "", seconds=round(elapsed, 2))
        return FlowStep(opening_words(menu.text), menu.keys, [o.label for o in menu.options],
                        digits, seconds=round(elapsed, 2))

    # -- replay ------------------------------------------------------------------------

    def _replay_step(self) -> FlowStep | None:
        if self._flow is None or self._replay_i >= len(self._flow.steps):
            return None
        return self._flow.steps[self._replay_i]

    def _on_replay_heard(self, text: str, armed_seq: int, from_start: bool = True) -> None:
        """The first seconds of a menu, transcribed: press the learned key once the learned
        option is heard where it was; leave the flow once the menu is clearly different."""
        if self._verify is None or armed_seq != self._verify.seq:
            return  # heard for a menu we already left
        step = self._replay_step()
        if step is None:
            return
        menu = parse_menu(text)
        verdict = _step_matches(step, menu, partial=True, from_start=from_start)
        if verdict:
            self._replay(step, menu, f"heard '{_learned_label(step) or step.field}' again "
                         f"('{text.strip()[:60]}')")
        elif verdict is False:
            self._diverge(f"menu changed: '{text.strip()[:60]}'")
        elif from_start and opening_recognised(step.opening, text, self.company):
            # someone who knows the menu presses once they recognise it, not after the
            # option is read out
            self._replay(step, menu, f"recognised the menu from its opening "
                         f"('{text.strip()[:60]}')")

    def _replay(self, step: FlowStep, menu: ParsedMenu, why: str) -> None:
        digits = step.digits
        if step.kind == "data":
            value = "".join(ch for ch in profile_value(self.profile, step.field, self.company)
                            if ch.isdigit())
            if not value:
                self._diverge(f"no {step.field} in the profile for the learned data step")
                return
            digits = value + step.terminator
        self._replay_i += 1
        # the heard text may be a fragment ("your 10-digit customer number" parses as no data
        # prompt): a learned data step stays one, so its digits stay private and masked
        data = menu.data or (DataPrompt(step.field) if step.kind == "data" else None)
        menu = dataclasses.replace(menu, options=menu.options or [], data=data)
        said = digits[len(SPEECH_KEY):] if digits.startswith(SPEECH_KEY) else ""
        choice = Choice("speak" if said else "dtmf", digits, text=said,
                        reason=f"learned flow: {why}", confidence=1.0, source="replay",
                        decisive=True)
        self._act(menu, choice, replayed=True)
        if self._learned and self._learned[-1].digits == digits:
            self._learned[-1] = step  # keep the learned opening/options, not the fragment
        elif step.kind == "data":
            self._learned.append(step)

    def _diverge(self, why: str) -> None:
        log.info("call %s: leaving the learned flow: %s", self.call_id, why)
        self.result.replay_diverged = True
        self._flow = None
        if self._verify is not None:
            self._verify.close()

    # -- the end -----------------------------------------------------------------------

    def _learn_success(self) -> None:
        if self.flows is None or not self._learned:
            return
        seconds = self.result.seconds_to_queue
        steps = [s for s in self._learned if s is not None]
        self._safe(lambda: self.flows.save(self.company, self.intent, steps, seconds))

    def _publish_leaf(self, how: str, data: dict[str, Any]) -> None:
        record = {"node_id": how, "transcript": "", "options": [], "chosen": "",
                  "reason": "on hold: the queue was reached" if how == "hold"
                  else "a person answered", "elapsed": round(time.time() - self._menu_started,
                                                             2),
                  "source": "detector", "depth": len(self._nodes) + 1, "kind": how,
                  "parent": self._nodes[-1]["node_id"] if self._nodes else "call"}
        self._nodes.append(record)
        self.bus.emit(EventType.IVR_STEP, self.call_id, **record)

    def _safe(self, fn: Any) -> None:
        try:
            fn()
        except Exception:
            log.exception("call %s: learned-flow store failed", self.call_id)

    def _finish(self, how: str) -> None:
        if self._done.is_set():
            return
        self.result.how = how
        if self._sub is not None:
            self._sub.close()
        if self._verify is not None:
            self._verify.close()
        try:
            self.navigator.close()  # an LLM navigator's loop thread
        except Exception:
            log.debug("navigator close failed", exc_info=True)
        self._done.set()


def _learned_label(step: FlowStep) -> str:
    if step.digits in step.keys:
        return step.labels[step.keys.index(step.digits)]
    return ""


def _similar(a: str, b: str) -> bool:
    """Labels that mean the same option; a word cut short by a partial hearing ("tech")
    still counts."""
    sa, sb = content_stems(a), content_stems(b)
    if not sa or not sb:
        return False
    small, big = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    hits = sum(1 for w in small if any(w == x or (len(w) >= 3 and x.startswith(w))
                                       or (len(x) >= 3 and w.startswith(x)) for x in big))
    return hits / len(small) >= 0.5


def _step_matches(step: FlowStep, menu: ParsedMenu, partial: bool = False,
                  from_start: bool = True) -> bool | None:
    """True: the learned choice is on offer where it was. False: the menu changed. None
    (only for a partial hearing): not heard far enough to tell."""
    if step.kind == "data":
        if menu.data is not None:
            return menu.data.field == step.field
        return None if partial and not menu.options else False
    label = _learned_label(step)
    opt = menu.option(step.digits)
    if partial:
        verdict = _window_verdict(menu.text, step)
        if verdict is not None:
            return verdict
        if not from_start:
            return None  # a window from the middle of the menu: the opening is not in it
        heard = opening_match(step.opening, menu.text)
        words = len(menu.text.split())
        return False if words >= 8 and heard < 0.3 else None
    if opt is not None:
        return _similar(opt.label, label) if label else True
    return False


def _window_verdict(text: str, step: FlowStep) -> bool | None:
    """A few seconds cut from a menu, with periods speech-to-text may have misplaced: which
    side of "press 2" a label sits on is settled by the other learned labels heard in the
    window. True: the learned label is at the learned key; False: it is at another key;
    None: cannot tell yet."""
    label = _learned_label(step)
    if not label:
        return None
    learned = dict(zip(step.keys, step.labels, strict=False))
    mentions = list(_MENTION.finditer(text))
    segs: list[tuple[str | None, str, str]] = []
    votes = {"before": 0, "after": 0}
    for i, m in enumerate(mentions):
        k = _key(m.group("key"))
        before = text[mentions[i - 1].end() if i else 0: m.start()]
        after = text[m.end(): mentions[i + 1].start() if i + 1 < len(mentions) else len(text)]
        segs.append((k, before, after))
        if k in learned:
            votes["before"] += _similar(before, learned[k])
            votes["after"] += _similar(after, learned[k])
    if votes["before"] == votes["after"]:
        return None
    side = 1 if votes["before"] > votes["after"] else 2
    for seg in segs:
        if _similar(seg[side], label):
            if seg[0] == step.digits:
                return True
            if seg[0] in learned and _similar(seg[side], learned[seg[0]]):
                continue  # that key's own label, sharing a word with ours ("support")
            return False
    return None


class _ReplayListener:
    """Transcribes the first seconds of each menu on the session's own tap, so a learned key
    can be pressed once the menu is recognised, without waiting for it to finish."""

    def __init__(self, session: IvrSession) -> None:
        self.session = session
        self.seq = 0
        self._armed_at = time.monotonic()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sub = None
        self.gave_up = False

    def start(self) -> None:
        try:
            self._sub = self.session.engine.tap(self.session.call_id, "remote").subscribe(
                maxframes=1500)
        except Exception as exc:
            log.info("replay cannot tap the call audio (%s); verifying by transcript", exc)
            self.gave_up = True
            return
        threading.Thread(target=self._run, name=f"ivr-replay-{self.session.call_id}",
                         daemon=True).start()

    def arm(self) -> None:
        with self._lock:
            self.seq += 1
            self._armed_at = time.monotonic()

    def close(self) -> None:
        self._closed.set()
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                self.session.engine.tap(self.session.call_id, "remote").unsubscribe(sub)
            except Exception:
                pass

    def _run(self) -> None:
        s = self.session.s
        step_frames = int(s.replay_verify_s * 50)
        opening_frames = max(1, int(s.replay_opening_step_s * 50))
        window_frames = int(s.replay_window_s * 50)
        max_frames = int(s.replay_max_s * 50)
        frames: list[np.ndarray] = []
        onset = False
        seq = -1
        threshold = 32768 * 10 ** (s.replay_onset_dbfs / 20)
        while not self._closed.is_set():
            sub = self._sub
            if sub is None:
                return
            frame = sub.get(timeout=0.2)
            if frame is None:
                if sub.closed:
                    return
                continue
            with self._lock:
                cur, armed_at = self.seq, self._armed_at
            if cur != seq:
                seq, onset = cur, False
                frames = []
            pcm = frame.pcm
            if not onset:
                if time.monotonic() - armed_at < 0.3:
                    continue  # our own key's echo, the interrupted prompt's tail
                rms = float(np.sqrt(np.mean(pcm.astype(np.float32) ** 2)))
                if rms < threshold:
                    continue
                onset = True
            if len(frames) >= max_frames:
                continue  # heard enough of this menu: the full transcript will decide
            frames.append(pcm)
            from_start = len(frames) <= window_frames
            if len(frames) % (opening_frames if from_start else step_frames) == 0:
                # the opening, transcribed every half second, is where a known menu is
                # recognised; later, the last few seconds every second: enough to hear "for
                # prescription refills, press 2", cheap and quick however long the menu is
                if from_start and time.monotonic() - frame.t > s.replay_opening_step_s:
                    continue  # behind the call (a slow transcription): catch up first
                text = self._transcribe(np.concatenate(frames[-window_frames:]))
                if text and not self._closed.is_set():
                    self.session._inbox.put(("replay_heard", (text, seq, from_start)))

    def _transcribe(self, audio: np.ndarray) -> str:
        try:
            stt = self.session._stt
            if stt is None:
                from engine.audio.analyzer import shared_stt

                stt = self.session._stt = shared_stt()
            return transcribe_partial(stt, audio)  # a few seconds: the quick path
        except Exception as exc:
            log.info("replay could not transcribe (%s); verifying by transcript", exc)
            self.gave_up = True
            return ""
