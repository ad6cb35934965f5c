"""Benchmark: hold and live-human detection over the synthetic-call corpus.

Streams every call through the live pipeline in order (no look-ahead; transcripts arrive
when a single STT worker would have finished them) and prints window accuracy per class,
false HUMAN_DETECTED alarms per hour of hold, missed people, detection latency from the
person's first word (median, p95) and CPU seconds per call-minute.

    nice -n 10 .venv/bin/python bench/bench_detection.py --split test --calls 50

Tune rules with ``--split tune``; report ``--split test``. ``--no-stt`` measures acoustics
only; ``--no-voice`` leaves out the voice-print cue (``--new-voice-sim`` moves its
threshold). ``--liveness`` lets the detector speak its liveness phrase; the corpus cannot
hear it, so the far end's reaction is simulated (see :func:`simulated_far_end`). ``--seed``
draws other calls from the same split: a fresh held-out set once a split has been looked at.
``--room DB`` puts a call centre behind each person (see agent_room.py).
Transcripts are cached (with the CPU time they took, which still counts) under
bench/corpus/cache so a rerun costs only the per-frame work.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_room import in_a_room  # noqa: E402
from packet_loss import lose_packets  # noqa: E402
from words_floor import call_floor  # noqa: E402

from engine.audio.call_state import DetectorSettings  # noqa: E402
from engine.audio.corpus import (  # noqa: E402
    DEFAULT_CACHE,
    CorpusCall,
    HoldVariant,
    build_corpus,
)
from engine.audio.frame_classifier import Label  # noqa: E402
from engine.audio.liveness import LivenessSettings  # noqa: E402
from engine.audio.replay import ReplayResult, Transcriber, replay  # noqa: E402
from engine.speech.stt import PARTIAL_FRAMES, SHORT_FINAL_S, partial_frames  # noqa: E402

CLASSES = ["ringback", "silence", "music", "recorded", "human"]
# a stop for us followed by this much quiet is no proof either: soft hold music reads as
# silence, so a recording's end can be followed by seconds of it (see --liveness-sweep)
DEAD_QUIET_S = 4.0


class CachedWhisper:
    """Whisper with a disk cache of (text, CPU seconds) keyed by the audio's hash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache: dict[str, list] = json.loads(path.read_text()) if path.exists() else {}
        self._stt = None
        self.dirty = 0

    def __call__(self, audio: np.ndarray, final: bool = True) -> tuple[str, float]:
        key = hashlib.sha1(audio.tobytes()).hexdigest()
        if not final:
            # partials take Whisper's quick path (other words), in a window by their length
            frames = partial_frames(len(audio))
            key = ("partial:" if frames == PARTIAL_FRAMES else f"partial{frames}:") + key
        elif len(audio) <= SHORT_FINAL_S * 16000:
            key = "final10:" + key  # short finals decode a 10 s window: other words
        hit = self.cache.get(key)
        if hit is not None:
            return hit[0], hit[1]
        if self._stt is None:
            from engine.speech.stt import WhisperSTT

            self._stt = WhisperSTT()
        t0 = time.process_time()
        text = self._stt.transcribe(audio) if final else self._stt.transcribe_partial(audio)
        took = time.process_time() - t0
        self.cache[key] = [text, took]
        self.dirty += 1
        if self.dirty % 20 == 0:
            self.save()
        return text, took

    def save(self) -> None:
        """Merge with what other runs saved meanwhile, then replace the file atomically:
        several benchmarks (tune and test, say) may share one cache."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            try:
                disk = json.loads(self.path.read_text())
            except ValueError:
                disk = {}
            disk.update(self.cache)
            self.cache = disk
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.cache))
        os.replace(tmp, self.path)


def simulated_far_end(
    call: CorpusCall, yield_share: float, owd_s: float, silent_waiters: bool = False
):
    """How the far end reacts to our phrase, a model and only a model.

    A recording ignores us (the audio goes on unchanged). A person who is talking when our
    voice reaches them (``owd_s`` one way) stops after a reaction time of 0.2–0.5 s, with
    probability ``yield_share``; the rest talk on over us as if deaf. One who stopped stays
    quiet while we talk, then half of them go on with what they were saying 0.3–1.0 s after
    we finish, half wait (we did say "one moment please") and go on 2–5 s later, as someone
    does when nobody comes back; with ``silent_waiters`` those never speak again. Silence is
    the call's own line noise, from after the person's last word.
    """
    rng = random.Random(f"far-end-{call.id}")
    human = next((sp for sp in call.spans if sp.cls == "human"), None)
    if human is None:
        return None
    h0, h1 = int(human.start * 16000), int(human.end * 16000)
    hiss = call.audio[h1 + 1600 :]

    def quiet(n: int) -> np.ndarray:
        reps = n // max(1, len(hiss)) + 1
        return np.tile(hiss, reps)[:n] if len(hiss) else np.zeros(n, np.int16)

    def react(start: int, phrase_s: float) -> np.ndarray | None:
        cut = start + int((2 * owd_s + rng.uniform(0.2, 0.5)) * 16000)
        if cut <= h0 or cut >= h1 or rng.random() >= yield_share:
            return None  # a recording, a person already done, or one who talks on
        waits = rng.random() >= 0.5
        pause = rng.uniform(2.0, 5.0) if waits else rng.uniform(0.3, 1.0)
        back = start + int((phrase_s + 2 * owd_s + pause) * 16000)
        said = quiet(h1 - cut) if waits and silent_waiters else call.audio[cut:h1]
        return np.concatenate([call.audio[start:cut], quiet(back - cut), said, call.audio[h1:]])

    return react


def sweep_recordings(
    calls: list[CorpusCall], ls: LivenessSettings, step_s: float = 0.1
) -> tuple[int, list[tuple[str, float, str]]]:
    """The liveness check's worst case on recordings: start it at every ``step_s`` of every
    recorded span (not only where the detector would) and count how often the recording's own
    pauses and endings would pass for a person stopping for us. Each pass: (call, seconds
    from the start to the recording's last word, what it was)."""
    from engine.audio.frame_classifier import FrameClassifier
    from engine.audio.liveness import PHRASE, LivenessProbe
    from engine.speech.tts import cached_phrase

    phrase_s = len(cached_phrase(PHRASE)) / 16000
    tried, passed = 0, []
    for call in calls:
        clf = FrameClassifier()
        n = len(call.audio) // 320
        labels = [
            clf.process(call.audio[i * 320 : (i + 1) * 320], i * 0.02).label for i in range(n)
        ]
        for span in call.spans:
            if span.cls != "recorded":
                continue
            a, b = int(span.start / 0.02), min(n, int(span.end / 0.02))
            speech = [i for i in range(a, b) if labels[i] == Label.SPEECH]
            if not speech:
                continue
            k = speech[0] + int(ls.after_speech_s / 0.02)
            while k <= speech[-1]:
                if labels[k] == Label.SPEECH:
                    tried += 1
                    probe = LivenessProbe(k * 0.02, phrase_s, ls)
                    for j in range(k + 1, min(n, k + 200)):
                        if probe.update(j * 0.02, labels[j]):
                            break
                    if probe.verdict == "stopped":
                        j = int(round(probe.stop_at / 0.02))
                        quiet_to = j
                        while quiet_to < n and labels[quiet_to] == Label.SILENCE:
                            quiet_to += 1
                        waited = (quiet_to - j) * 0.02 >= DEAD_QUIET_S
                        what = span.what[:40] + (" [then dead quiet]" if waited else "")
                        passed.append((call.id, (speech[-1] - k) * 0.02, what))
                k += int(step_s / 0.02)
    return tried, passed


def truth_windows(call: CorpusCall, n_frames: int) -> list[str]:
    """Ground-truth class per 20 ms frame from the call's spans."""
    out = ["silence"] * n_frames
    for span in call.spans:
        a, b = int(span.start / 0.02), min(n_frames, int(span.end / 0.02))
        for i in range(a, b):
            out[i] = span.cls
    return out


def predicted(label: Label, phase: str) -> str:
    if label == Label.SPEECH:
        return "human" if phase == "human" else "recorded"
    if label == Label.TONE:
        return "music"  # single pure notes in the music; no DTMF in this corpus
    return label.value


def window_confusion(call: CorpusCall, res: ReplayResult, win: int = 50) -> collections.Counter:
    truth = truth_windows(call, len(res.labels))
    pred = [predicted(lb, ph) for lb, ph in zip(res.labels, res.phases, strict=True)]
    conf: collections.Counter = collections.Counter()
    for i in range(0, len(truth) - win + 1, win):
        t = collections.Counter(truth[i : i + win]).most_common(1)[0][0]
        p = collections.Counter(pred[i : i + win]).most_common(1)[0][0]
        conf[(t, p)] += 1
    return conf


def person_louder(call: CorpusCall, db: float) -> np.ndarray:
    """``call``'s audio with its person ``db`` louder (line hiss and all, as a headset's
    level would come through) and clipped as a line would."""
    audio = call.audio.astype(np.float32)
    for span in call.spans:
        if span.cls == "human":
            a, b = int(span.start * 16000), int(span.end * 16000)
            audio[a:b] *= 10 ** (db / 20)
    return np.clip(audio, -32768, 32767).astype(np.int16)


def read_announcements(path: Path | None) -> tuple[str, ...]:
    """The lines of ``path`` that are not blank or comments; () without a file."""
    if path is None:
        return ()
    lines = (ln.strip() for ln in path.read_text().splitlines())
    texts = tuple(ln for ln in lines if ln and not ln.startswith("#"))
    if len(texts) < 3:
        raise SystemExit(f"{path}: at least 3 announcements are needed, found {len(texts)}")
    return texts


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--split", default="test", choices=["tune", "test"])
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--hold-min", type=float, default=60.0, help="seconds of hold, at least")
    ap.add_argument("--hold-max", type=float, default=240.0, help="seconds of hold, at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-stt", action="store_true", help="acoustics and turn-taking only")
    ap.add_argument("--no-voice", action="store_true", help="no voice-print cue")
    ap.add_argument("--new-voice-sim", type=float, help="voice prints: a new voice below this")
    ap.add_argument("--loss", type=float, default=0.0, metavar="PCT",
                    help="a lossy line: lose this percentage of 20 ms packets, then conceal")
    ap.add_argument("--loss-burst", type=float, default=1.5, metavar="N",
                    help="with --loss: packets lost in a row, on average")
    ap.add_argument("--person-gain", type=float, default=0.0, metavar="DB",
                    help="the person's span this much louder (a quiet headset: negative)")
    ap.add_argument("--room", type=float, metavar="DB",
                    help="a call centre behind the person (babble and hum), DB below their "
                    "speech, e.g. -20")
    ap.add_argument("--no-room-cue", action="store_true",
                    help="no telling a room behind the person from their voice")
    ap.add_argument("--announcements", type=Path, metavar="FILE",
                    help="hold announcements unlike the corpus's own, one a line ({co}: the "
                    "company; # comments), e.g. bench/unseen/announcements.txt")
    ap.add_argument("--announcement-gap", type=float, nargs=2, metavar=("MIN", "MAX"),
                    default=(0.2, 0.6), help="seconds of quiet after an announcement")
    ap.add_argument("--json", type=Path, help="write per-call results here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every call")
    ap.add_argument(
        "--liveness",
        action="store_true",
        help="speak the liveness phrase; a simulated far end reacts",
    )
    ap.add_argument(
        "--yield-share",
        type=float,
        default=0.7,
        help="share of people who stop when we talk over them",
    )
    ap.add_argument("--owd", type=float, default=0.15, help="one-way voice delay, seconds")
    ap.add_argument(
        "--silent-waiters",
        action="store_true",
        help="people who wait for us never speak again (harshest model)",
    )
    ap.add_argument("--probe-after", type=float, help="liveness: seconds of voice before the check")
    ap.add_argument("--probe-quiet", type=float, help="liveness: seconds of quiet that confirm")
    ap.add_argument(
        "--liveness-sweep",
        action="store_true",
        help="only try the liveness check at every 0.1 s of every recording",
    )
    args = ap.parse_args(argv)
    variant = HoldVariant(read_announcements(args.announcements), tuple(args.announcement_gap))
    settings = DetectorSettings()
    if args.new_voice_sim is not None:
        settings.new_voice_sim = args.new_voice_sim
    if args.no_room_cue:
        settings.room_voice_db = float("inf")
    if args.probe_after is not None:
        settings.liveness.after_speech_s = args.probe_after
    if args.probe_quiet is not None:
        settings.liveness.quiet_s = args.probe_quiet
    if args.liveness_sweep:
        calls = list(build_corpus(args.split, args.calls, (args.hold_min, args.hold_max),
                                  args.seed, variant=variant))  # fmt: skip
        tried, passed = sweep_recordings(calls, settings.liveness)
        hold = [p for p in passed if p[2] not in ("menu", "transfer")]
        print(f"liveness sweep: split={args.split} calls={args.calls}: {tried} starts inside "
              f"recordings; passed for a person: {len(passed)} ({len(hold)} in hold "
              f"announcements, the rest menus/transfer lines, where no check is made); "
              f"latest pass {max((p[1] for p in passed), default=0):.2f}s before a "
              f"recording's last word; then {DEAD_QUIET_S:.0f}s of dead quiet: "
              f"{sum('dead quiet' in p[2] for p in hold)} in hold")  # fmt: skip
        for p in hold[:30]:
            print(f"  {p[0]} {p[1]:.2f}s before its end: {p[2]!r}")
        return 0

    stt: Transcriber | None = None
    cached: CachedWhisper | None = None
    if not args.no_stt:
        cached = CachedWhisper(DEFAULT_CACHE / "stt.json")
        stt = cached

    conf: collections.Counter = collections.Counter()
    latencies: list[float] = []
    floors: list[float] = []  # when the words allowed a decision (see words_floor)
    above: list[float] = []  # latency minus that
    hold_latencies: list[float] = []
    false_alarms: list[str] = []
    misses: list[str] = []
    hold_misses = 0
    hold_s = audio_s = cpu_frame = cpu_stt = 0.0
    rows = []
    probes: collections.Counter = collections.Counter()
    near: list[tuple[float, str, str]] = []
    phrase_s = 0.0
    if args.liveness:
        from engine.audio.liveness import PHRASE
        from engine.speech.tts import cached_phrase

        phrase_s = len(cached_phrase(PHRASE)) / 16000
    wall0 = time.time()
    packets = lost = 0
    for call in build_corpus(args.split, args.calls, (args.hold_min, args.hold_max), args.seed,
                             variant=variant):  # fmt: skip
        if args.person_gain and call.human_onset is not None:
            call = dataclasses.replace(call, audio=person_louder(call, args.person_gain))
        if args.room is not None:
            call = dataclasses.replace(call, audio=in_a_room(call, args.room, args.seed))
        if args.loss:
            seed = int(hashlib.sha1(call.id.encode()).hexdigest()[:8], 16) + args.seed
            audio, n_lost = lose_packets(call.audio, args.loss / 100, seed, args.loss_burst)
            call = dataclasses.replace(call, audio=audio)
            packets, lost = packets + audio.size // 320, lost + n_lost
        far_end = (
            simulated_far_end(call, args.yield_share, args.owd, args.silent_waiters)
            if args.liveness
            else None
        )
        res = replay(call.audio, stt, settings, far_end=far_end, phrase_s=phrase_s,
                     voice_prints=not args.no_voice)
        for said in res.said_at:
            in_person = call.human_onset is not None and said >= call.human_onset
            probes["person" if in_person else "recording"] += 1
        hold_s += call.hold_s
        audio_s += res.duration_s
        cpu_frame += res.frame_cpu_s
        cpu_stt += res.stt_cpu_s
        conf += window_confusion(call, res)
        human = res.first("human")
        hold = res.first("hold")
        row = {"id": call.id, "onset": call.human_onset, "meta": call.meta,
               "hold_start": call.hold_start, "hold_s": round(call.hold_s, 1)}  # fmt: skip
        if call.hold_start is not None:
            if hold is None:
                hold_misses += 1
            else:
                hold_latencies.append(hold.t - call.hold_start)
        if human is None:
            misses.append(call.id)
            row["result"] = "miss"
        elif call.human_onset is not None and human.t < call.human_onset:
            false_alarms.append(call.id)
            row["result"] = "false_alarm"
        else:
            latencies.append(human.t - (call.human_onset or 0.0))
            row["result"] = "hit"
            row["latency"] = round(latencies[-1], 3)
        fl = call_floor(call, cached.cache, settings) if cached is not None else None
        if fl is not None:
            row["floor"], row["floor_why"] = round(fl.t, 3), fl.why
            floors.append(fl.t)
            if "latency" in row:
                above.append(row["latency"] - fl.t)
        if human is not None:
            row["human"] = {"t": round(human.t, 3), "confidence": human.confidence,
                            "evidence": human.evidence}  # fmt: skip
        for ep in res.episodes:  # the new-voice rule's near misses: recordings it could take
            if ep.phase_at_start == "hold" and ep.voice_sim is not None and ep.voice_sim >= 0 and (
                call.human_onset is None or ep.start < call.human_onset - 0.5
            ):
                near.append((ep.voice_sim, call.id, ep.text[:50]))
                row.setdefault("recordings", []).append([round(ep.voice_sim, 3), ep.text])
        rows.append(row)
        if args.json:  # after every call: a long run can be read while it goes on
            args.json.write_text(json.dumps(rows, indent=1, default=str))
        if args.verbose or row["result"] != "hit":
            lat = f"{row.get('latency', float('nan')):5.2f}s"
            why = human.evidence.get("rule") if human else "-"
            text = human.evidence.get("text", "") if human else ""
            vs = human.evidence.get("voice_sim") if human else None
            fl_s = f"{row.get('floor', float('nan')):5.2f}s"
            print(f"{call.id} {row['result']:11s} {lat} floor={fl_s} hold={call.hold_s:5.0f}s "
                  f"vs={vs!s:6.6s} "
                  f"rule={why!s:32.32s} text={text!r:.70s} human={call.meta['human']!s:.50s}",
                  flush=True)  # fmt: skip
    if cached is not None:
        cached.save()

    n = args.calls
    minutes = audio_s / 60
    print()
    print(f"corpus: split={args.split} calls={n} seed={args.seed} hold={hold_s / 3600:.2f} h "
          f"audio={audio_s / 3600:.2f} h "
          f"stt={'off' if args.no_stt else 'whisper tiny.en'}")  # fmt: skip
    if args.room is not None:
        print(f"a call centre behind each person, {args.room:g} dB below their speech")
    if args.loss:
        print(f"lossy line: {lost} of {packets} packets lost ({100 * lost / max(packets, 1):.1f}%, "
              f"bursts of {args.loss_burst:g} on average), concealed")
    print("window accuracy (1 s windows, truth → share predicted right):")
    for cls in CLASSES:
        total = sum(v for (t, _), v in conf.items() if t == cls)
        if total:
            right = conf[(cls, cls)]
            top = [f"{p}:{v}" for (t, p), v in conf.most_common() if t == cls and p != cls][:3]
            print(f"  {cls:9s} {right / total:6.1%} of {total:5d}  confused with {', '.join(top)}")
    print(f"hold detected: {n - hold_misses - sum(1 for r in rows if r['hold_start'] is None)}"
          f"/{sum(1 for r in rows if r['hold_start'] is not None)}, latency median "
          f"{pct(hold_latencies, 0.5):.2f}s p95 {pct(hold_latencies, 0.95):.2f}s")  # fmt: skip
    per_hour = len(false_alarms) / (hold_s / 3600) if hold_s else float("nan")
    print(f"false HUMAN_DETECTED: {len(false_alarms)} ({per_hour:.2f} per hour of hold) "
          f"{false_alarms}")  # fmt: skip
    print(f"missed humans: {len(misses)}/{n} {misses}")
    if args.liveness:
        print(f"liveness phrase ({phrase_s:.2f}s) said to a recording {probes['recording']} "
              f"times ({probes['recording'] / max(hold_s / 3600, 1e-9):.1f} per hour of hold), "
              f"to a person {probes['person']}; yield share {args.yield_share}, "
              f"{'silent' if args.silent_waiters else 'resuming'} waiters, "
              f"one-way delay {args.owd}s")  # fmt: skip
    print(
        f"latency from first word: median {pct(latencies, 0.5):.2f}s  "
        f"p95 {pct(latencies, 0.95):.2f}s  max {max(latencies, default=float('nan')):.2f}s"
    )
    if floors:
        print(f"  the words' floor (their deciding word spoken, instant STT): median "
              f"{pct(floors, 0.5):.2f}s p95 {pct(floors, 0.95):.2f}s; latency above it: "
              f"median {pct(above, 0.5):.2f}s p95 {pct(above, 0.95):.2f}s")  # fmt: skip
    if near:
        near.sort()
        print(f"voice prints of recordings during hold: {len(near)}, similarity to the line's "
              f"voices min {near[0][0]:.3f} p5 {pct([v for v, *_ in near], 0.05):.3f} median "
              f"{pct([v for v, *_ in near], 0.5):.3f}; newest-sounding:")  # fmt: skip
        for v, cid, text in near[:5]:
            print(f"  {v:.3f} {cid} {text!r}")
    print(f"CPU per call-minute: {(cpu_frame + cpu_stt) / minutes:.2f}s "
          f"(frames {cpu_frame / minutes:.2f}s, STT {cpu_stt / minutes:.2f}s); "
          f"wall {time.time() - wall0:.0f}s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
