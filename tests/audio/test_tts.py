"""Text-to-speech: what we say into a call must be understood by a speech recogniser."""

import io
import wave

import httpx
import numpy as np
import pytest
import respx

from engine.speech.tts import FallbackTTS, FliteTTS, OpenAITTS, PiperTTS, TtsError, synthesize

from .conftest import wer

LINE = "Hi, one moment please, connecting you now."


def test_default_voice_is_understood_through_a_phone_line(line, whisper):
    audio = synthesize(LINE, sample_rate=16000)
    assert audio.dtype == np.int16 and 1.5 < len(audio) / 16000 < 6
    assert wer(LINE, whisper.transcribe(line(audio))) <= 0.2


def test_flite_fallback_is_understood(whisper):
    audio = FliteTTS("slt").synthesize(LINE, 16000)
    assert wer(LINE, whisper.transcribe(audio)) <= 0.35


def test_speech_comes_at_the_rate_asked_for():
    a16 = PiperTTS().synthesize("Billing.", 16000)
    a8 = PiperTTS().synthesize("Billing.", 8000)
    assert abs(len(a16) / 16000 - len(a8) / 8000) < 0.01


def test_fallback_speaks_with_the_next_backend_when_one_fails():
    tts = FallbackTTS([FliteTTS(binary="no-such-flite"), FliteTTS("kal")])
    assert len(tts.synthesize("Billing.", 16000)) > 1600


def _wav(rate: int, seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(np.arange(int(rate * seconds)) / 5) * 8000).astype("<i2").tobytes())
    return buf.getvalue()


@respx.mock
def test_openai_compatible_speech_is_resampled_to_the_call_rate():
    route = respx.post("http://tts.local/v1/audio/speech").mock(
        return_value=httpx.Response(200, content=_wav(24000, 1.0))
    )
    audio = OpenAITTS(base_url="http://tts.local/v1", api_key="k", voice="nova").synthesize(
        "Billing", 8000
    )
    assert len(audio) == 8000
    sent = route.calls.last.request
    assert b'"voice":"nova"' in sent.content.replace(b" ", b"")
    assert b'"response_format":"wav"' in sent.content.replace(b" ", b"")


@respx.mock
@pytest.mark.parametrize(
    "mock",
    [
        {"return_value": httpx.Response(503, text="busy")},
        {"return_value": httpx.Response(200, content=b"not a wav")},
        {"side_effect": httpx.ConnectTimeout("down")},
    ],
)
def test_openai_compatible_speech_errors_become_tts_error(mock):
    respx.post("http://tts.local/v1/audio/speech").mock(**mock)
    with pytest.raises(TtsError):
        OpenAITTS(base_url="http://tts.local/v1").synthesize("Billing", 16000)
