"""The in-band DTMF detector on generated tones, and on real hold music and recorded speech
(Debian asterisk-moh-opsound-wav and asterisk-core-sounds-en-wav) where it must hear nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.simulator.audio_files import read_wav, resample
from engine.simulator.inband_dtmf import InbandDtmfDetector, dtmf_tone

KEYS = "0123456789*#ABCD"
MOH = sorted(Path("/usr/share/asterisk/moh").glob("*.wav"))
SPEECH = sorted(Path("/usr/share/asterisk/sounds/en_US_f_Allison").rglob("*.wav"))


def detect(pcm: np.ndarray, det: InbandDtmfDetector | None = None) -> str:
    det = det or InbandDtmfDetector()
    out = []
    for k in range(0, pcm.size, 320):  # 20 ms frames, as the bridge delivers them
        out += [d for d, _ in det.feed(pcm[k : k + 320])]
    return "".join(out)


def sequence(digits: str, tone_ms: float, gap_ms: float, level: float = -10.0,
             lead_samples: int = 0) -> np.ndarray:
    parts = [np.zeros(lead_samples, np.int16)]
    for d in digits:
        parts += [dtmf_tone(d, tone_ms / 1000, level_dbfs=level),
                  np.zeros(int(16 * gap_ms), np.int16)]
    return np.concatenate(parts)


@pytest.mark.parametrize("key", list(KEYS))
def test_each_key(key: str) -> None:
    assert detect(sequence(key, 100, 100)) == key


@pytest.mark.parametrize("lead", [0, 37, 80, 159, 233])
def test_50ms_tones_50ms_gaps_at_any_alignment(lead: int) -> None:
    assert detect(sequence("1234567890*#", 50, 50, lead_samples=lead)) == "1234567890*#"


def test_quiet_and_noisy_tones() -> None:
    rng = np.random.default_rng(1)
    x = sequence("9081726354", 60, 60, level=-30).astype(np.float64)
    x += rng.normal(0, np.sqrt(np.mean(x**2)) / 10 ** (15 / 20), x.size)  # 15 dB SNR
    assert detect(x.astype(np.int16)) == "9081726354"


def test_repeats_need_a_gap_between_them() -> None:
    held = dtmf_tone("5", 0.5)  # one long press is one digit
    assert detect(held) == "5"
    assert detect(sequence("55", 80, 60)) == "55"
    blip = np.zeros(16 * 10, np.int16)  # a 10 ms dropout inside a press is not a new press
    assert detect(np.concatenate([dtmf_tone("5", 0.1), blip, dtmf_tone("5", 0.1)])) == "5"


def test_onset_time_is_where_the_tone_starts() -> None:
    det = InbandDtmfDetector()
    x = np.concatenate([np.zeros(16000, np.int16), dtmf_tone("7", 0.08)])
    found = []
    for k in range(0, x.size, 320):
        found += det.feed(x[k : k + 320])
    assert [d for d, _ in found] == ["7"]
    assert abs(found[0][1] - 1.0) <= 0.015


def test_too_short_a_blip_is_not_a_digit() -> None:
    assert detect(sequence("3", 20, 100)) == ""


def _as_bridge_audio(path: Path) -> np.ndarray:
    pcm, rate = read_wav(path)
    return resample(pcm, rate, 16000)


@pytest.mark.skipif(not MOH, reason="asterisk-moh-opsound-wav is not installed")
def test_no_digits_in_real_hold_music() -> None:
    for path in MOH:
        assert detect(_as_bridge_audio(path)) == "", path.name


@pytest.mark.skipif(not SPEECH, reason="asterisk-core-sounds-en-wav is not installed")
def test_no_digits_in_real_recorded_speech() -> None:
    falses = {p.name: d for p in SPEECH if (d := detect(_as_bridge_audio(p)))}
    assert falses == {}


@pytest.mark.skipif(not MOH, reason="asterisk-moh-opsound-wav is not installed")
def test_tones_over_music_still_heard() -> None:
    music = _as_bridge_audio(MOH[0])[: 16000 * 3].astype(np.float64) * 0.1  # ~-30 dB bed
    tones = sequence("2580", 80, 80, level=-10, lead_samples=8000).astype(np.float64)
    mix = music[: tones.size] + tones[: music.size]
    assert detect(np.clip(mix, -32768, 32767).astype(np.int16)) == "2580"


def _bent(key: np.ndarray, digit: str, bent_s: float = 0.08, down_db: float = 12.0
          ) -> np.ndarray:  # fmt: skip
    """``key`` as a receiver concealing a stalled sender delivered it (measured on loopback
    calls): for its first ``bent_s`` one of its two frequencies ``down_db`` lower."""
    from engine.sip import dtmf

    n = min(key.size, int(16000 * bent_s))
    t = np.arange(n) / 16000
    amp = 10 ** (-9.0 / 20) * 32767 / 2  # the level dtmf.tone sends
    high = amp * np.sin(2 * np.pi * dtmf._HIGH[digit] * t)
    out = key.astype(np.float64)
    out[:n] -= high * (1 - 10 ** (-down_db / 20))
    return np.concatenate([out.astype(np.int16), np.zeros(3200, np.int16)])


def test_a_key_we_send_in_band_survives_a_bent_opening() -> None:
    """On a busy machine the receiver heard our 100 ms key's first 80 ms with its high tone
    12 dB down, and no key at all: too little clean tone was left. The key we send now is
    long enough to be heard through it."""
    from engine.sip.dtmf import tone

    assert detect(_bent(tone("1"), "1")) == "1"
    assert detect(_bent(tone("1", duration=0.1), "1")) == ""  # the old length
