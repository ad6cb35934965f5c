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
