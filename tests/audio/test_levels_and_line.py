import numpy as np

from engine.audio.g711 import ulaw_decode, ulaw_encode, ulaw_roundtrip
from engine.audio.levels import FLOOR_DBFS, frame_levels
from engine.audio.resample import resample


def _sine(hz: float, amp: float, n: int = 320, rate: int = 16000) -> np.ndarray:
    t = np.arange(n) / rate
    return np.round(amp * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_full_scale_sine_reads_minus_3_dbfs_rms_and_0_peak():
    rms, peak = frame_levels(_sine(1000, 1.0))
    assert abs(rms + 3.01) < 0.1
    assert abs(peak) < 0.1


def test_quieter_signal_reads_proportionally_lower():
    rms_loud, _ = frame_levels(_sine(1000, 1.0))
    rms_quiet, _ = frame_levels(_sine(1000, 0.01))
    assert abs((rms_loud - rms_quiet) - 40.0) < 0.2


def test_digital_silence_reads_the_floor_not_minus_infinity():
    assert frame_levels(np.zeros(320, np.int16)) == (FLOOR_DBFS, FLOOR_DBFS)


def test_ulaw_roundtrip_keeps_speech_level_audio_close():
    x = _sine(440, 0.3, 8000, 8000)
    y = ulaw_roundtrip(x)
    snr = 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((x - y.astype(float)) ** 2))
    assert snr > 30  # G.711 gives ~38 dB on a loud tone
    assert ulaw_encode(np.array([0], np.int16))[0] == 0xFF  # the standard's code for zero
    assert ulaw_decode(np.array([0xFF], np.uint8))[0] == 0


def test_resample_keeps_pitch_and_length():
    x = _sine(1000, 0.5, 8000, 8000)  # 1 s at 8 kHz
    y = resample(x, 8000, 16000)
    assert len(y) == 16000 and y.dtype == np.int16
    spec = np.abs(np.fft.rfft(y.astype(float)))
    assert abs(np.argmax(spec) * 16000 / len(y) - 1000) < 2
