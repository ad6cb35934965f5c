"""One call's walk through a company's node graph.

Pure Python with no pjsua2: the SIP layer feeds it digits and clock ticks and gives it a
:class:`CallMedia` to play into the call, so the whole IVR behaviour can be unit-tested with a
fake clock. Timers belong to the node being visited: entering a node cancels the previous
node's timers, so a late prompt-end can never act on the wrong node.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from engine.simulator.company import (
    AgentNode,
    AnyNode,
    Company,
    HoldNode,
    InputNode,
    MenuNode,
)
from engine.simulator.ground_truth import GroundTruthLog
from engine.simulator.prompts import Prompt, RenderedPrompt

DUPLICATE_WINDOW_S = 0.6  # same key by another method within this is the same press


class CallMedia(Protocol):
    def play(self, prompt: RenderedPrompt) -> None:
        """Stop whatever plays and play ``prompt`` once."""

    def play_music(self, path: Path) -> None:
        """Stop whatever plays and loop ``path`` (resuming where it paused)."""

    def stop(self) -> None:
        """Silence."""

    def start_recording(self) -> None:
        """Record the caller (if the simulator was asked to)."""

    def hangup(self, reason: str) -> None:
        """End the call from the company's side."""


class CallFlow:
    def __init__(
        self,
        company: Company,
        call: int,
        media: CallMedia,
        log: GroundTruthLog,
        render: Callable[[Prompt], RenderedPrompt],
        clock: Callable[[], float],
        rng: random.Random,
        hold_seconds: float | None = None,
    ) -> None:
        self.company = company
        self.call = call
        self.media = media
        self.log = log
        self.render = render
        self.clock = clock
        self.rng = rng
        self.hold_seconds = hold_seconds
        self.node: AnyNode | None = None
        self.ended = False
        self._gen = 0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._retries = 0
        self._collected = ""
        self._prompt_playing = False
        self._offer_made = False
        self._recent: list[tuple[str, str, float]] = []  # (digit, method, t)

    # --- inputs from the SIP layer -----------------------------------------------------

    def start(self) -> None:
        if self.company.greeting:
            self.node = None
            self._play(self.company.greeting, lambda: self.enter(self.company.start))
        else:
            self.enter(self.company.start)

    def tick(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        while not self.ended:
            due = [t for t in self._timers if t[0] <= now and t[1] == self._gen]
            self._timers = [t for t in self._timers if t[1] == self._gen and t not in due]
            if not due:
                return
            due.sort(key=lambda t: t[0])
            when, gen, fn = due[0]
            self._timers += due[1:]
            fn()

    def digit(self, digit: str, method: str, t: float | None = None) -> bool:
        """A key press from the caller; returns False when it duplicates one just logged by
        another method (a phone that sends both RFC 2833 and in-band tones)."""
        t = self.clock() if t is None else t
        self._recent = [r for r in self._recent if t - r[2] < DUPLICATE_WINDOW_S]
        if any(d == digit and m != method for d, m, _ in self._recent):
            return False
        self._recent.append((digit, method, t))
        node_id = self.node.id if self.node else None
        self._log("digit", t=t, digit=digit, method=method, node=node_id)
        if not self.ended:
            self._on_digit(digit)
        return True

    @property
    def listening(self) -> bool:
        """A speech menu is waiting for the caller to say something (during its prompt too:
        a caller who knows the menu may talk over it)."""
        return isinstance(self.node, MenuNode) and bool(self.node.speech) and not self.ended

    def speech(self, text: str, t: float | None = None) -> None:
        """What the caller said, transcribed: a phrase of the speech menu takes the caller to
        its node; anything else is an invalid answer, as a wrong key would be."""
        from engine.simulator.speech_input import match_phrase

        node = self.node
        if not isinstance(node, MenuNode) or not node.speech or self.ended:
            return
        target = match_phrase(node.speech, text)
        self._log("speech", t=t, text=text, node=node.id, matched=target)
        if self._retries >= node.max_retries:
            return
        self._gen += 1  # barge in: stop the prompt and its timers
        if target is not None:
            self.enter(target)
        else:
            self._log("invalid", node=node.id, said=text)
            self._retry(node.invalid)

    def caller_hung_up(self, reason: str) -> None:
        if not self.ended:
            self.ended = True
            self._log("hangup", by="caller", reason=reason,
                           node=self.node.id if self.node else None)

    def _log(self, event: str, t: float | None = None, **fields: object) -> None:
        self.log.write(event, self.call, t=self.clock() if t is None else t, **fields)

    # --- timers and playback ----------------------------------------------------------------

    def _after(self, seconds: float, fn: Callable[[], None]) -> None:
        self._timers.append((self.clock() + seconds, self._gen, fn))

    def _play(self, prompt: Prompt, then: Callable[[], None] | None = None) -> RenderedPrompt:
        rendered = self.render(prompt)
        self.media.play(rendered)
        self._prompt_playing = True

        def done() -> None:
            self._prompt_playing = False
            if then is not None:
                then()

        self._after(rendered.duration, done)
        return rendered

    def _hangup(self, reason: str, prompt: Prompt | None = None) -> None:
        def bye() -> None:
            if self.ended:
                return
            self.ended = True
            self._log("hangup", by="simulator", reason=reason,
                           node=self.node.id if self.node else None)
            self.media.hangup(reason)

        if prompt is not None:
            self._gen += 1
            self._play(prompt, bye)
        else:
            bye()

    # --- nodes --------------------------------------------------------------------------------

    def enter(self, node_id: str) -> None:
        node = self.company.nodes[node_id]
        self._gen += 1
        self.node = node
        self._retries = 0
        self._collected = ""
        self._offer_made = False
        self._prompt_playing = False
        self._log("node", node=node.id, kind=node.kind)
        if isinstance(node, MenuNode | InputNode):
            self._ask()
        elif isinstance(node, HoldNode):
            self._enter_hold(node)
        elif isinstance(node, AgentNode):
            self._enter_agent(node)
        else:
            self._hangup(f"node:{node.id}", node.prompt)

    def _ask(self) -> None:
        node = self.node
        assert isinstance(node, MenuNode | InputNode)
        self._gen += 1
        self._collected = ""
        self._play(node.prompt, lambda: self._after(node.timeout, self._on_timeout))

    def _retry(self, prompt: Prompt | None) -> None:
        node = self.node
        assert isinstance(node, MenuNode | InputNode)
        self._retries += 1
        if self._retries >= node.max_retries:
            self._hangup("max_retries", node.goodbye)
            return
        self._gen += 1
        if prompt is None:
            self._ask()
        else:
            self._play(prompt, self._ask)

    def _on_timeout(self) -> None:
        node = self.node
        assert isinstance(node, MenuNode | InputNode)
        if isinstance(node, InputNode) and self._collected:
            if node.digits is not None and len(self._collected) == node.digits:
                self._input_done()  # the caller stopped at the right length without the key
                return
        self._log("timeout", node=node.id)
        self._retry(None)

    def _on_digit(self, digit: str) -> None:
        node = self.node
        if node is None:  # during the company greeting: skip to the first node, keep the key
            self.enter(self.company.start)
            node = self.node
            if not isinstance(node, MenuNode | InputNode):
                return
        if isinstance(node, MenuNode):
            if self._retries >= node.max_retries:
                return  # already saying goodbye
            self._gen += 1  # barge in: stop the prompt and its timers
            if digit in node.options:
                self.enter(node.options[digit])
            else:
                self._log("invalid", node=node.id, digit=digit)
                self._retry(node.invalid)
        elif isinstance(node, InputNode):
            self._on_input_digit(node, digit)
        elif isinstance(node, HoldNode):
            offer = node.callback_offer
            if offer and self._offer_made and digit == offer.digit:
                self._log("callback_accepted", node=node.id, digit=digit)
                self.enter(offer.next)

    def _on_input_digit(self, node: InputNode, digit: str) -> None:
        if self._retries >= node.max_retries:
            return
        if self._prompt_playing:
            self.media.stop()
            self._prompt_playing = False
        self._gen += 1
        if digit == node.terminator:
            if not self._collected or (
                node.digits is not None and len(self._collected) != node.digits
            ):
                self._log("invalid", node=node.id, digit=digit,
                               value=self._collected)
                self._retry(node.invalid)
            else:
                self._input_done()
            return
        self._collected += digit
        if node.terminator is None and len(self._collected) == node.digits:
            self._input_done()
        else:
            self._after(node.timeout, self._on_timeout)

    def _input_done(self) -> None:
        node = self.node
        assert isinstance(node, InputNode)
        self._log("input", node=node.id, value=self._collected)
        self.enter(node.next)

    def _enter_hold(self, node: HoldNode) -> None:
        if self.hold_seconds is not None:
            duration = self.hold_seconds
        else:
            duration = self.rng.uniform(*node.duration)
        self._log("hold_duration", node=node.id, seconds=round(duration, 3))
        if node.prompt is not None:
            self._play(node.prompt, lambda: self.media.play_music(node.music))
        else:
            self.media.play_music(node.music)
        self._after(duration, lambda: self.enter(node.next))
        if node.announcements:
            self._schedule_announcement(node, 0, node.first_announcement)
        offer = node.callback_offer
        if offer is not None and offer.after < duration:
            def make_offer() -> None:
                self._offer_made = True
                self._log("callback_offer", node=node.id, digit=offer.digit,
                               prompt=offer.prompt.label)
                self._play(offer.prompt, lambda: self.media.play_music(node.music))

            self._after(offer.after, make_offer)

    def _schedule_announcement(self, node: HoldNode, index: int, delay: float) -> None:
        def announce() -> None:
            prompt = node.announcements[index % len(node.announcements)]
            if self._prompt_playing:  # the callback offer is speaking: try again shortly
                self._after(1.0, announce)
                return
            self._log("announcement", node=node.id, index=index,
                           prompt=prompt.label)
            self._play(prompt, lambda: self.media.play_music(node.music))
            self._schedule_announcement(node, index + 1, node.announce_every)

        self._after(delay, announce)

    def _enter_agent(self, node: AgentNode) -> None:
        self.media.stop()

        def listen() -> None:
            self.media.start_recording()
            self._after(node.max_seconds, lambda: self._hangup("agent_max_seconds"))

        rendered = self._play(node.greeting, listen)
        # media.play() has connected the player to the call: the person starts talking now.
        self._log("agent_speaking", node=node.id, agent=node.agent_name,
                  text=node.greeting.text, duration=round(rendered.duration, 3),
                  voice_after=round(rendered.lead_silence, 3))
