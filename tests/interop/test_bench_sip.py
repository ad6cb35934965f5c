"""The SIP benchmark still runs end to end (a tiny configuration)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = [pytest.mark.sip, pytest.mark.slow]


def test_bench_sip_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_sip.py"), "--calls", "1", "--digits", "15",
         "--cpu-seconds", "2", "--idle-seconds", "0.5"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for method in ("rfc2833", "info", "inband"):
        row = re.search(rf"^  {method} +(\d+)(?: +-?[\d.]+){{3}} +(\d+)$", out, re.M)
        assert row, out
        assert row.groups() == ("2", "0"), out  # both keys arrived, none lost
    assert re.search(r"[\d.]+ CPU s per call-minute", out), out
    fps = re.search(r"tap: ([\d.]+) frames/s", out)
    assert fps and 45 <= float(fps.group(1)) <= 55, out
