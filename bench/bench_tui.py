"""Terminal app figures: how often the live screen's level meter redraws during a call, and
keystroke-to-screen latency. Targets (issue 4): >= 20 Hz and < 50 ms.

    .venv/bin/python bench/bench_tui.py            # a real demo call over loopback SIP
    .venv/bin/python bench/bench_tui.py --calls 3  # three live calls, queued from the app
    .venv/bin/python bench/bench_tui.py --synthetic # levels published at 50 Hz, no SIP

With real calls it also prints how steadily their audio flowed while the app ran (the media
clock's gaps, as ``bench/media_clock.py`` counts them): the UI thread shares the GIL with
every call's audio ports.

Runs the app headless (Textual's Pilot): a keystroke is posted like a terminal's, and "on
screen" means the widget was updated and the app went idle (the frame was rendered).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def isolate() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="bench_tui_"))
    os.environ.setdefault("HOLDSLAYER_DB_PATH", str(tmp / "history.sqlite3"))
    os.environ.setdefault("HOLDSLAYER_DATA_DIR", str(tmp / "data"))
    os.environ.setdefault("HOLDSLAYER_CONFIG", str(tmp / "config.toml"))
    return tmp


async def wait_for(pilot, cond, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out waiting for the app")
        await pilot.pause(0.01)


async def bench(args: argparse.Namespace) -> dict[str, float]:
    from textual import events

    from engine.config import Settings
    from engine.events import EventType
    from holdslayer_tui.app import HoldSlayerApp
    from holdslayer_tui.engine_link import real_runtime_factory
    from holdslayer_tui.screens.live_call import LiveCallScreen

    tmp = isolate()
    settings = Settings()
    stop_levels = threading.Event()
    if args.synthetic:
        sys.path.insert(0, str(ROOT / "tests" / "tui"))
        from conftest import FakeRuntime  # the tests' fake engine on the real event bus

        runtime = FakeRuntime()
        factory = lambda: runtime  # noqa: E731
        frame_times: dict[int, list[float]] = {}
    else:
        from media_clock import stamp_frames

        factory = real_runtime_factory(settings, demo_hold_seconds=60, demo_log_dir=tmp)
        frame_times = stamp_frames()
    app = HoldSlayerApp(settings, runtime_factory=factory)
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.engine_state == "ready", 60)
        for _ in range(args.calls):  # the last one stays on screen, the others run behind it
            app.call_now(args.target, "bench", "")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveCallScreen), 60)
        screen: LiveCallScreen = app.screen  # type: ignore[assignment]
        call_id = screen.call_id
        if args.synthetic:
            from engine.events import Event

            runtime.bus.publish(Event(EventType.CALL_ANSWERED, call_id, {}))

            def levels() -> None:
                i = 0
                while not stop_levels.is_set():
                    runtime.bus.publish(Event(EventType.AUDIO_LEVEL, call_id, {
                        "rms_dbfs": -40 + (i % 20), "peak_dbfs": -20, "label": "music"}))
                    i += 1
                    time.sleep(0.02)

            threading.Thread(target=levels, daemon=True).start()
        await wait_for(pilot, lambda: app.book.get(call_id) is not None
                       and app.book.get(call_id).answered_at is not None, 60)
        await pilot.pause(1.0)
        # 1. meter redraw rate over a steady window
        n0, t0 = screen.meter_updates, time.perf_counter()
        await asyncio.sleep(args.seconds)
        out["meter_hz"] = (screen.meter_updates - n0) / (time.perf_counter() - t0)
        # 2. keystroke -> screen. Keys go in as the terminal driver would send them; "on screen"
        # is the first frame written after the widget changed (App._display is called per frame)
        frames: list[float] = []
        original_display = app._display

        def display(screen_, renderable) -> None:
            original_display(screen_, renderable)
            frames.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]

        async def key_to_frame(key: str, changed) -> float:
            t = time.perf_counter()
            app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
            deadline = t + 5
            while not changed():
                if time.perf_counter() > deadline:
                    raise SystemExit(f"bench: key {key!r} never showed")
                await asyncio.sleep(0.0005)
            seen = time.perf_counter()
            while not frames or frames[-1] < seen:
                await asyncio.sleep(0.0005)
            return (frames[-1] - t) * 1000

        say_box = screen.query_one("#say-box")
        ui = []
        for _ in range(args.keys):  # a pure-UI key: open the Say box, then Esc closes it
            ui.append(await key_to_frame("s", lambda: say_box.display))
            await asyncio.sleep(0.05)
            ui.append(await key_to_frame("escape", lambda: not say_box.display))
            await asyncio.sleep(0.05)
        out["key_ui_ms_median"] = statistics.median(ui)
        out["key_ui_ms_max"] = max(ui)
        # 3. keystroke -> engine (DTMF) -> IVR_DTMF_SENT -> tree on screen
        tree = screen.query_one("#ivr-tree")
        dt = []
        for i in range(args.digits):
            want, before = len(app.book.get(call_id).digits) + 1, tree._shown
            dt.append(await key_to_frame("*" if i % 2 else "#", lambda w=want, b=before: (
                len(app.book.get(call_id).digits) >= w and tree._shown != b)))  # redrawn
            await asyncio.sleep(0.4)  # the engine spaces digits 0.3 s apart
        out["key_digit_ms_median"] = statistics.median(dt)
        out["key_digit_ms_max"] = max(dt)
        stop_levels.set()
        for call in app.book.live():
            app.hang_up(call.call_id)
        await pilot.pause(0.5)
    if frame_times:
        from media_clock import gap_figures

        out.update(gap_figures(frame_times))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--synthetic", action="store_true",
                   help="no SIP: a fake engine and AUDIO_LEVEL at 50 Hz on the real bus")
    p.add_argument("--target", default="demo:acme_bank", help="what to call")
    p.add_argument("--seconds", type=float, default=8.0, help="meter measurement window")
    p.add_argument("--keys", type=int, default=20)
    p.add_argument("--digits", type=int, default=6)
    p.add_argument("--calls", type=int, default=1, help="live calls at once (at most 3)")
    p.add_argument("--no-gc-pause", action="store_true",
                   help="let Python's collector walk the whole heap during calls, as before "
                        "engine.sip.gc_pause")
    args = p.parse_args()
    if args.no_gc_pause:
        from engine.sip import gc_pause

        gc_pause.freeze_for_call = gc_pause.sweep_when_idle = lambda: None
    res = asyncio.run(bench(args))
    mode = "synthetic 50 Hz levels" if args.synthetic else f"real call to {args.target}"
    print(f"bench_tui ({mode}, 80x24, headless)")
    print(f"  meter redraws:            {res['meter_hz']:.1f} Hz   (target >= 20)")
    print(f"  key -> screen (UI only):  median {res['key_ui_ms_median']:.1f} ms, "
          f"max {res['key_ui_ms_max']:.1f} ms   (target < 50)")
    print(f"  key -> engine -> screen:  median {res['key_digit_ms_median']:.1f} ms, "
          f"max {res['key_digit_ms_max']:.1f} ms")
    if "frames" in res:
        print(f"  audio of {args.calls} call(s):  {res['frames']} frames of {res['expected']}, "
              f"gaps over 60 ms {res['gaps']}, p99 {res['p99_gap_ms']:.0f} ms, "
              f"worst {res['max_gap_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
