"""A reproducible corpus of whole synthetic calls built from real recordings, with ground
truth, for measuring the detector honestly.

Each call: ringback → a menu (real Asterisk prompts or synthesised) → hold music (real
tracks) interrupted or ducked by announcements repeating at realistic intervals (real queue
prompts, synthesised "your call is important", queue positions, callback offers) → a person
(real read speech from pocketsphinx-testdata, or one of several TTS voices saying an
opening) → silence while they wait. The whole call then goes through a phone line: level,
line noise and G.711 μ-law at 8 kHz. Ground truth: when the person starts speaking, and
labelled spans for window accuracy.

Hold music is real instrumental tracks and, in a quarter of the calls, real songs with sung
lyrics; some lines play announcements that open like a person ("Hi there! While you wait...")
in a voice of their own, and some shuffle their announcements.

Splits use disjoint music tracks, songs, voices and openings, so rules tuned on ``tune`` are
reported on ``test``. Everything is drawn from ``random.Random(seed)``; synthesised clips are
cached on disk (never committed) and rebuilt identically when missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.audio import sources
from engine.audio.g711 import ulaw_roundtrip
from engine.audio.resample import resample

RATE = 16000
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "cache"

COMPANIES = ["Acme Bank", "Northwind Telecom", "Blue Sky Airlines", "Contoso Insurance",
             "Globex Energy", "Initech Health", "Umbrella Mobile", "Stark Utilities"]  # fmt: skip

SPLITS = {
    "tune": {
        "music": ["macroform-cold_day", "macroform-robot_dity", "manolo_camp-morning_coffee"],
        "voices": ["piper:1.0", "flite:slt", "flite:kal"],
        "read": ["0870", "0880", "0890"],
        "names": ["Dana", "Sam", "Priya", "Marcus"],
        "openings": [0, 1, 2, 3, 4, 5],
        "extra": [0, 1, 2],
        "songs": ["armygeddon"],
    },
    "test": {
        "music": ["macroform-the_simplicity", "reno_project-system"],
        "voices": ["piper:0.9", "piper:1.15", "flite:awb", "flite:rms", "flite:kal16"],
        "read": ["0920", "0930", "001", "002", "003", "004", "005"],
        "names": ["Alex", "Maria", "Jordan", "Kevin", "Lena"],
        "openings": [0, 2, 4, 6, 7, 8, 9, 10],
        "extra": [3, 4, 5, 6],
        "songs": ["chaos_god", "internal_degeneration"],
    },
}

OPENINGS = [
    "Thank you for calling {co}, this is {name}, how can I help you?",
    "Hi, this is {name}. Who do I have the pleasure of speaking with?",
    "{co} customer service, {name} speaking. How may I help you today?",
    "Hello, thanks for holding. My name is {name}. Can I have your account number please?",
    "Good afternoon, you're speaking with {name}. What can I do for you?",
    "Hello? Hi, sorry about the wait. How can I help?",
    "Thanks for your patience, this is {name} in billing. How can I help you?",
    "Hi there, my name is {name}. Could I get your name please?",
    "Hello, {co}, {name} speaking.",
    "Hello? Are you there?",
    "Good morning, this is {name} with {co}. What can I help you with today?",
]

ANNOUNCEMENTS = [
    "Your call is important to us. Please stay on the line and the next available agent "
    "will be with you shortly.",
    "Thank you for your patience. All of our representatives are still assisting other customers.",
    "We are experiencing higher than normal call volume. We appreciate your patience.",
    "Did you know you can manage your account online at {co} dot com?",
    "To receive a call back instead of waiting on hold, press 1 now. You will not lose your "
    "place in line.",
]
# Hard cases for "a new voice speaks to us": announcements that open like a person (a greeting,
# no recording's words in their first seconds), often in a voice other than the menu's.
EXTRA_ANNOUNCEMENTS = [
    "Hello, and thank you for continuing to hold. A member of our team will be with you soon.",
    "Hi there! While you wait, you can pay your bill any time in our mobile app.",
    "Good afternoon. Our offices will be closed on Monday for the holiday.",
    "Hi, thanks for waiting. Someone from our team will pick up as soon as they can.",
    "Hello! Did you know most questions are answered in our online help center?",
    "Good morning, and thank you for choosing {co}. We'll be right with you.",
    "Please note our new business hours: eight to eight, Monday through Saturday.",
]
POSITION = "You are caller number {n}. The estimated wait time is approximately {m} minutes."
ALLISON_ANNOUNCEMENTS = ["queue-periodic-announce", "queue-thankyou", "queue-youarenext"]
MENU_TTS = (
    "Thank you for calling {co}. This call may be recorded for quality and training purposes. "
    "For billing, press 1. For technical support, press 2. For all other questions, press 3."
)
TRANSFER_TTS = "Please hold while we transfer your call to the next available agent."


@dataclasses.dataclass(frozen=True, slots=True)
class HoldVariant:
    """Hold audio unlike the splits' own, to measure the rules on announcements they were
    never written against: ``announcements`` replace the synthesised ones (both the stock
    pool and the extra one in a voice of its own; ``{co}`` is the company), and ``gap_s``
    is the quiet after each announcement before the music comes back (default 0.2-0.6 s)."""

    announcements: tuple[str, ...] = ()
    gap_s: tuple[float, float] = (0.2, 0.6)


@dataclasses.dataclass(slots=True)
class Span:
    start: float
    end: float
    cls: str  # ringback, silence, music, recorded, human, tone
    what: str = ""


@dataclasses.dataclass(slots=True)
class CorpusCall:
    id: str
    split: str
    audio: np.ndarray  # 16 kHz int16, after the phone line
    human_onset: float | None  # the person's first word, seconds from call start
    hold_start: float | None
    hold_end: float | None
    spans: list[Span]
    meta: dict[str, object]

    @property
    def hold_s(self) -> float:
        if self.hold_start is None or self.hold_end is None:
            return 0.0
        return self.hold_end - self.hold_start


class ClipCache:
    """Synthesised clips keyed by (voice, text), stored as .npy under ``root``."""

    def __init__(self, root: Path = DEFAULT_CACHE) -> None:
        self.root = root
        self._tts: dict[str, object] = {}

    def speech(self, voice: str, text: str) -> np.ndarray:
        key = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()[:16]
        path = self.root / "tts" / f"{key}.npy"
        if path.exists():
            return np.load(path)
        audio = self._synthesize(voice, text)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, audio)
        return audio

    def _synthesize(self, voice: str, text: str) -> np.ndarray:
        from engine.speech.tts import FliteTTS, PiperTTS

        engine, _, arg = voice.partition(":")
        if voice not in self._tts:
            if engine == "piper":
                self._tts[voice] = PiperTTS(length_scale=float(arg or 1.0), noise_scale=0.667)
            elif engine == "flite":
                self._tts[voice] = FliteTTS(arg or "slt")
            else:
                raise ValueError(f"unknown corpus voice {voice!r}")
        return self._tts[voice].synthesize(text, RATE)  # type: ignore[attr-defined]


class _Builder:
    """Appends pieces to a call while recording their spans."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.spans: list[Span] = []
        self.n = 0

    @property
    def t(self) -> float:
        return self.n / RATE

    def add(self, audio: np.ndarray, cls: str, what: str = "") -> float:
        start = self.t
        self.parts.append(audio.astype(np.int16))
        self.n += len(audio)
        if len(audio):
            self.spans.append(Span(start, self.t, cls, what))
        return start

    def silence(self, seconds: float) -> None:
        self.add(np.zeros(int(seconds * RATE), np.int16), "silence")


