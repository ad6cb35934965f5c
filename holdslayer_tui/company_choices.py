"""Who the user can call without typing: the bundled demo companies and numbers from history.
Read in a worker (files and the database), never on the UI thread."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.demo import demo_companies, demo_name


@dataclasses.dataclass(frozen=True, slots=True)
class Choice:
    label: str
    target: str
    company: str = ""
    source: str = "demo"  # "demo" | "history"


def demo_choices() -> list[Choice]:
    out = []
    for slug in demo_companies():
        name = demo_name(slug)
        out.append(Choice(f"{name} (demo)", f"demo:{slug}", name, "demo"))
    return out


def history_choices(store: Any, limit: int = 8) -> list[Choice]:
    """Distinct recent targets from history, newest first."""
    if store is None:
        return []
    seen: set[str] = set()
    out = []
    try:
        calls = store.list_calls(limit=100)
    except Exception:
        return []
    for call in calls:
        target = call.get("target") or call.get("number") or ""
        if not target or target in seen or target.startswith("demo:"):
            continue
        seen.add(target)
        company = call.get("company") or ""
        out.append(Choice(f"{company or target} (recent)", target, company, "history"))
        if len(out) >= limit:
            break
    return out
