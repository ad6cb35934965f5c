"""A simulator company (the same YAML, the same rules as ``engine.simulator.call_flow``)
heard as transcripts on the bus instead of audio over SIP: the navigator's whole loop —
endpointing, keys, repeats, data prompts, the stop at the queue — in milliseconds.

It stands in for the SIP engine (``send_dtmf`` / ``play_pcm`` / ``tap``) and for the audio
analyzer (TRANSCRIPT_CHUNK, AUDIO_LEVEL, HOLD_DETECTED, HUMAN_DETECTED)."""

from __future__ import annotations

import random
import re
import threading
from concurrent.futures import Future
from pathlib import Path

from engine.events import EventBus, EventType
from engine.simulator.company import (
    AgentNode,
    HangupNode,
    HoldNode,
    InputNode,
    MenuNode,
    load_company,
)
from engine.simulator.speech_input import match_phrase

_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
          "6": "six", "7": "seven", "8": "eight", "9": "nine"}


def whisperish(text: str, rng: random.Random) -> str:
    """What speech-to-text makes of a prompt: digits as words sometimes, commas lost,
    sentences run together."""
    text = re.sub(r"\b(press|dial|enter) (\d)\b",
                  lambda m: f"{m.group(1)} {_WORDS[m.group(2)]}" if rng.random() < 0.4
                  else m.group(0), text)
    if rng.random() < 0.5:
        text = text.replace(",", "")
    return text


class _TextTts:
    """Speech synthesis for a text IVR: the words themselves."""

    def synthesize(self, text: str, sample_rate: int = 16000) -> str:
        return text


class TextIvr:
    def __init__(self, company: str | Path, bus: EventBus, call_id: str = "c1", *,
                 drop: int = 0, seed: int | None = None, split_at: str | None = None) -> None:
        self.company = load_company(company)
        self.bus = bus
        self.call_id = call_id
        self.drop = drop  # ignore this many RFC 2833 digits (the far end did not hear them)
        self.rng = random.Random(seed) if seed is not None else None
        self.split_at = split_at  # speak a menu in two transcripts, split before this text
        self.t = 0.0
        self.node = None
        self.visited: list[str] = []
        self.keys: list[tuple[str, str]] = []
        self.spoken: list[str] = []
        self._collected = ""
        self._lock = threading.Lock()
        self.said: list[str] = []
        self.tts = _TextTts()  # give it to the session: what it says arrives as text

    # -- the engine's face ---------------------------------------------------------------
    def send_dtmf(self, call_id: str, digits: str, method: str | None = None,
                  private: bool = False, source: str = "user") -> Future:
        for d in digits:
            if d == ",":
                continue
            with self._lock:
                self.keys.append((d, method or "rfc2833"))
                if self.drop and (method or "rfc2833") == "rfc2833":
                    self.drop -= 1
                    self._say_node()  # the menu timed out and plays again
                    continue
                self._digit(d)
        with self._lock:
            node = self.node
            if isinstance(node, InputNode) and node.digits and len(self._collected) == \
                    node.digits:
                self._enter(node.next)  # the input timed out at the right length: accepted
        fut: Future = Future()
        fut.set_result([(d, method or "rfc2833") for d in digits])
        return fut

    def play_pcm(self, call_id: str, pcm: object) -> Future:
        """With :attr:`tts` the "audio" is the text said: a speech menu hears it."""
        if isinstance(pcm, str):
            with self._lock:
                self.said.append(pcm)
                node = self.node
                if isinstance(node, MenuNode) and node.speech:
                    target = match_phrase(node.speech, pcm)
                    if target is not None:
                        self._enter(target)
                    else:
                        self._say(node.invalid.text + " " + node.prompt.text)
        fut: Future = Future()
        fut.set_result(True)
        return fut

    def tap(self, call_id: str, direction: str = "remote") -> object:
        raise RuntimeError("no audio in a text IVR")

    # -- the company ---------------------------------------------------------------------
    def start(self) -> TextIvr:
        self.bus.emit(EventType.CALL_ANSWERED, self.call_id)
        with self._lock:
            if self.company.greeting is not None:
                self._say(self.company.greeting.text)
            self._enter(self.company.start)
        return self

    @property
    def reached(self) -> str | None:
        return self.visited[-1] if self.visited else None

    def _say(self, text: str, *, level_after: bool = True) -> None:
        if self.rng is not None:
            text = whisperish(text, self.rng)
        parts = [text]
        if self.split_at and self.split_at in text:
            i = text.index(self.split_at)
            parts = [text[:i], text[i:]]
        for n, part in enumerate(parts):
            start = self.t
            end = start + 0.3 * len(part.split())
            more = n + 1 < len(parts)
            # the line after this transcript: speech again (the menu goes on) or quiet
            self.bus.emit(EventType.AUDIO_LEVEL, self.call_id, t=round(end + 0.6, 3),
                          label="speech" if more else "silence")
            self.bus.emit(EventType.TRANSCRIPT_CHUNK, self.call_id, text=part.strip(),
                          start=round(start, 3), end=round(end, 3), final=True)
            self.spoken.append(part.strip())
            self.t = end + 0.7

    def _say_node(self) -> None:
        node = self.node
        if isinstance(node, MenuNode | InputNode):
            self._say(node.prompt.text)

    def _enter(self, node_id: str) -> None:
        node = self.company.nodes[node_id]
        self.node = node
        self.visited.append(node_id)
        self._collected = ""
        if isinstance(node, MenuNode | InputNode):
            self._say(node.prompt.text)
        elif isinstance(node, HoldNode):
            if node.prompt is not None:
                self._say(node.prompt.text)
            self.bus.emit(EventType.HOLD_DETECTED, self.call_id, evidence={}, confidence=0.9)
        elif isinstance(node, AgentNode):
            self.bus.emit(EventType.HUMAN_DETECTED, self.call_id, evidence={}, confidence=0.9)
        elif isinstance(node, HangupNode):
            self.bus.emit(EventType.CALL_ENDED, self.call_id, reason="company hung up")

    def _digit(self, d: str) -> None:
        node = self.node
        if isinstance(node, MenuNode):
            if d in node.options:
                self._enter(node.options[d])
            else:
                self._say(node.invalid.text + " " + node.prompt.text)
        elif isinstance(node, InputNode):
            if d == node.terminator:
                if not self._collected or (node.digits and len(self._collected) != node.digits):
                    self._collected = ""
                    self._say(node.invalid.text + " " + node.prompt.text)
                else:
                    self._enter(node.next)
                return
            self._collected += d
            if node.terminator is None and len(self._collected) == node.digits:
                self._enter(node.next)
