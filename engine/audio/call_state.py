"""The call-state detector: from per-frame sound classes, speech segments, transcripts and
the memory of what the line already played, decide *once* that the call is on hold and
*once* that a live person is there, each with the evidence behind it.

Why it is built this way: acoustics alone cannot tell a recorded announcement from a person
(both are one voice on a phone line), so a person is declared only on cues a recording does
not give: words a person says (a greeting, a question), or turn-taking (the voice stops and
waits, and the music does not come back). Anything that replays what the line already played
is vetoed, half a second in, by its fingerprint. Pure logic on timestamps, no threads and no
clock: the analyzer drives it live, the benchmark drives it faster than real time, both
giving the same decisions.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from engine.audio import transcript_cues
from engine.audio.announcement_memory import MATCH_BER, AnnouncementMemory, Match
from engine.audio.fingerprint import bit_error_rate, frame_bit_errors
from engine.audio.frame_classifier import HELD_LAG, FrameInfo, Label
from engine.audio.levels import LINE_SILENCE_DBFS, frame_levels
from engine.audio.liveness import LivenessProbe, LivenessSettings
from engine.audio.music_colour import Colour, MusicColour, distance_db
from engine.audio.voice_print import VoiceEncoder, similarity


@dataclasses.dataclass(slots=True)
class DetectorSettings:
    hold_window_s: float = 6.0  # look back this far for music
    hold_music_s: float = 4.0  # ... and call it hold once this much of it is music
    speech_end_s: float = 0.5  # a segment ends after this much non-speech
    episode_gap_s: float = 0.8  # segments closer than this (no music between) are one turn
    turn_wait_s: float = 1.2  # silence after a turn that says "a person waiting for you"
    turn_min_speech_s: float = 0.4  # ...after this much speech
    call_out_min_speech_s: float = 0.2  # ...or this much, of only "Hello?" (0.3 s)...
    call_out_wait_s: float = 2.0  # ...then longer quiet: a prompt may pause after "Hello."
    repeat_check_frames: int = 40  # 0.8 s of speech to fingerprint against memory
    # partials are cheap (a 10 s encoder window, ≈0.12 s of CPU) so they come every 0.2 s
    # for 4 s, when a person's first words decide how soon the user hears about them (from
    # every 0.3-0.5 s: 0.1-0.4 s sooner on 20 of 40 tune calls, +0.7 CPU-s per call-minute)
    partial_stt_at_s: tuple[float, ...] = (
        0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4,
        3.6, 3.8, 4.0, 4.4, 4.8, 5.2,
    )  # fmt: skip
    human_text_score: float = 2.0
    start_phase_confirm_s: float = 2.0  # before hold: a person's words, then this much more
    window_s: float = 3.0  # a long or recorded turn: transcribe its last 3 s...
    window_every_s: float = 1.5  # ...this often, to hear a person who cuts into it
    recorded_text_score: float = 1.5
    preroll_s: float = 0.3
    # a voice the line has not played (menu, announcements: their voice prints) that speaks
    # to us like a person decides at once; voice prints at these ages of a turn's voice
    voice_check_s: tuple[float, ...] = (0.8, 1.6)
    new_voice_sim: float = 0.6  # below this similarity to every line voice: a new voice
    line_voice_s: float = 3.0  # a recording's voice print from its first seconds
    # an agent cuts into an announcement with no pause: the newest 1.6 s of a long turn,
    # this often, against its first 1.6 s (one recording ≈0.8–1.0, another voice ≈0.6)
    takeover_every_s: float = 0.8
    takeover_sim: float = 0.65  # a reader against their own first seconds: ≥ 0.64
    # a voice that took over mid-sentence and spoke less than this, with no word of a person:
    # too little voice for its print to prove another voice, so it is judged with the words
    # of the turn it was cut from (a queue's "...approximately | 18 minutes." split in two)
    split_tail_alone_s: float = 1.5
    line_voice_sim: float = 0.8  # at or above: sounds like the line's recordings...
    line_voice_wait_s: float = 2.5  # ...so its silence must last this long to be "waiting"
    # a turn whose words offer or ask the caller nothing (at most a greeting) must be
    # followed by this much quiet: music often pauses after an announcement
    weak_turn_human: float = 1.0
    weak_turn_wait_s: float = 2.5
    # music under the voice: between its words, spectral peaks held 100 ms (FrameInfo.held)
    # average at least this many (a music bed 20-30 dB down keeps 1-9, a room or other
    # people's voices 0-0.4), judged once this many such frames are in
    music_under_held: float = 1.0
    music_under_frames: int = 5
    # ...or, before the gaps tell, the voice came straight out of music: its lead-in (the
    # 0.3 s before it, from its last silence on) held this many; a room or a recording's
    # last words ≈0
    music_lead_held: float = 0.8
    # ...or what goes on between its words (or in its lead-in) has the colour of the music
    # heard before it, within this many dB: dense rock holds no notes but keeps its colour
    # (0.9-2.7 dB from it); a room behind a person has its own (4-7 dB). Judged on gaps
    # that are mostly sound, not the line's silence
    music_colour_db: float = 3.0
    silence_dbfs: float = LINE_SILENCE_DBFS  # quieter gaps are the line's silence
    # a fifth of a second of rock is no colour yet (4 dB from its mean): until this much
    # sound under a voice that came straight out of sound, or this long into it, a sound
    # this near the music's colour counts as the music
    bed_settle_frames: int = 20
    bed_settle_s: float = 2.0
    bed_unsettled_db: float = 5.0
    # a person in a room (a call centre's other voices, its hum) has it under their words
    # and after them, where silero hears voices and webrtcvad music. A turn with sound
    # between its words (100 ms into a pause silero hears, or ``room_under_db`` under its
    # voice: a room's voices keep silero hearing one, a voice's own soft sounds are not
    # that soft) was said in a room. Sound after it that is ``room_voice_db`` under its
    # voice (known from ``room_voice_s`` of it), ``room_music_db`` under the hold music
    # heard before it and within ``room_margin_db`` of the quietest of the last 2 s (the
    # room's floor: other voices come and go) is that room: no more of the turn, no music
    # coming back. A person who stops to wait for us in a room still waits. A turn with
    # the line's silence between its words (a clean recording) is judged as it always was
    room_under_db: float = 15.0
    room_voice_db: float = 8.0
    room_voice_s: float = 0.4
    room_music_db: float = 3.0
    room_margin_db: float = 15.0
    # not a room: sound that holds notes or has the very colour of the music heard before
    # (a bed ducked under an announcement is 1.0 dB from it, a room 2-4 dB: rooms are
    # broadband, as music is over minutes)
    room_colour_db: float = 1.5
    liveness: LivenessSettings = dataclasses.field(default_factory=LivenessSettings)

    def turn_wait(self, human_cues: float | None, call_out: bool) -> float:
        """The quiet a turn must be followed by, by its words alone, to be someone waiting
        for an answer (``human_cues``: the words' score for a person, None before any):
        a lone "Hello?" waits ``call_out_wait_s``; words that offer or ask the caller nothing,
        at most a greeting, ``weak_turn_wait_s``; the rest ``turn_wait_s``."""
        if call_out:
            return max(self.turn_wait_s, self.call_out_wait_s)
        if human_cues is None or human_cues < self.weak_turn_human:
            return max(self.turn_wait_s, self.weak_turn_wait_s)
        return self.turn_wait_s

    def recording_words(self, cues: transcript_cues.TextCues) -> bool:
        """The words are a recording's: enough of its cues, and no more of a person's."""
        return cues.recorded >= self.recorded_text_score and cues.recorded >= cues.human

    def person_words(self, cues: transcript_cues.TextCues) -> bool:
        """The words are a person's: enough of their cues, and few of a recording's (or
        far fewer than of a person's)."""
        return cues.human >= self.human_text_score and (
            cues.recorded < self.recorded_text_score or cues.human >= cues.recorded + 2
        )


_MUSIC_LABELS = frozenset((Label.MUSIC, Label.TONE))
ONSET_FRAMES = 5  # a voice's first 100 ms, before silero is sure of it: rising, no bed
ROOM_WORDS_FRAMES = 10  # a turn with this much room under and after it was said in one
ROOM_UNDER_FRAMES = 10  # ...and a room is known once this much of it was under the voice


def since_silence(frames: list[FrameInfo],
                  silent: Callable[[list[FrameInfo], int], bool]) -> list[FrameInfo]:
    """A lead-in's voiceless frames after the last one ``silent`` calls silence (all, when
    none is): music that stopped before a voice is no bed under it."""
    voiceless = [f for f in frames if f.speech_prob < 0.5]
    quiet = [k for k in range(len(voiceless)) if silent(voiceless, k)]
    return voiceless[quiet[-1] + 1 :] if quiet else voiceless


@dataclasses.dataclass(slots=True)
class Decision:
    kind: str  # "hold" | "human"
    t: float
    confidence: float
    evidence: dict[str, Any]


@dataclasses.dataclass(slots=True)
class SttRequest:
    """Transcribe ``audio`` (16 kHz int16, from ``start``): partial while the turn goes on."""

    episode: int
    audio: np.ndarray
    start: float
    end: float
    final: bool
    generation: int = 0
    window: bool = False  # only the turn's latest seconds: is someone cutting in?


@dataclasses.dataclass(slots=True)
class Episode:
    """One turn of speech: consecutive speech segments with no music between them."""

    id: int
    start: float
    last_speech: float
    phase_at_start: str
    music_before_s: float
    fp: list[int] = dataclasses.field(default_factory=list)
    audio: list[np.ndarray] = dataclasses.field(default_factory=list)
    speech_s: float = 0.0
    ended: bool = False
    cut: bool = False  # the call ended during it
    repeat: Match | None = None
    best_ber: float = 1.0
    text: str = ""
    text_final: bool = False
    cues: transcript_cues.TextCues | None = None
    music_after_s: float = 0.0
    quiet_after_s: float = 0.0
    recorded: str = ""  # why it is known to be a recording, "" if not known
    partials_sent: int = 0
    memory_index: int = -1
    generation: int = 0  # bumped when a pause turns out to be mid-turn
    head_text: str = ""  # words before the latest mid-turn pause
    partial_text: str = ""  # latest partial of the words since it
    turn_from: int = 0  # frame where the words since that pause begin (with pre-roll)
    window_text: str = ""
    last_window_age: float = 0.0
    tail: list[tuple[np.ndarray, int]] = dataclasses.field(default_factory=list)
    probe: LivenessProbe | None = None
    text_until: float = 0.0  # audio time the latest partial transcript reaches
    human_cue_until: float = -1.0  # where the partial that first held a person's words ended
    human_cue_text: str = ""  # ...and those words
    voice_sim: float | None = None  # best similarity of its voice to the line's (-1: none known)
    voice_checks: int = 0
    split_from: int = 0  # the turn whose voice this one took over from (0: none)
    pre_frames: int = 0  # frames of pre-roll at the start of ``fp`` / ``audio``
    head_voice: np.ndarray | None = None  # voice print of its first 1.6 s
    takeover_checked: int = 0  # frames of audio when the newest seconds were last compared
    takeover_at: int = -1  # where another voice seemed to take over, while the head was unknown
    takeover_line_sim: float = -1.0  # ...and how like the line's voices that voice was
    followed: int = 0  # frames since the onset when a replay was last checked against memory
    off_script: int = 0  # checks in a row that heard something other than the recording
    drift: int = 0  # frames the replay runs late (+) or early against the recording
    replay_tail: bool = False  # split off a replay where it left its recording
    # frames between its words (silero < 0.5), from 0.2 s into the voice, and 100 ms into a
    # gap (held peaks are peaks 100 ms ago too: in a short gap that was the voice's spectrum)
    gap_frames: int = 0
    gap_held: int = 0  # ...and the spectral peaks held through them (music under the voice)
    gap_run: int = 0  # frames of the gap so far
    lead_held: float = 0.0  # held peaks per frame in the lead-in: music right up to the voice
    music_ref: np.ndarray | None = None  # the music's colour as the turn began...
    music_dbfs: float | None = None  # ...and its level
    bed: Colour = dataclasses.field(default_factory=Colour)  # the sound of lead-in and gaps
    bed_frames: int = 0  # ...and how many frames they had, silent ones too
    lead_sound: int = 0  # frames of sound right up to the voice's onset
    voice_power: float = 0.0  # the summed power of its voice's frames...
    voice_frames: int = 0  # ...of which there were this many
    # frames between its words (``room_under_db``, after the lead-in), those of them with
    # sound (voiced, or over the line's silence), and the frames of a room heard under it
    # and after it
    low_frames: int = 0
    low_sound: int = 0
    room_frames: int = 0

    def music_held(self) -> float | None:
        """Held spectral peaks per frame between its words (None: no gaps yet)."""
        return self.gap_held / self.gap_frames if self.gap_frames else None

    def voice_dbfs(self) -> float:
        """Its voice's level: the power averaged, as loud as its words sound."""
        return float(10 * np.log10(self.voice_power / max(1, self.voice_frames) + 1e-12))

    def music_like(self) -> float | None:
        """dB from the sound of its lead-in and gaps to the colour of the music before the
        turn (None: no music before, or no sound under the voice)."""
        mean = self.bed.mean()
        if self.music_ref is None or mean is None:
            return None
        return distance_db(mean, self.music_ref)

    def evidence(self) -> dict[str, Any]:
        held = self.music_held()
        like = self.music_like()
        return {
            "episode_start": round(self.start, 3),
            "speech_s": round(self.speech_s, 2),
            "phase_at_start": self.phase_at_start,
            "music_before_s": round(self.music_before_s, 2),
            "repeat_best_ber": round(self.best_ber, 3),
            "text": self.text,
            "text_final": self.text_final,
            "cues": self.cues.to_dict() if self.cues else None,
            "quiet_after_s": round(self.quiet_after_s, 2),
            "music_after_s": round(self.music_after_s, 2),
            "window_text": self.window_text,
            "person_words": self.human_cue_text,
            "voice_sim": None if self.voice_sim is None else round(self.voice_sim, 3),
            "voice_took_over": self.split_from > 0,
            "music_under": None if held is None else round(held, 2),
            "music_lead": round(self.lead_held, 2),
            "music_like_db": None if like is None else round(like, 1),
            "voice_dbfs": round(self.voice_dbfs(), 1) if self.voice_frames else None,
            "room_s": round(self.room_frames * 0.02, 2),
            "liveness": self.probe.evidence() if self.probe else None,
        }


class CallStateDetector:
    """Feed every :class:`FrameInfo` (with its PCM) in order via :meth:`on_frame`; deliver STT
    results via :meth:`on_transcript`. Both return the decisions they caused; STT work to do
    is queued in :attr:`stt_requests` for the caller to run off the audio path, and phrases
    to say into the call (the liveness check) in :attr:`say_requests`, which the caller must
    start playing at once. Set :attr:`probe_phrase_s` (the phrase's length) to allow it."""

    def __init__(
        self,
        settings: DetectorSettings | None = None,
        memory: AnnouncementMemory | None = None,
        voices: VoiceEncoder | None = None,
        names: Iterable[str] = (),
    ) -> None:
        self.s = settings or DetectorSettings()
        self.voices = voices  # None: no voice prints, words and turn-taking only
        self.memory = memory if memory is not None else AnnouncementMemory()
        # the company's own name ("Acme Bank"), from the caller and from what the line says
        # ("Thank you for calling Acme Bank"): a recording's "This is Acme Bank" is no person
        self.line_names = transcript_cues.known_line_names(names, self.memory.texts())
        self.phase = "start"  # start → hold → human ("start" covers ringing and menus)
        self.hold_since: float | None = None
        self.human_at: float | None = None
        self.human_turn = 0  # the turn the person was heard in: never kept as a recording
        self.stt_degraded = False  # set when the STT backend fails: turn-taking alone decides
        self.stt_requests: collections.deque[SttRequest] = collections.deque()
        self.say_requests: collections.deque[str] = collections.deque()
        # final words known without STT (a replayed recording's, from memory): the caller
        # publishes them as it would a transcript, or a menu heard on an earlier call would
        # reach no one (the IVR navigator, the transcript, the history)
        self.remembered: collections.deque[tuple[SttRequest, str]] = collections.deque()
        self._due: list[Decision] = []  # decided outside on_frame's own checks, returned by it
        self.probe_phrase_s = 0.0  # 0: no way to speak into the call, no liveness check
        self.probes: list[LivenessProbe] = []
        self.finished: list[Episode] = []
        n_hold = int(self.s.hold_window_s / 0.02)
        self._labels: collections.deque[Label] = collections.deque(maxlen=n_hold)
        self._music_frames = 0  # of those labels, music or tone: counted as they come and go
        self._preroll: collections.deque[tuple[np.ndarray, FrameInfo]] = collections.deque(
            maxlen=int(self.s.preroll_s / 0.02)
        )
        self._episode: Episode | None = None
        self._episodes = 0
        self._nonspeech_run = 0.0
        self._power: collections.deque[float] = collections.deque(maxlen=10)  # 200 ms
        self._levels: collections.deque[float] = collections.deque(maxlen=100)  # 2 s of those
        self._colour = MusicColour()
        self._t = 0.0

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, info: FrameInfo, pcm: np.ndarray) -> list[Decision]:
        self._t = info.t
        labels = self._labels
        if len(labels) == labels.maxlen and labels[0] in _MUSIC_LABELS:
            self._music_frames -= 1
        labels.append(info.label)
        if info.label in _MUSIC_LABELS:
            self._music_frames += 1
        self._colour.on_frame(info)
        out: list[Decision] = []
        hold = self._check_hold(info.t)
        if hold:
            out.append(hold)
        self._track_speech(info, pcm)
        out.extend(self._due)
        self._due.clear()
        self._liveness(info)
        human = self._check_human(info.t)
        if human:
            out.append(human)
        return out

    def _music_s(self) -> float:
        return self._music_frames * 0.02

    def _check_hold(self, t: float, text_reason: str = "") -> Decision | None:
        if self.phase != "start":
            return None
        music = self._music_s()
        if music >= self.s.hold_music_s or text_reason:
            self.phase = "hold"
            self.hold_since = t
            ev: dict[str, Any] = {
                "music_s_in_window": round(music, 2),
                "window_s": self.s.hold_window_s,
                "cue": "transcript" if text_reason and music < self.s.hold_music_s else "music",
            }
            if text_reason:
                ev["text"] = text_reason
            conf = min(1.0, 0.6 + music / (2 * self.s.hold_window_s))
            return Decision("hold", t, round(conf, 2), ev)
        return None

    def _in_room(self, ep: Episode | None, info: FrameInfo) -> bool:
        """This frame (its last 200 ms) is the room behind the turn's voice (see
        ``DetectorSettings.room_voice_db``); counts what the turn has heard of one."""
        self._power.append(10 ** (info.rms_dbfs / 10))
        level = 10 * np.log10(sum(self._power) / len(self._power) + 1e-12)
        self._levels.append(level)
        if ep is None or ep.voice_frames * 0.02 < self.s.room_voice_s:
            return False
        under = ep.voice_dbfs() - self.s.room_voice_db
        if not ep.ended and len(ep.fp) - ep.pre_frames > 10 and (
            (ep.gap_run > HELD_LAG and info.speech_prob < 0.5)
            or level <= ep.voice_dbfs() - self.s.room_under_db
        ):
            ep.low_frames += 1
            ep.low_sound += int(info.voiced or info.rms_dbfs > self.s.silence_dbfs)
        # the room is under the voice too, between its words: where those were the line's
        # silence (a clean recording), whatever follows the turn is judged as before
        if ep.low_sound < ROOM_UNDER_FRAMES or 3 * ep.low_sound < ep.low_frames:
            return False
        ceiling = min(min(self._levels) + self.s.room_margin_db, under)
        if ep.music_dbfs is not None:
            ceiling = min(ceiling, ep.music_dbfs - self.s.room_music_db)
        if level > ceiling or self._room_bed(ep):
            return False
        ep.room_frames += 1
        return True

    def _room_bed(self, ep: Episode) -> bool:
        """The sound under the turn holds notes, or has the very colour of the music before
        it: a music bed ducked under an announcement, never a room."""
        held = ep.music_held()
        if held is not None and ep.gap_frames >= self.s.music_under_frames and (
            held >= self.s.music_under_held
        ):
            return True
        like = ep.music_like()
        return like is not None and like <= self.s.room_colour_db

    def _track_speech(self, info: FrameInfo, pcm: np.ndarray) -> None:
        ep = self._episode
        in_room = self._in_room(ep, info)
        if info.label == Label.SPEECH and not in_room:
            self._nonspeech_run = 0.0
            if ep is not None and ep.ended and self._same_turn(ep):
                self._reopen(ep)
            elif ep is None or ep.ended:
                if ep is not None:
                    self._close(ep)
                ep = self._open(info)
            ep.last_speech = info.t
            ep.speech_s += 0.02
        else:
            self._nonspeech_run += 0.02
        # always, also while a finished turn lingers: a person who starts a second after an
        # announcement needs the lead-in too, or Whisper loses their "Hi,"
        self._preroll.append((pcm, info))
        if ep is None:
            return
        if not ep.ended:
            ep.fp.append(info.fp)
            ep.audio.append(pcm)
            gap = info.speech_prob < 0.5 or in_room
            ep.gap_run = ep.gap_run + 1 if gap else 0
            if gap and len(ep.fp) - ep.pre_frames > 10:
                if ep.gap_run > HELD_LAG:
                    ep.gap_frames += 1
                    ep.gap_held += info.held
                ep.bed_frames += 1
                if info.rms_dbfs > self.s.silence_dbfs:
                    ep.bed.add(info.bands)
            if info.label == Label.SPEECH and not in_room:  # silero is unsure of a soft voice
                ep.voice_power += 10 ** (info.rms_dbfs / 10)
                ep.voice_frames += 1
            if self._nonspeech_run >= self.s.speech_end_s:
                ep.ended = True
                self._request_stt(ep, final=True)
            elif len(ep.fp) - ep.pre_frames in (self.s.repeat_check_frames,
                                                2 * self.s.repeat_check_frames):
                self._check_repeat(ep)
            else:
                self._follow_replay(ep)
            self._check_voice(self._episode or ep)
            self._maybe_partial(self._episode or ep)  # a split leaves the new voice's turn
            return
        ep.tail.append((pcm, info.fp))
        if in_room:
            ep.quiet_after_s += 0.02  # the room they wait in, whatever it sounds like
        elif info.label in (Label.MUSIC, Label.TONE):
            ep.music_after_s += 0.02
            if ep.music_after_s >= 1.0 and not ep.recorded:
                ep.recorded = "music came back after it"
        elif (info.label == Label.SILENCE and not info.voiced
              and info.rms_dbfs < self.s.silence_dbfs):
            ep.quiet_after_s += 0.02  # webrtcvad hears quiet music that the level misses
        if ep.music_after_s + ep.quiet_after_s > 8.0:
            self._close(ep)
            self._episode = None

    def turns(self) -> list[Episode]:
        """Every turn heard so far, the current one last (for benchmarks and tests)."""
        return self.finished + ([self._episode] if self._episode is not None else [])

    def end_turn(self) -> None:
        """The call is over in the middle of a turn (the company read the balance asked for
        and hung up; we hung up on a goodbye): its words still get a transcript. It is not
        remembered: cut short, it is no recording's whole."""
        ep = self._episode
        if ep is None or ep.ended or ep.speech_s < self.s.turn_min_speech_s:
            return
        ep.ended = ep.cut = True
        self._request_stt(ep, final=True)

    def flush(self) -> None:
        """The call is over: remember the last finished turn too (a hang-up during hold must
        not lose the announcement just heard)."""
        ep = self._episode
        if ep is not None and ep.ended:
            if ep.cut:
                self.finished.append(ep)
            else:
                self._close(ep)
            self._episode = None

    def _same_turn(self, ep: Episode) -> bool:
        """A pause inside one turn (no music crept in) continues it."""
        if ep.recorded or ep.repeat is not None:
            return False  # a person can start right after an announcement ends
        gap = ep.quiet_after_s + ep.music_after_s
        return ep.music_after_s < 0.3 and gap <= self.s.episode_gap_s

    def _reopen(self, ep: Episode) -> None:
        for pcm, fp in ep.tail:
            ep.audio.append(pcm)
            ep.fp.append(fp)
        ep.tail.clear()
        ep.ended = False
        ep.text_final = False
        ep.generation += 1
        # partials now cover only the new words, on their own schedule: a person who starts
        # right after an announcement is heard as fast as one who starts after music
        ep.head_text, ep.partial_text = ep.text, ""
        ep.turn_from = max(0, len(ep.audio) - self._preroll.maxlen)
        ep.partials_sent = 0
        ep.voice_checks = 0  # the words since the pause get their own voice print
        ep.music_after_s = ep.quiet_after_s = 0.0

    def _open(self, info: FrameInfo) -> Episode:
        self._episodes += 1
        pre = list(self._preroll)
        self._preroll.clear()
        # onset: the smoothed label lags the first speech frame by up to half its window
        start = info.t - 0.02 * len(pre)
        ep = Episode(
            id=self._episodes,
            start=start,
            last_speech=info.t,
            phase_at_start=self.phase,
            music_before_s=self._music_s(),
            fp=[f.fp for _, f in pre],
            audio=[p for p, _ in pre],
            pre_frames=len(pre),
        )
        # only what follows the lead-in's last silent frame: music that stopped before the
        # voice (an agent's line opening as the hold ends) is no bed under it
        lead = since_silence([f for _, f in pre], lambda fs, k: fs[k].raw == Label.SILENCE)
        ep.lead_held = sum(f.held for f in lead) / len(lead) if lead else 0.0
        ep.music_ref = self._colour.now()
        ep.music_dbfs = self._colour.level()
        self._lead_bed(ep, [f for _, f in pre[:-ONSET_FRAMES]])
        self._episode = ep
        return ep

    def _lead_bed(self, ep: Episode, lead: list[FrameInfo]) -> None:
        """The sound just before the voice's onset, from the last silence on (two frames
        under the silence level in a row: a soft bed dips under it a frame at a time, and
        the classifier calls a bed 45 dB down "silence"), into the turn's bed."""
        quiet = self.s.silence_dbfs
        lead = since_silence(lead, lambda fs, k: k > 0 and max(fs[k].rms_dbfs,
                                                                fs[k - 1].rms_dbfs) <= quiet)
        ep.bed_frames = len(lead)
        for f in lead:
            if f.rms_dbfs > self.s.silence_dbfs:
                ep.bed.add(f.bands)
        ep.lead_sound = ep.bed.n

    def _close(self, ep: Episode) -> None:
        """Remember a finished turn unless it was the person: the line may replay it."""
        # the person's turn can have begun long before they were heard (cutting into a long
        # announcement): kept, its replay would veto them on the next call
        if ep.id == self.human_turn or (
            self.phase == "human" and self.human_at is not None and ep.start >= self.human_at - 5
        ):
            self.finished.append(ep)
            return
        fp = np.array(ep.fp, dtype=np.uint16)  # with its lead-in: a later onset still matches
        if ep.speech_s >= 0.5:
            voice = None
            # a replay's tail that is a recording too (a queue position's new number: "You
            # are caller number 8...") speaks in the replay's voice, already known; its short
            # voice print, noisy, would only make a person's voice sound like the line's
            if self.voices is not None and not ep.replay_tail:
                n = ep.pre_frames
                voice = self.voices.embed(
                    np.concatenate(ep.audio[n : n + int(self.s.line_voice_s / 0.02)])
                )
            ep.memory_index = self.memory.remember(fp, ep.text, voice=voice,
                                                   onset=ep.pre_frames, frames=len(fp))
        self.finished.append(ep)

    def _check_takeover(self, ep: Episode) -> None:
        """Someone who starts talking as the announcement is cut off leaves no pause to split
        the turn at: compare the newest 1.6 s of the voice with the turn's first 1.6 s and,
        when another voice (none of the line's) took over, split there. Only a recording is
        "cut off": while the head is not yet known to be one, the place is kept, and the
        split made once its words come in (:meth:`_split_late`)."""
        win = int(1.6 / 0.02)
        n = len(ep.audio) - ep.pre_frames
        known = ep.recorded or ep.repeat is not None
        if (self.voices is None or self.phase != "hold" or ep.ended or n < 2 * win
                or (not known and ep.takeover_at >= 0)
                or len(ep.audio) - ep.takeover_checked < int(self.s.takeover_every_s / 0.02)):
            return  # fmt: skip
        ep.takeover_checked = len(ep.audio)
        newest = self.voices.embed(np.concatenate(ep.audio[-win:]))
        if similarity(newest, self._head_voice(ep)) >= self.s.takeover_sim:
            return
        line = max((similarity(newest, v) for v in self.memory.voices()), default=-1.0)
        if line >= self.s.new_voice_sim:
            return
        # the new voice may have begun up to a check earlier: the window half-way back still
        # unlike the head moves the cut there, so the words it opened with stay its own
        cut, half = len(ep.audio) - win, int(self.s.takeover_every_s / 2 / 0.02)
        if cut - half >= ep.pre_frames + win:
            earlier = self.voices.embed(np.concatenate(ep.audio[cut - half : cut - half + win]))
            if similarity(earlier, self._head_voice(ep)) < self.s.takeover_sim:
                cut -= half
        ep.takeover_at = cut - (self._preroll.maxlen or 0)
        ep.takeover_line_sim = line
        if known:
            self._split_at_takeover(ep)

    def _split_late(self, ep: Episode) -> None:
        """The turn just became known as a recording, and another voice had taken it over:
        split now, as if its words had been known when the voice changed."""
        if ep.takeover_at < 0 or self._episode is not ep or self.phase != "hold":
            return
        was_ended, tail = ep.ended, ep.tail
        quiet, music = ep.quiet_after_s, ep.music_after_s
        ep.tail = []
        new = self._split_at_takeover(ep)
        if was_ended:  # the new voice has finished too: it keeps the pause after it
            new.ended, new.tail = True, tail
            new.quiet_after_s, new.music_after_s = quiet, music
            self._request_stt(new, final=True)

    def _split_at_takeover(self, ep: Episode) -> Episode:
        ep.turn_from = ep.takeover_at
        ep.head_text = ep.text
        return self._split(ep, ep.takeover_line_sim, after_pause=False)

    def _head_voice(self, ep: Episode) -> np.ndarray:
        """The voice print of the turn's first 1.6 s, made once."""
        assert self.voices is not None
        if ep.head_voice is None:
            n = ep.pre_frames
            ep.head_voice = self.voices.embed(np.concatenate(ep.audio[n : n + 80]))
        return ep.head_voice

    def _check_voice(self, ep: Episode) -> None:
        """Compare the turn's voice so far with every voice the line has played."""
        self._check_takeover(ep)
        ep = self._episode or ep
        due = self.s.voice_check_s
        if self.voices is None or ep.repeat is not None or ep.voice_checks >= len(due):
            return
        # the voice since the turn's latest pause (its pre-roll there is the pause itself)
        first = ep.turn_from + (self._preroll.maxlen or 0) if ep.generation else ep.pre_frames
        if (len(ep.audio) - first) * 0.02 < due[ep.voice_checks]:
            return
        ep.voice_checks += 1
        line = self.memory.voices()
        v = self.voices.embed(np.concatenate(ep.audio[first:]))
        ep.voice_sim = max((similarity(v, other) for other in line), default=-1.0)
        if ep.generation > 0 and ep.turn_from - ep.pre_frames >= int(0.5 / 0.02):
            head = self.voices.embed(np.concatenate(ep.audio[ep.pre_frames : ep.turn_from]))
            if (similarity(v, head) < self.s.new_voice_sim
                    and ep.voice_sim < self.s.new_voice_sim):  # fmt: skip
                self._split(ep, ep.voice_sim, after_pause=True)

    def _split(self, ep: Episode, voice_sim: float, after_pause: bool,
               head_end: int | None = None) -> Episode:
        """Another voice took over (someone picked up right as an announcement ended or was
        cut off): the words before ``ep.turn_from`` (or ``head_end``) are the line's, kept as
        a recording; the rest is a turn of its own, judged on its own words."""
        cut = ep.turn_from
        head_end = cut if head_end is None else max(cut, min(head_end, len(ep.fp)))
        self._episodes += 1
        new = Episode(
            id=self._episodes,
            start=ep.start + cut * 0.02,
            last_speech=ep.last_speech,
            phase_at_start=self.phase,
            music_before_s=0.0,
            fp=ep.fp[cut:],
            audio=ep.audio[cut:],
            speech_s=max(0.0, (len(ep.audio) - cut - (self._preroll.maxlen or 0)) * 0.02),
            voice_sim=voice_sim,
            voice_checks=1,
            split_from=ep.id,
            pre_frames=self._preroll.maxlen or 0,
            music_ref=ep.music_ref,  # the music before the first voice plays on under both
            music_dbfs=ep.music_dbfs,
        )
        for pcm in new.audio[new.pre_frames :]:  # its voice's level so far (``voice_dbfs``)
            new.voice_power += 10 ** (frame_levels(pcm)[0] / 10)
            new.voice_frames += 1
        age = (len(new.audio) - new.pre_frames) * 0.02
        new.partials_sent = max(0, sum(d <= age for d in self.s.partial_stt_at_s) - 1)
        ep.fp, ep.audio = ep.fp[:head_end], ep.audio[:head_end]
        ep.ended, ep.text, ep.partial_text = True, ep.head_text, ""
        ep.speech_s = max(0.0, ep.speech_s - new.speech_s)
        if after_pause:
            ep.generation -= 1  # the final transcript of the words before the pause is its own
        else:
            self._request_stt(ep, final=True)  # the recording's words, for the memory
        self._close(ep)
        self._episode = new
        return new

    def _check_repeat(self, ep: Episode) -> None:
        # from the voice's onset: the pre-roll is whatever played before (music, a pause),
        # which differs from one replay to the next
        fp = np.array(ep.fp[ep.pre_frames :], dtype=np.uint16)
        m = self.memory.match_audio(fp)
        if m is None:
            return
        ep.best_ber = min(ep.best_ber, m.ber)
        if m.ber <= MATCH_BER:
            ep.repeat = m
            ep.recorded = f"replays a recording heard before ({m.source}, ber {m.ber:.2f})"
            self._split_late(ep)

    def _follow_replay(self, ep: Episode) -> None:
        """A replay of a known recording is only that while it sounds like it: every 0.2 s
        its newest 0.8 s are compared with the same place in the recording, and where they
        part (someone cut it off; a prompt the memory does not hold follows it) or it runs
        on past the recording's end, the rest is split off as a turn of its own."""
        m = ep.repeat
        k = len(ep.fp) - ep.pre_frames  # frames since the onset
        if (m is None or m.fp is None or self.phase == "human" or k < 2 * self.s.repeat_check_frames
                or k - ep.followed < 10):
            return  # fmt: skip
        ep.followed = k
        win, at = self.s.repeat_check_frames, m.offset + k  # ``at``: where the recording is
        if m.frames is not None and at > m.frames + 25:  # 0.5 s past its end (and its pause)
            end = ep.pre_frames + m.frames - 25 - m.offset  # where its voice stopped
            self._split_off_replay(ep, end)
            return
        if at > len(m.fp) or not _mostly_sound(ep.audio[-win:]):
            return  # beyond the fingerprint kept, or a pause: nothing to compare
        ref_from = max(0, at - win - 5)
        ber, off = bit_error_rate(np.array(ep.fp[-win:], dtype=np.uint16), m.fp[ref_from : at + 5],
                                  10)  # fmt: skip
        if ber > OFF_SCRIPT_BER:
            ep.off_script += 1
        else:
            ep.off_script, ep.drift = 0, ref_from + off - (at - win)
        if ep.off_script >= 2:  # 0.2 s apart: not one noisy window
            self._split_off_replay(ep, _parting(ep, m, len(ep.fp) - win - 30))

    def _split_off_replay(self, ep: Episode, cut: int) -> None:
        ep.turn_from = max(ep.pre_frames + 1, cut - (self._preroll.maxlen or 0))
        ep.head_text = ""  # the recording's words if it ran its length, else STT's
        # the recording keeps every frame up to where it parted (a key cut it off mid-word);
        # the new turn's lead-in overlaps that
        new = self._split(ep, -1.0, after_pause=False, head_end=cut)
        new.voice_sim, new.voice_checks = None, 0  # its own voice print, at its own ages
        new.replay_tail = True

    # -- speech to text --------------------------------------------------------------------

    def _maybe_partial(self, ep: Episode) -> None:
        # partials buy speed only where a person may appear: menus before hold get one
        # transcript at their end, which is all the navigator needs
        if self.phase == "human" or ep.repeat is not None:
            return
        # ...except a voice the menu never used: someone who picks up straight after it
        if (self.phase == "start" and self.hold_since is None and ep.start < 20.0
                and not self._new_voice(ep)):
            return  # fmt: skip
        age = (len(ep.fp) - ep.turn_from) * 0.02
        due = self.s.partial_stt_at_s
        if not ep.recorded and ep.partials_sent < len(due):
            if age >= due[ep.partials_sent]:
                # one partial however many were due: a turn whose partials start late (its
                # voice found new at 0.8 s) gets the newest words, not a burst of stale ones
                ep.partials_sent = sum(d <= age for d in due)
                self._request_stt(ep, final=False)
            return
        # a long turn, or one known to be a recording: the agent may cut into it with no
        # pause (a queue system stops its announcement the moment someone picks up)
        if (
            self.phase == "hold"
            and age >= self.s.window_s
            and age - ep.last_window_age >= self.s.window_every_s
        ):
            ep.last_window_age = age
            n = int(self.s.window_s / 0.02)
            audio = np.concatenate(ep.audio[-n:])
            start = ep.start + (len(ep.audio) - n) * 0.02
            self.stt_requests.append(
                SttRequest(ep.id, audio, start, start + n * 0.02, False, ep.generation, True)
            )

    def _request_stt(self, ep: Episode, final: bool) -> None:
        first = 0 if final else ep.turn_from
        parts = ep.audio[first:]
        # the words' own times: a lead-in before the voice's onset (which may hold the end of
        # the prompt a key interrupted) is not when they began
        start = ep.start + max(first, ep.pre_frames) * 0.02
        end = ep.start + (first + len(parts)) * 0.02
        if final and ep.repeat is not None and ep.repeat.text and _as_long(ep, ep.repeat):
            ep.text, ep.text_final = ep.repeat.text, True
            ep.cues = self._score(ep.text)
            empty = np.zeros(0, np.int16)
            req = SttRequest(ep.id, empty, start, end, True, ep.generation)
            self.remembered.append((req, ep.text))
            # its words count as if heard: a known "Please hold..." is hold as soon as it ends
            # (a second call to a company waited for enough music instead)
            if self.s.recording_words(ep.cues) and _is_hold_text(ep.cues):
                hold = self._check_hold(self._t, text_reason=ep.text)
                if hold:
                    self._due.append(hold)
            return
        audio = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        # keep only the newest partial: an older one still waiting is superseded
        if not final:
            self.stt_requests = collections.deque(
                r for r in self.stt_requests if r.final or r.episode != ep.id
            )
        self.stt_requests.append(SttRequest(ep.id, audio, start, end, final, ep.generation))

    def on_transcript(self, req: SttRequest, text: str, t: float) -> list[Decision]:
        """Apply the STT result of ``req`` (``t``: when it became available, audio clock)."""
        ep = self._find(req.episode)
        out: list[Decision] = []
        if ep is None:
            return out
        if req.window:
            return self._on_window(ep, req.audio, text, max(t, self._t))
        if req.generation > ep.generation:
            return out  # words after a pause that another voice's turn has taken over
        if req.generation < ep.generation:
            if not (req.final and req.generation == ep.generation - 1) or ep.text_final:
                return out  # superseded
            ep.head_text = text  # the words before the pause, now in full
            ep.text = _join(text, ep.partial_text)
        elif req.final:
            if not text.strip() and ep.room_frames >= ROOM_WORDS_FRAMES:
                # Whisper gives up on a whole turn spoken in a room (its no-speech filter: the
                # other voices) whose partials heard words all along: keep those
                text = ep.text
            ep.text, ep.text_final = text, True
            if ep.memory_index >= 0:
                self.memory.set_text(ep.memory_index, text)
            if self.phase != "human":
                self.line_names |= transcript_cues.line_names(text)
        elif ep.text_final:
            return out
        else:
            ep.partial_text = text
            ep.text = _join(ep.head_text, text)
            ep.text_until = max(ep.text_until, req.end)
        ep.cues = self._score(ep.text)
        text = ep.text
        if ep.repeat is None and ep.text_final:
            m = self.memory.match_text(text)
            if m is not None and m.index != ep.memory_index:
                ep.repeat = m
                ep.recorded = "words heard before"
        if self.s.recording_words(ep.cues):
            ep.recorded = ep.recorded or "words of a recording: " + ", ".join(
                r[1:] for r in ep.cues.reasons if r.startswith("-")
            )
            hold = self._check_hold(t, text_reason=text) if _is_hold_text(ep.cues) else None
            if hold:
                out.append(hold)
        if ep.recorded:
            self._split_late(ep)
        human = self._check_human(max(t, self._t))
        if human:
            out.append(human)
        return out

    def _on_window(self, ep: Episode, audio: np.ndarray, text: str, t: float) -> list[Decision]:
        """The latest seconds of a long turn, judged on their own words: a person's greeting
        with nothing of a recording in it means someone cut in, in a voice of their own."""
        cues = self._score(text)
        if self.phase == "human" or ep.repeat is not None or self._episode is not ep:
            return []
        if cues.human >= self.s.human_text_score and cues.recorded == 0:
            if cues.human < 2 * self.s.human_text_score and self._music_under(ep):
                # as for any turn: a voice over a music bed is produced audio (on-hold
                # messaging: "...important to us." "Hi, I'm Sam, and..."), unless its words
                # are a person's twice over
                return []
            if self.voices is not None:
                # the window's newest 1.6 s: whoever cut in speaks at its end, and the
                # recording they cut off may fill the rest
                newest = self.voices.embed(audio[-int(1.6 * 16000) :])
                same_voice = similarity(newest, self._head_voice(ep)) >= self.s.new_voice_sim
                if same_voice and cues.human < 2 * self.s.human_text_score:
                    # the turn's own voice goes on: a garbled recording ("Hey, I'm Deline")
                    # unless the words are a person's twice over (a small firm's owner who
                    # recorded the prompts answers in the same voice)
                    return []
            ep.window_text = text
            return [self._declare(t, ep, "words of a person cutting into a recording", 0.85)]
        return []

    def _score(self, text: str) -> transcript_cues.TextCues:
        return transcript_cues.score(text, self.line_names)

    def _find(self, episode: int) -> Episode | None:
        if self._episode is not None and self._episode.id == episode:
            return self._episode
        for ep in reversed(self.finished[-10:]):
            if ep.id == episode:
                return ep
        return None

    # -- the liveness check -----------------------------------------------------------------

    def _liveness(self, info: FrameInfo) -> None:
        ep = self._episode
        if ep is None or self.phase != "hold":
            return
        if ep.probe is not None:
            probe = ep.probe
            probe.update(info.t, info.label)
            if probe.stop_valid and not probe.text_asked and info.t - probe.stop_at >= 0.2:
                # the words up to the stop, on the quick path: the check needs them (no
                # recording's giveaway words) and the final transcript is slower than 1 s
                probe.text_asked = True
                self._request_stt(ep, final=False)
            return
        ls = self.s.liveness
        if (
            self.probe_phrase_s <= 0
            or ep.ended
            or ep.repeat is not None
            or ep.recorded
            or len(ep.fp) < self.s.repeat_check_frames  # not yet fingerprinted against memory
            or (len(ep.fp) - ep.turn_from) * 0.02 < ls.after_speech_s
            or ep.cues is None  # no partial yet: it may still say "your call is important"
            or ep.cues.recorded > 0
            or not ep.text.strip()
            or (self.probes and info.t - self.probes[-1].said_at < ls.every_s)
        ):
            return
        ep.probe = LivenessProbe(info.t, self.probe_phrase_s, ls)
        self.probes.append(ep.probe)
        self.say_requests.append(ls.phrase)

    def cancel_probe(self, reason: str) -> None:
        """The phrase could not be played: the far end's silence then proves nothing."""
        if self.probes and not self.probes[-1].verdict:
            self.probes[-1].verdict = reason
        self.probe_phrase_s = 0.0

    # -- the person ------------------------------------------------------------------------

    def _head_words(self, ep: Episode) -> str:
        """The words of the turn ``ep`` took over from, final once STT has them."""
        head = next((e for e in reversed(self.finished) if e.id == ep.split_from), None)
        return head.text if head is not None else ""

    def _check_human(self, t: float) -> Decision | None:
        ep = self._episode
        if self.phase == "human" or ep is None or ep.repeat is not None:
            return None
        cues = ep.cues
        if (ep.split_from and cues is not None and cues.human == 0
                and ep.speech_s < self.s.split_tail_alone_s):  # fmt: skip
            head = self._head_words(ep)
            if head and _cut_mid_sentence(head):
                cues = self._score(_join(head, ep.text))
        bed = self._music_under(ep)
        if (
            self.phase == "hold"
            and cues is not None
            and not ep.recorded
            and not bed
            and self._new_voice(ep)
            and cues.recorded == 0
            and transcript_cues.opens_like_a_person(ep.text, self.line_names)
        ):
            return self._declare(t, ep, "a voice the line never played speaks to us", 0.9)
        # a voice over a music bed is produced audio (a lyric's "My name is Luka", a hold
        # channel's presenter): no one at a desk talks over music, unless twice as clearly
        words = (cues is not None and self.s.person_words(cues)
                 and (not bed or cues.human >= 2 * self.s.human_text_score))  # fmt: skip
        if cues is not None and (words or ep.human_cue_until >= 0) and self._words_settled(ep):
            return self._declare(t, ep, "words of a person", 0.95 if cues.recorded == 0 else 0.85)
        if ep.recorded:
            return None
        if (
            ep.probe is not None
            and ep.probe.verdict == "stopped"
            # as turn-taking: a recording's giveaway words come at its end, so the words up
            # to the stop must be in
            and (ep.text_final or ep.text_until >= ep.probe.stop_at - 0.1)
            and cues is not None
            and cues.recorded == 0
            # and some words of a person (a greeting, a question): a recording's last words
            # can end inside the reaction window with soft music after them, and Whisper can
            # garble its giveaway ("the legend will be with you shortly")
            and cues.human > 0
        ):
            return self._declare(t, ep, "stopped talking when we spoke (liveness check)", 0.9)
        # "Hello?" and nothing more is someone who picked up to a silent caller: too short
        # a turn to count otherwise, and a single word. Words that offer or ask the caller
        # nothing, at most a greeting, are weak: a queue can say anything ("Hey there, quick
        # tip: most billing questions are answered on our website.", bench/unseen), and hold
        # music often pauses after an announcement (1.8 s or more after 10% of the corpus's);
        # before hold, IVRs chain prompts in several voices ("Great. Let me find the right
        # team for you.") with a pause before the music
        call_out = ep.ended and ep.text_final and transcript_cues.calls_out(ep.text)
        wait_s = self.s.turn_wait(None if cues is None else cues.human, call_out)
        # a voice very like the line's recordings must wait longer to count as waiting for
        # us: a hold that ends on an announcement leaves it followed by quiet until the agent
        # speaks (tune-0036); a person who sounds like the recordings is heard a little later
        if ep.voice_sim is not None and ep.voice_sim >= self.s.line_voice_sim:
            wait_s = max(wait_s, self.s.line_voice_wait_s)
        if ep.split_from and (cues is None or cues.human == 0):
            # the tail of a recording cut off at a voice change, with no word of a person in
            # it, is as weak as a lone "Hello?": a hold whose queue runs out leaves an
            # announcement's last words ("...with our customers.") followed by quiet until
            # the agent speaks (test-900006, seed 9)
            wait_s = max(wait_s, self.s.call_out_wait_s)
        waited = self._waited(ep, wait_s, self.s.call_out_min_speech_s if call_out
                              else self.s.turn_min_speech_s)  # fmt: skip
        # per frame: the words are read only once the turn has waited
        said = waited and (call_out or transcript_cues.says_something(ep.text))
        if waited and self.phase == "start" and self._new_voice(ep) and not (ep.split_from or bed):
            # before hold a speech menu waits for an answer too, but in the menu's voice (or
            # with a menu's words): a voice the line never played that spoke and waited is
            # someone who picked up straight away. Not one that took over from a prompt with
            # no pause: IVRs chain prompts in several voices ("One moment please." "Please
            # note our new business hours...")
            if cues is not None and ep.text_final and cues.recorded == 0 and said:
                return self._declare(t, ep, "a new voice spoke, then waited", 0.75)
        if (
            self.phase == "start"
            and self._waited(ep, self.s.line_voice_wait_s, self.s.turn_min_speech_s)
            and ep.voice_sim is not None
            and ep.voice_sim < self.s.line_voice_sim
            and not (ep.split_from or bed)
            and cues is not None
            and ep.text_final
            and cues.recorded == 0
            and transcript_cues.says_something(ep.text)
        ):
            # a voice only somewhat like the menu's (a reader scored 0.62 against flite's
            # kal16: test-1000019, seed 10) that says nothing a menu says and then waits as
            # long as a line-like voice must: someone who picked up, heard a little later
            return self._declare(t, ep, "a voice unlike the menu's spoke, then waited", 0.7)
        if (waited and self.phase == "start" and call_out and not self.memory.voices()
                and cues is not None and cues.recorded == 0):
            # the first voice on the line says "Hello?" and waits: a person answered (no
            # menu opens with one word and waits)
            return self._declare(t, ep, "answered with a hello, then waited", 0.8)
        if waited and self.phase == "hold":
            # the final transcript may still be on its way; a partial without a recording's
            # words is enough once the voice has stopped and no music came back
            # only on the final transcript: a partial is rough, and a recording's giveaway
            # words ("...assisting other customers") often come at its end
            # and words in it: Whisper's "" or "Thank you." on a burst of music is not a voice
            if cues is not None and ep.text_final and cues.recorded < 1.0 and said:
                return self._declare(t, ep, "spoke, then waited for an answer", 0.8)
            if self.stt_degraded and ep.speech_s >= self.s.turn_min_speech_s:
                return self._declare(t, ep, "spoke, then waited (no transcript: STT down)", 0.6)
        return None

    @staticmethod
    def _waited(ep: Episode, wait_s: float, min_speech_s: float) -> bool:
        """The turn is over, with at least ``min_speech_s`` of speech, and has been followed
        by ``wait_s`` of quiet with no music back: someone waiting for an answer."""
        return (ep.ended and ep.quiet_after_s >= wait_s and ep.music_after_s < 0.3
                and ep.speech_s >= min_speech_s)  # fmt: skip

    def _music_under(self, ep: Episode) -> bool:
        """Music goes on between the turn's words, or, before there are enough of those gaps
        to tell, the voice came straight out of music. A person who picks up has the hold
        music stopped for them; a recording often has its music bed under it."""
        held, enough = ep.music_held(), self.s.music_under_frames
        if held is not None and ep.gap_frames >= enough:
            if held >= self.s.music_under_held:
                return True
        elif ep.lead_held >= self.s.music_lead_held:
            return True
        # no notes held: what sounds under the voice, if it is mostly sound and not the
        # line's silence, may still have the music's colour
        like = ep.music_like()
        if like is None or ep.bed.n < enough or 3 * ep.bed.n < ep.bed_frames:
            return False  # no music before it, or (mostly) the line's silence under the voice
        if (ep.lead_sound >= ONSET_FRAMES and ep.bed.n < self.s.bed_settle_frames
                and self._t - ep.start < self.s.bed_settle_s):
            # sound right up to the voice, too little of it yet to tell, and not plainly
            # something else (a room's colour is 4-7 dB from the music's)
            return like <= self.s.bed_unsettled_db
        return like <= self.s.music_colour_db

    def _new_voice(self, ep: Episode) -> bool:
        return ep.voice_sim is not None and 0 <= ep.voice_sim < self.s.new_voice_sim

    def _words_settled(self, ep: Episode) -> bool:
        """Before hold a bot introduces itself like a person ("Hi, I'm Emma, ...") and gives
        itself away a breath later ("...your virtual assistant"): there a person's words,
        once seen, count when the transcript has run ``start_phase_confirm_s`` past them (or
        the turn is over) with no recording's cue, even if a later, rougher transcript lost
        the words themselves."""
        if self.phase == "hold":
            return True
        assert ep.cues is not None
        if ep.human_cue_until < 0:
            ep.human_cue_until, ep.human_cue_text = ep.text_until, ep.text
            if not ep.text_final:
                return False
        return ep.cues.recorded < self.s.recorded_text_score and (
            ep.text_final or ep.text_until >= ep.human_cue_until + self.s.start_phase_confirm_s
        )

    def _declare(self, t: float, ep: Episode, rule: str, confidence: float) -> Decision:
        self.phase = "human"
        self.human_at = t
        self.human_turn = ep.id
        ev = ep.evidence()
        ev["rule"] = rule
        ev["hold_since"] = None if self.hold_since is None else round(self.hold_since, 3)
        ev["memory_size"] = len(self.memory)
        return Decision("human", t, confidence, ev)


PARTING_BER = 0.35  # between a replay against its recording and other sound (OFF_SCRIPT_BER)


def _parting(ep: Episode, m: Match, lo: int) -> int:
    """Where, from frame ``lo`` on, the replay stopped sounding like its recording: the
    split that leaves the most agreement before it and the most disagreement after, frame
    by frame at the replay's last drift. Cutting there, not a fixed second back, keeps the
    recording's last words whole and gives the new sound its own first ones."""
    lo = max(lo, ep.pre_frames + 1)
    if m.fp is None:
        return lo
    idx = np.arange(lo, len(ep.fp))
    ref = m.offset + idx - ep.pre_frames + ep.drift
    known = (ref >= 0) & (ref < len(m.fp))
    if known.sum() < 10:
        return lo
    errors = np.full(len(idx), 8.0)  # beyond the fingerprint kept: as unlike as chance
    heard = np.array(ep.fp[lo:], dtype=np.uint16)  # the span searched, not the whole turn
    errors[known] = frame_bit_errors(heard[known], m.fp[ref[known]])
    gain = np.concatenate([[0.0], np.cumsum(errors / 16 - PARTING_BER)])
    return lo + int(np.argmin(gain))


def _as_long(ep: Episode, m: Match) -> bool:
    """The turn lasted as long as the recording it replays, so the recording's words are its
    words. A match by words (no fingerprint) is its own proof; a recording of unknown
    length (an older memory file) is transcribed afresh."""
    if m.fp is None:
        return True
    if m.frames is None:
        return False
    heard = m.offset + len(ep.fp) - ep.pre_frames
    return abs(heard - m.frames) <= max(50, 0.15 * m.frames)


OFF_SCRIPT_BER = 0.38  # a replay against its recording ≈ 0.1–0.28, other sound ≈ 0.43+


def _mostly_sound(frames: list[np.ndarray]) -> bool:
    """Three quarters of the frames above -45 dBFS: a pause's line noise fingerprints at
    random, so only sound is compared with the recording."""
    loud = sum(frame_levels(f)[0] > -45.0 for f in frames)
    return loud >= 0.75 * len(frames)


# words no sentence ends on: Whisper puts a full stop after a recording cut off on one
# ("...the estimated wait time is approximately.")
_DANGLING = frozenset(("a", "an", "the", "is", "are", "was", "be", "will", "of", "to", "in",
                       "at", "for", "with", "and", "or", "your", "our", "approximately",
                       "about", "around", "roughly", "estimated", "number"))  # fmt: skip


def _cut_mid_sentence(words: str) -> bool:
    """``words`` stop mid-sentence: no full stop, question or exclamation mark at their end,
    or one after a word no sentence ends on."""
    text = words.rstrip()
    if not text.endswith((".", "?", "!")):
        return True
    last = text.rstrip(".?!").split()
    return bool(last) and last[-1].lower().strip(",;:") in _DANGLING


def _join(head: str, tail: str) -> str:
    return f"{head} {tail}".strip()


def _is_hold_text(cues: transcript_cues.TextCues) -> bool:
    hold_reasons = {
        "-your call is important", "-all agents busy", "-agents busy", "-asks to keep holding",
        "-queue position", "-wait time", "-callback offer",
    }  # fmt: skip
    return any(r in hold_reasons for r in cues.reasons)
