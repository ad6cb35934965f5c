"""The benchmark's latency yardstick: when a person's own words first allow a decision."""

import sys
from pathlib import Path

from engine.audio.call_state import DetectorSettings
from engine.speech.tts import synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from words_floor import floor, word_times  # noqa: E402

S = DetectorSettings()


def test_a_greeting_allows_a_decision_at_the_name_and_later_before_hold(whisper):
    words = word_times(synthesize("Thank you for calling Acme Bank, this is Dana. "
                                  "How can I help you?"), {})  # fmt: skip
    this = next(w for w in words if w[0].strip().lower() == "this")
    on_hold = floor(words, 0.0, S)
    assert on_hold is not None and this[2] <= on_hold.t < words[-1][2]
    assert on_hold.why.startswith("words of a person") or "opening" in on_hold.why
    direct = floor(words, 0.0, S, on_hold=False)  # bots sound like this before hold
    assert direct is not None and direct.why.startswith("words of a person")
    assert direct.t > on_hold.t + 1.0


def test_words_with_no_cue_wait_for_the_turn_to_end(read_speech, whisper):
    audio, _ = read_speech[1]  # a reader: no greeting
    words = word_times(audio, {})
    got = floor(words, -0.5, S)
    assert got is not None and got.why.startswith("spoke, then waited")
    # words that offer or ask nothing wait longer: music pauses after announcements
    assert got.t == words[-1][2] - 0.5 + S.speech_end_s + S.weak_turn_wait_s
    assert S.weak_turn_wait_s > S.turn_wait_s


def test_a_lone_hello_waits_longer_than_a_turn():
    words = [(" Hello?", 0.0, 0.45)]  # (word, start, end) as word_times gives them
    got = floor(words, 0.0, S)
    assert got is not None and got.t == 0.45 + S.speech_end_s + S.call_out_wait_s
