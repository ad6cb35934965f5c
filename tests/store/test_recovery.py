"""kill -9 mid-call: everything heard before the kill survives, and the call shows as
interrupted the next time the history is opened (but not while its process still lives)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from engine.store import HistoryStore

CHILD = textwrap.dedent(
    """
    import sys, time
    from engine.events import EventBus, EventType
    from engine.store import HistoryRecorder, HistoryStore

    bus = EventBus()
    rec = HistoryRecorder(bus, HistoryStore(sys.argv[1]))
    bus.emit(EventType.CALL_STARTED, "doomed", company="Acme Bank", number="+18005550100",
             intent="billing", target="demo:bank", uri="sip:bank@127.0.0.1")
    bus.emit(EventType.CALL_ANSWERED, "doomed")
    bus.emit(EventType.IVR_STEP, "doomed", node_id="main", transcript="press 2 for billing",
             options=["1", "2"], chosen="2", reason="billing")
    bus.emit(EventType.IVR_DTMF_SENT, "doomed", digits="2", method="rfc2833")
    bus.emit(EventType.HOLD_DETECTED, "doomed", evidence="music")
    bus.emit(EventType.TRANSCRIPT_CHUNK, "doomed", text="your call is important to us")
    assert rec.wait_for(6, timeout=20)
    print("HEARD", flush=True)
    time.sleep(120)  # mid-call, on hold, when the kill comes
    """
)


def test_kill_9_mid_call(db_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "HEARD"
        # another process opening the history while the call is live must not end it
        with HistoryStore(db_path) as live:
            assert live.recovered == 0
            assert live.get_call("doomed")["outcome"] == "in_progress"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    with HistoryStore(db_path) as store:
        assert store.recovered == 1
        call = store.get_call("doomed")
    assert call is not None
    assert call["outcome"] == "interrupted"
    assert call["cause"] == "app stopped mid-call"
    assert call["company"] == "Acme Bank" and call["digits"] == "2"
    assert call["ivr_steps"][0]["transcript"] == "press 2 for billing"
    assert call["transcript"][0]["text"] == "your call is important to us"
    assert call["hold_started_at"] is not None
    assert call["ended_at"] == call["last_event_at"]
