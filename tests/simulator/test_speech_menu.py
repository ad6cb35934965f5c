"""Speech menus in the simulator: a company YAML can list phrases the caller says instead of
keys; what the caller says is cut into utterances and matched to a phrase, as a real
speech IVR would (fake clock, fake media, a fake transcriber: no Whisper here)."""

from __future__ import annotations

import time

import numpy as np

from engine.simulator.speech_input import SpeechInput, match_phrase
from tests.simulator.test_call_flow import Harness

SPEECH_CO = """
name: Talkative Telco
number: "+1 800 555 0199"
nodes:
  main:
    type: menu
    prompt: {say: "You can say billing, technical support, or new service."}
    speech: {billing: billing_q, technical support: tech_q, new service: sales_q}
  billing_q: {type: hold, music: moh:macroform-the_simplicity, duration: 5, next: bye}
  tech_q: {type: hold, music: moh:macroform-the_simplicity, duration: 5, next: bye}
  sales_q: {type: hold, music: moh:macroform-the_simplicity, duration: 5, next: bye}
  bye: {type: hangup}
"""


def test_saying_a_phrase_reaches_its_node(tmp_path):
    h = Harness(SPEECH_CO, tmp_path)
    h.flow.start()
    assert h.flow.listening
    h.advance(0.5)
    h.flow.speech("Technical support.")  # said over the prompt: a caller who knows it
    assert h.nodes() == ["main", "tech_q"]
    assert h.events("speech")[0]["matched"] == "tech_q"
    assert not h.flow.listening


def test_an_unknown_phrase_is_an_invalid_answer(tmp_path):
    h = Harness(SPEECH_CO, tmp_path)
    h.flow.start()
    h.flow.speech("I'd like a pizza")
    assert h.events("invalid")[0]["said"] == "I'd like a pizza"
    assert h.nodes() == ["main"]


def test_phrases_match_whole_words_the_longest_first():
    phrases = {"billing": "b", "technical support": "t", "support": "s"}
    assert match_phrase(phrases, "uh, technical support please") == "t"
    assert match_phrase(phrases, "Billing.") == "b"
    assert match_phrase(phrases, "technical") is None


def _tone(seconds: float, amp: int = 3000) -> list[np.ndarray]:
    t = np.arange(int(seconds * 16000)) / 16000
    pcm = (amp * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return [pcm[i: i + 320] for i in range(0, len(pcm), 320)]


def test_utterances_are_cut_at_silence_and_transcribed_off_the_loop():
    heard = []
    speech = SpeechInput(lambda audio: heard.append(len(audio)) or "billing")
    t = 0.0
    frames = _tone(0.1, 0) + _tone(0.8) + _tone(1.0, 0) + _tone(0.1)  # a click: too short
    for f in frames + _tone(1.0, 0):
        speech.feed(f, t)
        t += 0.02
    results = []
    for _ in range(200):
        results += speech.results()
        if results:
            break
        time.sleep(0.01)
    speech.close()
    assert len(heard) == 1 and 0.8 * 16000 <= heard[0] <= 1.5 * 16000
    assert [text for text, _ in results] == ["billing"]
