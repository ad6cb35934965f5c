"""Speech-to-text: the offline default on real recordings, and the HTTP backends against
their documented wire formats, including errors and timeouts."""

import json

import httpx
import numpy as np
import pytest
import respx

from engine.speech.stt import DeepgramSTT, OpenAISTT, SttError, make_stt

from .conftest import wer

PROMPTS = {
    "queue-periodic-announce": "all of our representatives are currently busy please stay on "
    "the line and your call will be answered by the next available representative",
    "queue-thankyou": "thank you for your patience",
}


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_offline_whisper_transcribes_real_prompts_through_a_phone_line(
    name, prompts, line, whisper
):
    text = whisper.transcribe(line(prompts(name)))
    assert wer(PROMPTS[name], text) <= 0.15, text


def test_offline_whisper_transcribes_real_read_speech(read_speech, line, whisper):
    audio, ref = read_speech[1]
    assert wer(ref, whisper.transcribe(line(audio))) <= 0.25


def test_a_final_of_hold_music_or_dead_air_has_no_words(hold_track, line, whisper):
    """A short final takes a 10 s window of its own; in it Whisper hears "you" in music and
    in silence unless its no-speech score is heeded, and the transcript would say so."""
    coffee = hold_track("morning_coffee")
    for clip in (coffee[100 * 16000 : 104 * 16000], np.zeros(2 * 16000, np.int16)):
        assert whisper.transcribe(clip) == ""
        assert whisper.transcribe(line(clip)) == ""


def test_a_short_final_keeps_a_one_word_answer(whisper):
    """The no-speech rule must not swallow a person's short reply (Piper saying it)."""
    from engine.speech.tts import synthesize

    assert "hello" in whisper.transcribe(synthesize("Hello?")).lower()


AUDIO = np.zeros(1600, np.int16)


@respx.mock
def test_openai_compatible_server_posts_multipart_and_reads_text():
    route = respx.post("http://stt.local/v1/audio/transcriptions").mock(
        return_value=httpx.Response(200, json={"text": " Hi, this is Dana. "})
    )
    stt = OpenAISTT(base_url="http://stt.local/v1", api_key="sk-test", model="Systran/tiny")
    assert stt.transcribe(AUDIO) == "Hi, this is Dana."
    req = route.calls.last.request
    assert req.headers["authorization"] == "Bearer sk-test"
    body = req.content
    assert b'name="model"' in body and b"Systran/tiny" in body
    assert b'filename="speech.wav"' in body and b"RIFF" in body


@respx.mock
@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500, text="model crashed"),
        httpx.Response(401, json={"error": {"message": "bad key"}}),
        httpx.Response(200, text="not json"),
    ],
)
def test_openai_compatible_errors_become_stt_error(reply):
    respx.post("http://stt.local/v1/audio/transcriptions").mock(return_value=reply)
    with pytest.raises(SttError):
        OpenAISTT(base_url="http://stt.local/v1").transcribe(AUDIO)


@respx.mock
def test_openai_compatible_timeout_becomes_stt_error():
    respx.post("http://stt.local/v1/audio/transcriptions").mock(
        side_effect=httpx.ReadTimeout("slow")
    )
    with pytest.raises(SttError, match="unreachable"):
        OpenAISTT(base_url="http://stt.local/v1", timeout=0.1).transcribe(AUDIO)


@respx.mock
def test_deepgram_posts_wav_with_token_and_reads_the_first_alternative():
    reply = {"results": {"channels": [{"alternatives": [{"transcript": "you are caller number 4",
                                                         "confidence": 0.98}]}]}}  # fmt: skip
    route = respx.post("https://api.deepgram.com/v1/listen").mock(
        return_value=httpx.Response(200, json=reply)
    )
    assert DeepgramSTT(api_key="dg-key").transcribe(AUDIO) == "you are caller number 4"
    req = route.calls.last.request
    assert req.headers["authorization"] == "Token dg-key"
    assert req.headers["content-type"] == "audio/wav" and req.content[:4] == b"RIFF"
    assert req.url.params["model"] == "nova-2"


@respx.mock
def test_deepgram_errors_become_stt_error():
    respx.post("https://api.deepgram.com/v1/listen").mock(
        return_value=httpx.Response(200, content=json.dumps({"results": {}}).encode())
    )
    with pytest.raises(SttError):
        DeepgramSTT(api_key="k").transcribe(AUDIO)


def test_unknown_backend_name_is_a_clear_error():
    with pytest.raises(ValueError, match="whisper, openai, deepgram"):
        make_stt("watson")
