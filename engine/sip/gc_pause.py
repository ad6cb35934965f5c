"""Keeps Python's cyclic garbage collector from stalling live calls' audio.

Why: a full collection walks every object the process holds with the GIL held. In the
terminal app that is about 200,000 objects (modules, models, widgets) and took 140-390 ms
each time, every second or so while keys were pressed (``bench/bench_tui.py``); the media
clock, whose Python ports need the GIL every 20 ms, stalled each time just as long, so the
far end's audio came late and ours had holes. ``gc.freeze`` takes everything alive now out of
the collector's sight. While calls are live, what is alive at a call's start and what
survives each full collection is frozen, so the next collection walks only what is newer.

Objects frozen and later dropped in a reference cycle wait for a sweep (thaw, collect all):
once no call is live, where a pause hurts nobody, and every ``SWEEP_EVERY_S`` of live calls,
so a long hold does not pile them up (the app dropped about 6,000 such objects a minute). A
sweep's pause only delays the taps' frames; the calls' own audio and a bridge to the user's
phone run in pjmedia, without Python.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 600.0

_lock = threading.Lock()
_live_since: float | None = None  # monotonic time of the last sweep while calls are live


def freeze_for_call() -> None:
    """A call is about to carry audio: what is alive now is out of the collector's way."""
    global _live_since
    with _lock:
        if _live_since is None:
            _live_since = time.monotonic()
    gc.freeze()


def sweep_when_idle() -> None:
    """No call is live: thaw and collect everything, freeing cycles made during the calls."""
    global _live_since
    with _lock:
        _live_since = None
    _sweep()


def sweep_if_due(now: float) -> None:
    """Calls have been live for ``SWEEP_EVERY_S`` since the last sweep: sweep, freeze again."""
    global _live_since
    with _lock:
        if _live_since is None or now - _live_since < SWEEP_EVERY_S:
            return
        _live_since = now
    _sweep()
    gc.freeze()


def _sweep() -> None:
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    t0 = time.perf_counter()
    freed = gc.collect()
    log.debug("swept %d frozen objects: %d freed in %.0f ms", frozen, freed,
              (time.perf_counter() - t0) * 1000)


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if _live_since is not None and phase == "stop" and info.get("generation") == 2:
        gc.freeze()  # the survivors are long-lived: the next full collection skips them


gc.callbacks.append(_after_collection)
