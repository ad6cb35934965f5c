"""Many calls at once, in real time: does the live pipeline keep up, and how late is the alert?

``bench_detection.py`` replays one call at a time and models the STT worker's delay from
its CPU time. A user queues several calls, and every call's analyzer shares one process,
two cores and one Whisper model (which runs one request at a time). This runs ``--calls``
corpus calls side by side through the live :class:`CallAudioAnalyzer`, each fed its 20 ms
frames on its own thread at the wall clock's pace (as the runtime feeds it from the audio
tap), starting ``--stagger`` seconds apart, and prints:

* per call: hit / miss / false alarm, and the alert's latency from the person's first word
  by the wall clock (the analyzer's own stream clock lags it when a feeder falls behind);
* latency median / p95 / max, false alarms, misses;
* how far the feeders fell behind real time (a frame handled late is an alert held back);
* CPU seconds per call-minute of the whole process (frames, voice prints, STT, threads),
  and how it splits between the feeders (frames, voice prints), the STT workers (queueing,
  Python's side of Whisper) and native threads (CTranslate2's, where Whisper's maths runs);
* Whisper's requests: finals and partials, their audio and their time from asking to words.

As in the runtime (:mod:`engine.audio.analysis_loop`), one thread feeds every call, waking
once per ``ANALYSIS_WAKE_S`` (3 frames); ``--thread-per-call`` gives each call a feeder thread
of its own (as the runtime did before), ``--batch K`` wakes once per K frames. ``--stalls MS``
says which code the one thread was in when a frame's work took MS or longer.

    nice -n 10 .venv/bin/python bench/bench_concurrent.py --calls 20 --split test

Nothing is cached: every transcript is computed when a live call would compute it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_detection import pct  # noqa: E402  (one percentile, so the two benches compare)
from stall_watch import StallWatch  # noqa: E402

from engine.audio.analysis_loop import ANALYSIS_WAKE_S  # noqa: E402
from engine.audio.analyzer import CallAudioAnalyzer, shared_stt  # noqa: E402
from engine.audio.corpus import CorpusCall, build_corpus  # noqa: E402
from engine.audio.voice_print import shared_encoder  # noqa: E402
from engine.events import Event, EventBus, EventType  # noqa: E402

FRAME = 320  # 20 ms at 16 kHz
AFTER_PERSON_S = 3.0  # feed this long after the alert (the analyzer goes on transcribing)


class TimedBus(EventBus):
    """The bus, noting by the wall clock when each call's hold and person were published."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[tuple[str, EventType], tuple[float, Event]] = {}

    def publish(self, event: Event) -> Event:
        if event.type in (EventType.HOLD_DETECTED, EventType.HUMAN_DETECTED):
            self.seen.setdefault((event.call_id, event.type), (time.monotonic(), event))
        return super().publish(event)


@dataclasses.dataclass(slots=True)
class Run:
    call: CorpusCall
    start: float = 0.0  # wall clock of the call's first frame
    lag_max: float = 0.0  # how far behind its frames' due times the feeder fell, at most
    lag_sum: float = 0.0
    frames: int = 0
    seconds: float = 0.0  # of audio fed


