"""Which audio codecs a pjsua2 endpoint offers and accepts, and in what order.

Why: a trunk or a company's PBX may speak only G.711, a mobile leg GSM or AMR, an internet
trunk G.722 or iLBC. The simulator can play a company behind any of them (``--codec``), so
detection is measured on the sound a real line delivers, not only on the wideband default.
"""

from __future__ import annotations

from collections.abc import Sequence

import pjsua2 as pj

# What a softphone offers a trunk when told nothing, best first: wideband G.722, then G.711,
# which every trunk has, then the rest. pjsua2's own order puts speex and iLBC and GSM (low
# bit rates: a recognizer hears them worse) before G.711, and a PBX that takes the caller's
# order then picks GSM on a line that could have carried G.711.
STANDARD_ORDER = ("G722/16000", "PCMU/8000", "PCMA/8000", "speex/16000", "speex/32000",
                  "speex/8000", "iLBC/8000", "GSM/8000")


def codec_ids(ep: pj.Endpoint) -> list[str]:
    """This build's codecs ("PCMU/8000/1", ...), in pjsua2's default order."""
    return [c.codecId for c in ep.codecEnum2()]


def matches(codec_id: str, name: str) -> bool:
    """"PCMU" and "pcmu/8000" both name "PCMU/8000/1"; "speex" names every speex rate."""
    cid, want = codec_id.lower(), name.strip().lower()
    return cid == want or cid.startswith(want + "/")


def offer_only(ep: pj.Endpoint, names: Sequence[str]) -> list[str]:
    """Enable only the codecs ``names`` name, the first named first; the rest are off.
    Returns the ids enabled. A name this build lacks is a ValueError that lists them all."""
    have = codec_ids(ep)
    order: list[str] = []
    for name in names:
        found = [cid for cid in have if matches(cid, name) and cid not in order]
        if not found and not any(matches(cid, name) for cid in order):
            names = dict.fromkeys(cid.rsplit("/", 1)[0] for cid in have)
            raise ValueError(f"no audio codec {name!r} in this build; it has: "
                             f"{', '.join(names)}")
        order += found
    for cid in have:
        ep.codecSetPriority(cid, 0)
    for rank, cid in enumerate(order):
        ep.codecSetPriority(cid, 254 - rank)
    return order


def prefer_standard(ep: pj.Endpoint) -> list[str]:
    """Offer every codec of the build, in :data:`STANDARD_ORDER` (those it does not name
    keep their place after them). Returns the ids in the order offered."""
    have = codec_ids(ep)
    order = [cid for name in STANDARD_ORDER for cid in have if matches(cid, name)]
    for rank, cid in enumerate(order):
        ep.codecSetPriority(cid, 254 - rank)
    return order