def _gain(audio: np.ndarray, db: float) -> np.ndarray:
    return np.clip(audio.astype(np.float32) * 10 ** (db / 20), -32768, 32767).astype(np.int16)


def voice_over(voice: np.ndarray, bed: np.ndarray, bed_db: float) -> np.ndarray:
    """``voice`` spoken over ``bed`` (music), the bed ``bed_db`` under the voice's level and
    starting 0.5 s before it: a hold channel's presenter, for probes of the music-bed cue."""

    def level(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))

    out = bed[: len(voice) + RATE].astype(np.float64)
    out *= 10 ** ((level(voice) + bed_db - level(out)) / 20)
    out[RATE // 2 : RATE // 2 + len(voice)] += voice
    return np.clip(out, -32768, 32767).astype(np.int16)


def _onset(audio: np.ndarray, threshold_dbfs: float = -40.0) -> float:
    """Seconds to the first 10 ms whose RMS clears the threshold: the first word."""
    hop = RATE // 100
    n = len(audio) // hop
    frames = audio[: n * hop].astype(np.float32).reshape(n, hop) / 32768
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    hits = np.nonzero(20 * np.log10(rms) > threshold_dbfs)[0]
    return float(hits[0]) * hop / RATE if hits.size else 0.0


def _ringback(cycles: int) -> np.ndarray:
    t = np.arange(RATE * 6) / RATE
    tone = 0.15 * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t))
    tone[int(2 * RATE) :] = 0
    cycle = np.round(tone * 32767).astype(np.int16)
    return np.tile(cycle, cycles)


