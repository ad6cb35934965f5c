"""How urgent a notification is; each channel sends only at or above its minimum."""

from __future__ import annotations

import enum


class Priority(enum.IntEnum):
    LOW = 10  # IVR step, digit sent
    NORMAL = 20  # hold detected, call ended
    HIGH = 30  # call failed, timed out
    CRITICAL = 40  # a person answered, transfer started

    @classmethod
    def parse(cls, value: object) -> Priority:
        """Accept names in any case ("high") as written in a settings file, or numbers."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(
                    f"unknown priority {value!r}; one of {', '.join(p.name.lower() for p in cls)}"
                ) from None
        return cls(value)  # type: ignore[arg-type]
