"""The analysis models load before a line is live, never during the call.

Each load holds the GIL for 0.1-0.3 s, which stalls the media clock's Python ports: a key sent
in-band then reached the company bent or cut in two (``bench/media_clock.py`` measures the
gaps). A fresh process, because the suite's other tests load the models in this one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sip

SCRIPT = """
import json, sys, threading
from pathlib import Path
from engine.audio import analyzer, transcript_cues
from engine.config import Settings
from engine.events import EventType
from engine.runtime import Runtime

seen = {}
started = threading.Event()

def on_start(event):
    stt = analyzer._shared_stt
    seen["whisper_loaded"] = stt is not None and stt._model is not None
    seen["names_loaded"] = bool(transcript_cues._names)
    started.set()

with Runtime(Settings(), history=False, notify=False, demo_log_dir=Path(sys.argv[1])) as rt:
    rt.bus.subscribe(on_start, types=[EventType.CALL_STARTED])
    call = rt.place_call("demo:telco", navigate=False)
    started.wait(60)
    rt.hangup(call)
print(json.dumps(seen))
"""


def test_the_analysis_models_are_loaded_before_the_call_is_dialled(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen == {"whisper_loaded": True, "names_loaded": True}