def build_call(
    seed: int,
    split: str,
    hold_range_s: tuple[float, float],
    cache: ClipCache,
    memory_music: dict[str, np.ndarray] | None = None,
    variant: HoldVariant = HoldVariant(),
) -> CorpusCall:
    """One call, fully determined by (seed, split, hold range, variant)."""
    cfg = SPLITS[split]
    rng = random.Random(f"{split}-{seed}")
    co = rng.choice(COMPANIES)
    company_voice = rng.choice(["allison", *cfg["voices"]])
    b = _Builder()

    # ringing, then the menu and a transfer line
    if rng.random() < 0.7:
        for _ in range(rng.randint(1, 3)):
            cycle = _ringback(1)
            b.add(cycle[: 2 * RATE], "ringback")
            b.add(cycle[2 * RATE :], "silence")
    b.silence(rng.uniform(0.2, 0.8))
    if company_voice == "allison" and rng.random() < 0.6:
        b.add(_gain(sources.load_wav(sources.prompt("basic-pbx-ivr-main")), -2), "recorded", "menu")
    else:
        voice = company_voice if company_voice != "allison" else rng.choice(cfg["voices"])
        b.add(cache.speech(voice, MENU_TTS.format(co=co)), "recorded", "menu")
    b.silence(rng.uniform(1.5, 4.0))
    direct = rng.random() < 0.08  # some lines put a person straight on after the menu
    hold_start = hold_end = None
    if not direct:
        if company_voice == "allison":
            b.add(sources.load_wav(sources.prompt(rng.choice(["pls-hold-while-try",
                                                              "one-moment-please"]))),
                  "recorded", "transfer")  # fmt: skip
        else:
            b.add(cache.speech(company_voice, TRANSFER_TTS), "recorded", "transfer")
        b.silence(rng.uniform(0.3, 1.5))
        hold_start, hold_end = _hold(b, rng, cfg, co, company_voice, hold_range_s, cache,
                                       variant)

    # the person
    b.silence(rng.uniform(0.2, 2.0))
    kind = rng.random()
    if kind < 0.25:
        ident = rng.choice(cfg["read"])
        path = next(p for p, _ in sources.read_speech() if p.stem.endswith(ident))
        clip, what = sources.load_wav(path), f"read:{path.stem}"
    else:
        # a person is not the company's recorded voice (with flite the very same audio)
        voice = rng.choice([v for v in cfg["voices"] if v != company_voice])
        text = OPENINGS[rng.choice(cfg["openings"])].format(co=co, name=rng.choice(cfg["names"]))
        clip, what = cache.speech(voice, text), f"{voice}:{text}"
    clip = _gain(clip, rng.uniform(-8, 0))
    start = b.add(clip, "human", what)
    human_onset = start + _onset(clip)
    b.silence(rng.uniform(3.0, 5.0))  # the person waits for an answer

    audio = np.concatenate(b.parts)
    audio = _line(audio, rng)
    return CorpusCall(
        id=f"{split}-{seed:04d}",
        split=split,
        audio=audio,
        human_onset=human_onset,
        hold_start=hold_start,
        hold_end=hold_end,
        spans=b.spans,
        meta={"company": co, "company_voice": company_voice, "human": what, "direct": direct},
    )


