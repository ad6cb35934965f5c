"""The liveness check: say a short phrase into the call and watch how the far end reacts.

Why: text and turn-taking need whole words or a whole sentence, so a person whose
greeting names nobody ("Hello, Acme Bank...") is heard late. A person who hears someone
talk over them stops within a few hundred milliseconds and waits; a recording keeps playing.
So, while an unknown voice is talking, we say "Hi, one moment please" and call it a person
only if the voice stops *because* we spoke: the silence must begin in the reaction window
(after our voice can have reached them, before we finish), last longer than any pause found
inside a recording (≈0.46 s at most, measured on the corpus; we wait 1.0 s), and no music
may come back in it; and the words so far must hold something of a person (a greeting, a
question) and nothing of a recording, because a recording can end inside the window with
soft hold music after it that reads as silence (the benchmark met one). Anything else
(talking on over us, a pause before our voice arrived, music, the window passing) proves
nothing either way and leaves the other rules to decide.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.audio.frame_classifier import Label

PHRASE = "Hi, one moment please."


@dataclasses.dataclass(slots=True)
class LivenessSettings:
    phrase: str = PHRASE
    after_speech_s: float = 0.8  # a voice this old (fingerprinted, one partial heard) is probed
    react_min_s: float = 0.2  # our voice's round trip plus the quickest human reaction
    react_max_s: float = 1.2  # a stop later than this is not a reaction to us
    quiet_s: float = 1.0  # the stop must last this long: 2× the longest pause in a recording
    # each unknown voice is checked once; a person often follows an announcement closely,
    # so a check of that announcement must not stop the person's own
    every_s: float = 4.0


@dataclasses.dataclass(slots=True)
class LivenessProbe:
    """One check, fed every frame's smoothed label after we asked to speak at ``said_at``."""

    said_at: float
    phrase_s: float
    s: LivenessSettings
    stop_at: float | None = None  # start of the current non-speech run
    stop_valid: bool = False  # ... and it began inside the reaction window
    music_s: float = 0.0
    text_asked: bool = False  # the words up to the stop were sent to speech-to-text
    verdict: str = ""  # "" pending, "stopped" (a person), or why it proves nothing

    @property
    def ends_at(self) -> float:
        return self.said_at + self.phrase_s

    def update(self, t: float, label: Label) -> str:
        """Returns the verdict once known ("stopped" means: a person yielded to us)."""
        if self.verdict:
            return self.verdict
        if label in (Label.MUSIC, Label.TONE, Label.RINGBACK):
            # a word's onset can read as music for a frame or three (the voice detector
            # lags): only sustained music fails the check, but no music counts as quiet
            self.music_s += 0.02
            self.stop_at, self.stop_valid = None, False
            if self.music_s >= 0.3:
                self.verdict = "music or tones came back"
        elif label == Label.SPEECH:
            self.stop_at, self.stop_valid = None, False
            if t - self.said_at > self.s.react_max_s + 0.02:
                self.verdict = "kept talking over us"
        else:
            if self.stop_at is None:
                since = t - self.said_at
                self.stop_at = t
                self.stop_valid = (
                    self.s.react_min_s <= since <= self.s.react_max_s and t < self.ends_at
                )
            if self.stop_valid and t - self.stop_at >= self.s.quiet_s:
                self.verdict = "stopped"
            elif not self.stop_valid and t - self.said_at > self.s.react_max_s:
                self.verdict = "no stop inside the reaction window"
        return self.verdict

    def evidence(self) -> dict[str, Any]:
        return {
            "said_at": round(self.said_at, 3),
            "phrase_s": round(self.phrase_s, 2),
            "stopped_after_s": (
                None if self.stop_at is None else round(self.stop_at - self.said_at, 2)
            ),
            "quiet_s": self.s.quiet_s,
            "verdict": self.verdict,
        }
