"""DemoCompany runs the simulator as a child; its failures must reach the user verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.demo import DemoCompany, DemoError


def test_a_broken_company_file_fails_with_the_simulators_reason(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: Broken\nnodes: [\n")
    with pytest.raises(DemoError, match=r"broken\.yaml:3: invalid YAML"):
        DemoCompany(str(bad), startup_timeout=60).start()


def test_an_unknown_demo_names_the_bundled_ones() -> None:
    with pytest.raises(DemoError, match="acme_bank"):
        DemoCompany("no_such_company").start()


def test_a_demo_company_gets_a_demo_account_number_unless_the_user_has_one() -> None:
    from engine.config import Settings
    from engine.demo import DEMO_ACCOUNT_NUMBER, demo_name, with_demo_profile
    from engine.ivr.offline_navigator import profile_value

    assert demo_name("acme_bank") == "Acme Bank" and demo_name("no_such") == "no_such"
    plain = Settings()
    demo = with_demo_profile(plain, "Acme Bank")
    assert profile_value(demo.profile, "account_number", "Acme Bank") == DEMO_ACCOUNT_NUMBER
    assert plain.profile.account_numbers == {}  # the user's settings are not changed
    own = Settings(profile={"account_numbers": {"Acme Bank": "5550001111"}})
    assert profile_value(with_demo_profile(own, "Acme Bank").profile, "account_number",
                         "Acme Bank") == "5550001111"


def test_a_demo_company_does_not_outlive_an_app_killed_outright(tmp_path: Path) -> None:
    """SIGKILL (or a crash) leaves no way to stop the child: it notices its parent went."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = ("import time\nfrom engine.demo import DemoCompany\n"
              "d = DemoCompany('telco').start()\nprint(d.proc.pid, flush=True)\ntime.sleep(120)")
    app = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        sim = int(app.stdout.readline())
    finally:
        app.send_signal(signal.SIGKILL)
        app.wait()

    def running() -> bool:
        try:
            state = Path(f"/proc/{sim}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return False
        return state != "Z"

    deadline = time.monotonic() + 15
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = running()
    if alive:
        os.kill(sim, signal.SIGKILL)
    assert not alive, "the simulator outlived the app that started it"
