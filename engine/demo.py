"""Runs a bundled demo company (the simulator) in a child process on a free loopback port,
so ``holdslayer call demo:acme_bank`` and the TUI work with no SIP trunk at all."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent.parent / "assets"


class DemoError(RuntimeError):
    pass


def demo_companies() -> list[str]:
    return sorted(p.stem for p in (ASSETS / "companies").glob("*.yaml"))


def demo_name(slug: str) -> str:
    """A demo company's own name ("Acme Bank" for acme_bank), as its calls are filed under
    in history and analytics whether the app or ``holdslayer call`` made them."""
    import yaml

    try:
        data = yaml.safe_load((ASSETS / "companies" / f"{slug}.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return slug
    return str(data.get("name") or slug) if isinstance(data, dict) else slug


# what a demo company's menu asks for, so a newcomer's first call goes all the way through
# (the demo bank wants any ten-digit account number); the user's own profile wins
DEMO_ACCOUNT_NUMBER = "1234567890"


def with_demo_profile(settings: Any, company: str) -> Any:
    """``settings`` whose profile answers a demo company's data prompts."""
    profile = settings.profile
    if profile.account_numbers:
        return settings
    demo = profile.model_copy(update={"account_numbers": {company: DEMO_ACCOUNT_NUMBER}})
    return settings.model_copy(update={"profile": demo})


class DemoCompany:
    """``with DemoCompany("acme_bank") as demo: dial(demo.uri)``; the child dies with us."""

    def __init__(self, company: str, log_path: str | Path | None = None,
                 hold_seconds: float | None = None, startup_timeout: float = 120.0) -> None:
        self.company = company
        self.log_path = Path(log_path) if log_path else None
        self.hold_seconds = hold_seconds
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr_reader: threading.Thread | None = None

    @property
    def stderr_tail(self) -> str:
        """The simulator's last stderr lines (it logs warnings and crashes there)."""
        return "".join(self._stderr)

    def _drain_stderr(self) -> None:
        # an unread pipe fills at 64 KiB and then freezes the simulator mid-call
        assert self.proc is not None and self.proc.stderr is not None
        with contextlib.suppress(ValueError, OSError):
            for line in self.proc.stderr:
                self._stderr.append(line)

    @property
    def uri(self) -> str:
        return str(self.ready["uri"])

    def start(self) -> DemoCompany:
        known = demo_companies()
        if self.company not in known and not Path(self.company).is_file():
            raise DemoError(f"no demo company {self.company!r}; bundled: {', '.join(known)}")
        cmd = [sys.executable, "-m", "engine.cli", "simulate", "--company", self.company,
               "--port", "0", "--host", "127.0.0.1", "--exit-with-parent"]
        if self.log_path:
            cmd += ["--log", str(self.log_path)]
        if self.hold_seconds is not None:
            cmd += ["--hold-seconds", str(self.hold_seconds)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True,
                                               name=f"demo-stderr-{self.company}")
        self._stderr_reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._stderr_reader.join(2)
                err = self.stderr_tail.strip()
                raise DemoError(f"demo company {self.company!r} failed to start: {err[-500:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.strip().startswith("{"):
                    self.ready = json.loads(line)
                    return self
        self.stop()
        raise DemoError(f"demo company {self.company!r} did not start within "
                        f"{self.startup_timeout:.0f} s")

    def terminate(self) -> None:
        """Ask the simulator to finish (it hangs up and exits); :meth:`stop` waits for it."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(2)
        if self.proc:
            if self._stderr_reader is not None:
                self._stderr_reader.join(2)  # EOF follows the child's exit
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    def __enter__(self) -> DemoCompany:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
