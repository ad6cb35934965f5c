"""Turn what people type into something dialable: an E.164 number, a SIP URI, or a demo company.

People paste numbers the way companies print them — ``(800) 555-1234``, ``+1 800 555 1234``,
``1-800-FLOWERS`` — so letters map to keypad digits and punctuation is dropped; anything we
cannot turn into a plausible number is refused with a message that says what is wrong.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

KEYPAD = {
    **dict.fromkeys("ABC", "2"),
    **dict.fromkeys("DEF", "3"),
    **dict.fromkeys("GHI", "4"),
    **dict.fromkeys("JKL", "5"),
    **dict.fromkeys("MNO", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TUV", "8"),
    **dict.fromkeys("WXYZ", "9"),
}
_SIP_URI = re.compile(r"^sips?:(?:[^@\s]+@)?[A-Za-z0-9.\-\[\]:]+(?:;[^\s]*)?$")
_DEMO = re.compile(r"^demo:([A-Za-z0-9_\-]+)$")
_PHONE_CHARS = re.compile(r"^[+]?[0-9A-Za-z().\-\s/]+$")


class InvalidTarget(ValueError):
    """What the user typed cannot be dialled; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    kind: Literal["tel", "sip", "demo"]
    value: str  # E.164 "+18005551234", a SIP URI, or a demo company name
    original: str

    @property
    def display(self) -> str:
        return self.value


def _letters_to_digits(text: str) -> str:
    return "".join(KEYPAD.get(ch, ch) for ch in text.upper())


def normalize_number(text: str, default_country: str = "1") -> str:
    """Return E.164 (``+18005551234``) or raise :class:`InvalidTarget`."""
    raw = text.strip()
    if not raw:
        raise InvalidTarget("no number given")
    if "+" in raw[1:]:
        raise InvalidTarget(f"{raw!r} is not a phone number: '+' may only lead")
    if not _PHONE_CHARS.match(raw):
        bad = sorted({c for c in raw if not re.match(r"[+0-9A-Za-z().\-\s/]", c)})
        raise InvalidTarget(f"{raw!r} is not a phone number: unexpected {''.join(bad)!r}")
    has_plus = raw.startswith("+")
    body = _letters_to_digits(re.sub(r"[().\-\s/+]", "", raw))
    if not body.isdigit():
        raise InvalidTarget(f"{raw!r} is not a phone number")
    letters = sum(ch.isalpha() for ch in raw)
    if has_plus:
        digits = body
    elif body.startswith("00"):
        digits = body[2:]  # international prefix used in most of the world
    elif default_country == "1":
        if len(body) == 10:
            digits = "1" + body
        elif len(body) == 11 and body.startswith("1"):
            digits = body
        elif letters and len(body) > 11 and body.startswith("1"):
            # vanity numbers often carry extra letters ("1-800-FLOWERS-NOW"): 11 digits dial
            digits = body[:11]
        else:
            n = len(body)
            raise InvalidTarget(
                f"{raw!r} has {n} digit{'' if n == 1 else 's'}; North American numbers have 10,"
                " or 11 starting with 1 (e.g. (800) 555-1234); start with + for other countries"
            )
    elif body.startswith("0"):
        digits = default_country + body[1:]
    else:
        digits = default_country + body
    if not 8 <= len(digits) <= 15:
        raise InvalidTarget(
            f"{raw!r} is {len(digits)} digits long; an international number has 8 to 15"
        )
    if digits.startswith("0"):
        raise InvalidTarget(f"{raw!r}: country codes never start with 0")
    return "+" + digits


def parse_target(text: str, default_country: str = "1") -> Target:
    """Classify and normalise a dial target (number, ``sip:`` URI, or ``demo:<company>``)."""
    raw = text.strip()
    if not raw:
        raise InvalidTarget("nothing to dial: give a phone number, a sip: URI or demo:<company>")
    if m := _DEMO.match(raw):
        return Target("demo", m.group(1), raw)
    if raw.lower().startswith(("sip:", "sips:")):
        if not _SIP_URI.match(raw):
            raise InvalidTarget(f"{raw!r} is not a valid SIP URI (expected sip:user@host[:port])")
        return Target("sip", raw, raw)
    if raw.lower().startswith("tel:"):
        raw = raw[4:]
    if "@" in raw and " " not in raw:
        candidate = "sip:" + raw
        if _SIP_URI.match(candidate):
            return Target("sip", candidate, text.strip())
    return Target("tel", normalize_number(raw, default_country), text.strip())


def needs_tls(uri: str) -> bool:
    """Whether pjsip must reach ``uri`` over TLS: a ``sips:`` URI or ``;transport=tls``."""
    u = uri.strip().lstrip("<").lower()
    if u.startswith("sips:"):
        return True
    params = u.split("@")[-1].split(">")[0].split(";")[1:]
    return "transport=tls" in (p.strip() for p in params)