def _hold(
    b: _Builder,
    rng: random.Random,
    cfg: dict,
    co: str,
    company_voice: str,
    hold_range_s: tuple[float, float],
    cache: ClipCache,
    variant: HoldVariant,
) -> tuple[float, float]:
    track = rng.choice(cfg["music"])
    music = _gain(sources.load_wav(sources.MOH_DIR / f"{track}.wav"), rng.uniform(-10, -2))
    pos = rng.randrange(0, len(music) - RATE)
    duration = rng.uniform(*hold_range_s)
    period = rng.uniform(25, 60)
    duck = rng.random() < 0.3  # announcement over quiet music instead of replacing it

    pool: list[tuple[str, str]] = []  # (kind, text or prompt name)
    n_ann = rng.randint(1, 3)
    if company_voice == "allison":
        pool += [("allison", n) for n in rng.sample(ALLISON_ANNOUNCEMENTS, min(n_ann, 3))]
    else:
        texts = list(variant.announcements) or ANNOUNCEMENTS
        pool += [("tts", t.format(co=co)) for t in rng.sample(texts, n_ann)]
    with_position = rng.random() < 0.4
    position = rng.randint(4, 12)
    # drawn from a stream of their own so that adding them left the older calls as they were
    rng2 = random.Random(f"extra-{track}-{pos}-{duration!r}-{period!r}")
    if rng2.random() < 0.4:
        extra = EXTRA_ANNOUNCEMENTS[rng2.choice(cfg["extra"])]  # drawn either way: the
        if variant.announcements:  # rest of the call stays the one without the variant
            extra = rng2.choice(variant.announcements)
        text = extra.format(co=co)
        others = [v for v in cfg["voices"] if v != company_voice]
        voice = rng2.choice(others) if rng2.random() < 0.5 else company_voice
        pool.insert(rng2.randrange(len(pool) + 1), ("extra:" + voice, text))
    if rng2.random() < 0.5:
        rng2.shuffle(pool)  # not every system plays its announcements in one order
    if rng2.random() < 0.25:  # hold music with a singer in it
        music = _gain(sources.song(rng2.choice(cfg["songs"])), rng2.uniform(-10, -2))
        pos = rng2.randrange(0, len(music) - RATE)

    def take_music(seconds: float) -> np.ndarray:
        nonlocal pos
        n = int(seconds * RATE)
        out = np.zeros(n, np.int16)
        k = 0
        while k < n:
            chunk = music[pos : pos + (n - k)]
            out[k : k + len(chunk)] = chunk
            k += len(chunk)
            pos = (pos + len(chunk)) % len(music)
        return out

    start = b.t
    ann_i = 0
    next_ann = rng.uniform(0, 3) if rng.random() < 0.5 else period + rng.uniform(-3, 3)
    while b.t - start < duration:
        gap = max(0.5, min(next_ann, duration - (b.t - start)))
        b.add(take_music(gap), "music")
        if b.t - start >= duration:
            break
        kind, what = pool[ann_i % len(pool)]
        if with_position and ann_i % (len(pool) + 1) == len(pool):
            voice = company_voice if company_voice != "allison" else "piper:1.0"
            text = POSITION.format(n=position, m=position * 2)
            clip, label = cache.speech(voice, text), text
            position = max(1, position - 1)
        elif kind == "allison":
            clip, label = sources.load_wav(sources.prompt(what)), what
        elif kind.startswith("extra:"):
            voice = kind.partition(":")[2]
            voice = voice if voice != "allison" else "piper:1.0"
            clip, label = cache.speech(voice, what), what
        else:
            clip, label = cache.speech(company_voice, what), what
        ann_i += 1
        if duck:
            bed = _gain(take_music(len(clip) / RATE + 0.6), -18)
            mix = bed.astype(np.int32)
            mix[int(0.3 * RATE) : int(0.3 * RATE) + len(clip)] += clip
            b.add(np.clip(mix, -32768, 32767).astype(np.int16), "recorded", label)
        else:
            b.silence(rng.uniform(0.2, 0.6))
            b.add(clip, "recorded", label)
            b.silence(rng.uniform(*variant.gap_s))
        next_ann = period + rng.uniform(-3, 3)
    return start, b.t


def _line(audio: np.ndarray, rng: random.Random) -> np.ndarray:
    """A phone line: level, hiss, 8 kHz μ-law, back to the bridge's 16 kHz."""
    nrng = np.random.default_rng(rng.randrange(2**32))
    x = audio.astype(np.float32) * 10 ** (rng.uniform(-4, 0) / 20)
    x += nrng.normal(0, 32768 * 10 ** (rng.uniform(-72, -55) / 20), x.size).astype(np.float32)
    pcm = np.clip(x, -32768, 32767).astype(np.int16)
    return resample(ulaw_roundtrip(resample(pcm, RATE, 8000)), 8000, RATE)


def build_corpus(
    split: str,
    calls: int,
    hold_range_s: tuple[float, float] = (60, 240),
    seed: int = 0,
    cache: ClipCache | None = None,
    variant: HoldVariant = HoldVariant(),
) -> Iterator[CorpusCall]:
    """``calls`` calls of ``split``; the same arguments always give the same audio."""
    cache = cache or ClipCache()
    for i in range(calls):
        yield build_call(seed * 100_000 + i, split, hold_range_s, cache, variant=variant)