class ThreadCpu:
    """CPU seconds per thread, read from /proc (Linux): Python threads by their name's
    prefix, the rest (native threads of CTranslate2, ONNX Runtime) as "native"."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.stop = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        for th in threading.enumerate():
            if th.native_id is not None:
                self.names.setdefault(th.native_id, th.name.split("-")[0])
        try:
            tids = os.listdir("/proc/self/task")
        except OSError:
            return
        for tid in tids:
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended meanwhile
            self.cpu[int(tid)] = (int(fields[11]) + int(fields[12])) / self.tick

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.sample()

    def by_kind(self) -> dict[str, float]:
        self.sample()
        kinds: dict[str, float] = {}
        for tid, cpu in self.cpu.items():
            kind = self.names.get(tid, "native")
            kinds[kind] = kinds.get(kind, 0.0) + cpu
        return kinds


class SttCount:
    """Whisper's requests by kind: how many, how much audio, and the seconds from asking to
    the words (the wait for the shared model, then its run)."""

    def __init__(self, stt: object) -> None:
        self.kinds: dict[str, list[float]] = {}
        for kind in ("transcribe", "transcribe_partial"):
            setattr(stt, kind, self._counted(kind, getattr(stt, kind)))

    def _counted(self, kind: str, fn):  # noqa: ANN001, ANN202 - a wrapper of either method
        def counted(audio, sample_rate: int = 16000):  # noqa: ANN001, ANN202
            t0 = time.monotonic()
            try:
                return fn(audio, sample_rate)
            finally:
                row = self.kinds.setdefault(kind, [0, 0.0, 0.0])
                row[0] += 1
                row[1] += len(audio) / sample_rate
                row[2] += time.monotonic() - t0

        return counted

    def summary(self) -> str:
        return ", ".join(f"{'finals' if k == 'transcribe' else 'partials'} {n:.0f} "
                         f"({audio:.0f} s of audio, {busy:.1f} s asked to answered)"
                         for k, (n, audio, busy) in sorted(self.kinds.items()))  # fmt: skip


def feed(run: Run, bus: TimedBus, start: float, batch: int = 1) -> None:
    """One call's feeder: frames at their due time, as the runtime's tap reader delivers them
    (a late feeder handles the backlog at once, as the tap's buffer would let it), woken
    once per ``batch`` frames."""
    call = run.call
    analyzer = CallAudioAnalyzer(bus, call.id)
    run.start = start
    n = len(call.audio) // FRAME
    try:
        for i in range(n):
            due = start + i * FRAME / 16000
            now = time.monotonic()
            if now < due:
                if i % batch == 0:  # sleep until the batch's last frame is due
                    time.sleep(start + (i + batch - 1) * FRAME / 16000 - now)
            else:
                run.lag_max = max(run.lag_max, now - due)
                run.lag_sum += now - due
            analyzer.feed(call.audio[i * FRAME : (i + 1) * FRAME], i * FRAME / 16000)
            run.frames += 1
            human = bus.seen.get((call.id, EventType.HUMAN_DETECTED))
            if human is not None and time.monotonic() - human[0] >= AFTER_PERSON_S:
                break
    finally:
        run.seconds = run.frames * FRAME / 16000
        analyzer.close()


def feed_all(runs: list[Run], bus: TimedBus, starts: list[float], batch: int = 1,
             watch: StallWatch | None = None) -> None:  # fmt: skip
    """Every call's frames from one thread, as the runtime's analysis thread does: at each
    wake (once per ``batch`` frames), each call gets the frames now due (one wake for all
    calls, instead of one per call). ``watch`` notes where a frame's work ran long."""
    analyzers = [CallAudioAnalyzer(bus, r.call.id) for r in runs]
    sent = [0] * len(runs)
    ends = [len(r.call.audio) // FRAME for r in runs]
    for r, start in zip(runs, starts, strict=True):
        r.start = start
    tick = min(starts)
    live = set(range(len(runs)))
    while live:
        now = time.monotonic()
        if now < tick:
            time.sleep(tick - now)
        tick += batch * FRAME / 16000
        for k in sorted(live):
            r, a = runs[k], analyzers[k]
            due = int((time.monotonic() - r.start) * 16000 / FRAME) + 1
            while sent[k] < min(due, ends[k]):
                i = sent[k]
                late = time.monotonic() - (r.start + i * FRAME / 16000)
                r.lag_max = max(r.lag_max, late)
                r.lag_sum += max(0.0, late)
                if watch is not None:
                    watch.begin(r.call.id)
                a.feed(r.call.audio[i * FRAME : (i + 1) * FRAME], i * FRAME / 16000)
                if watch is not None:
                    watch.end()
                sent[k] += 1
                r.frames += 1
            human = bus.seen.get((r.call.id, EventType.HUMAN_DETECTED))
            done = human is not None and time.monotonic() - human[0] >= AFTER_PERSON_S
            if sent[k] >= ends[k] or done:
                r.seconds = r.frames * FRAME / 16000
                # as the runtime does: close() waits for the last words, the others go on
                threading.Thread(target=a.close, name="feed-close", daemon=True).start()
                live.discard(k)


def result(run: Run, bus: TimedBus) -> dict[str, object]:
    call = run.call
    seen = bus.seen.get((call.id, EventType.HUMAN_DETECTED))
    row: dict[str, object] = {"id": call.id, "onset": call.human_onset,
                              "hold_s": round(call.hold_s, 1)}  # fmt: skip
    if seen is None:
        row["result"] = "miss" if call.human_onset is not None else "ok"
        return row
    wall, event = seen
    at = wall - run.start  # seconds into the call by the wall clock
    row["rule"] = (event.data.get("evidence") or {}).get("rule", "")
    if call.human_onset is None or at < call.human_onset:
        row["result"], row["at"] = "false_alarm", round(at, 2)
        ev = event.data.get("evidence") or {}
        row["why"] = {k: ev.get(k) for k in ("episode_start", "text", "cues", "voice_sim",
                                             "quiet_after_s", "repeat_best_ber")}
    else:
        row["result"], row["latency"] = "hit", round(at - call.human_onset, 3)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--calls", type=int, default=20, help="calls at once")
    ap.add_argument("--split", default="test", choices=["tune", "test"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hold-min", type=float, default=60.0, help="seconds of hold, at least")
    ap.add_argument("--hold-max", type=float, default=240.0, help="seconds of hold, at most")
    ap.add_argument("--stagger", type=float, default=3.0, help="seconds between call starts")
    ap.add_argument("--thread-per-call", action="store_true",
                    help="a feeder thread per call (default: one for all, as the runtime)")
    ap.add_argument("--batch", type=int, default=round(ANALYSIS_WAKE_S / 0.02),
                    help="frames per feeder wake (default: the runtime's, 3 frames)")
    ap.add_argument("--stalls", type=float, metavar="MS",
                    help="say where the feeding thread was when a frame took MS or longer")
    ap.add_argument("--json", type=Path, help="write per-call results here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every call")
    args = ap.parse_args(argv)

    calls = list(build_corpus(args.split, args.calls, (args.hold_min, args.hold_max), args.seed))
    stt = shared_stt()
    stt._load()  # the models load once per process, before the clock starts
    counts = SttCount(stt)
    shared_encoder()
    bus = TimedBus()
    runs = [Run(c) for c in calls]
    t0 = time.monotonic() + 1.0
    cpu0 = time.process_time()
    starts = [t0 + k * args.stagger for k in range(len(runs))]
    # stalls of the one feeding thread; a thread per call has none to share
    watch = StallWatch(args.stalls / 1000) if args.stalls and not args.thread_per_call else None
    if not args.thread_per_call:
        threads = [threading.Thread(target=feed_all, args=(runs, bus, starts, args.batch, watch),
                                    name="feed-all", daemon=True)]
        if watch is not None:
            threading.Thread(target=watch.run, name="stall-watch", daemon=True).start()
    else:
        threads = [threading.Thread(target=feed, args=(r, bus, start, args.batch),
                                    name=f"feed-{r.call.id}", daemon=True)
                   for r, start in zip(runs, starts, strict=True)]  # fmt: skip
    per_thread = ThreadCpu()
    loaded = per_thread.by_kind()  # the model loads' CPU, taken off below
    sampler = threading.Thread(target=per_thread.run, name="sampler", daemon=True)
    sampler.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    cpu = time.process_time() - cpu0
    if watch is not None:
        watch.stop.set()
    per_thread.stop.set()
    sampler.join()
    kinds = {k: v - loaded.get(k, 0.0) for k, v in per_thread.by_kind().items()}
    wall = time.monotonic() - t0

    rows = [result(r, bus) for r in runs]
    for r, row in zip(runs, rows, strict=True):
        row["lag_max"] = round(r.lag_max, 3)
        if args.verbose:
            lat = f"{row['latency']:5.2f}s" if "latency" in row else "  -   "
            print(f"{row['id']} {row['result']:11s} {lat} lag max {r.lag_max:5.2f}s "
                  f"hold={row['hold_s']:5.0f}s rule={row.get('rule', '')}")  # fmt: skip
            if "why" in row:
                print(f"    at {row['at']}s (person at {row['onset']}): {row['why']}")
    lat = [float(row["latency"]) for row in rows if "latency" in row]  # type: ignore[arg-type]
    minutes = sum(r.seconds for r in runs) / 60
    fa = sum(row["result"] == "false_alarm" for row in rows)
    miss = sum(row["result"] == "miss" for row in rows)
    how = "a thread per call" if args.thread_per_call else "one thread"
    print(f"{len(runs)} calls at once, fed from {how} ({args.split}, seed {args.seed}, "
          f"{args.stagger:g} s apart), {minutes:.1f} call-minutes in {wall:.0f} s")
    print(f"  false alarms {fa}   missed {miss}")
    if lat:
        print(f"  latency from the person's first word: median {statistics.median(lat):.2f}s "
              f"p95 {pct(lat, 0.95):.2f}s max {max(lat):.2f}s")
    lags = [r.lag_max for r in runs]
    mean_lag = sum(r.lag_sum for r in runs) / max(1, sum(r.frames for r in runs))
    print(f"  feeders behind real time: worst {max(lags):.2f}s, "
          f"mean per frame {mean_lag * 1000:.1f} ms")
    if watch is not None:
        print(f"  frames whose work took {watch.limit_s * 1000:.0f} ms or more: "
              f"{len(watch.stalls)}")
        for line in watch.summary():
            print(f"    {line}")
    print(f"  CPU {cpu / max(minutes, 1e-9):.2f} s per call-minute "
          f"({cpu / wall:.2f} cores busy on average)")
    split = ", ".join(f"{k} {v / max(minutes, 1e-9):.2f}" for k, v in
                      sorted(kinds.items(), key=lambda kv: -kv[1]) if v >= 0.005)  # fmt: skip
    print(f"    by thread, s per call-minute: {split}")
    print(f"  Whisper: {counts.summary()}")
    if args.json:
        args.json.write_text(json.dumps({"calls": args.calls, "stagger": args.stagger,
                                         "split": args.split, "seed": args.seed,
                                         "cpu_s": cpu, "wall_s": wall, "cpu_by_thread_s": kinds,
                                         "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
