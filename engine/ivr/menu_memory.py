"""How the call driver tells menus apart: fingerprints of what a menu offered, and the match
between a learned menu's opening words and the first seconds heard on a new call.

Why fuzzy: the same recorded menu comes back from speech-to-text a little differently each
call ("check-in" / "checking", a dropped "please"), so identity is overlap of option keys and
label word stems, never string equality.
"""

from __future__ import annotations

import hashlib
import re

from engine.ivr.menu_parser import ParsedMenu
from engine.ivr.offline_navigator import content_stems, stem


def menu_fingerprint(menu: ParsedMenu) -> tuple[frozenset[str], frozenset[str]]:
    keys = frozenset(menu.keys) | ({f"data:{menu.data.field}"} if menu.data else set())
    words: set[str] = set()
    for o in menu.options:
        words |= content_stems(o.label)
    if not words:
        words = content_stems(menu.text)
    return keys, frozenset(words)


def _same_label(a: ParsedMenu, b: ParsedMenu, key: str) -> bool:
    oa, ob = a.option(key), b.option(key)
    if oa is None or ob is None:
        return True
    sa, sb = content_stems(oa.label), content_stems(ob.label)
    if not sa or not sb:
        return True
    return len(sa & sb) / min(len(sa), len(sb)) >= 0.5


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def same_menu(a: ParsedMenu, b: ParsedMenu, threshold: float = 0.6) -> bool:
    """The second menu is the first one again (our key was not taken, or it timed out)."""
    ka, wa = menu_fingerprint(a)
    kb, wb = menu_fingerprint(b)
    if not ka or not kb:
        return False
    if kb < ka or ka < kb:  # heard only part of it the second time
        small, big = (wb, wa) if kb < ka else (wa, wb)
        if not small or len(small & big) / len(small) < threshold:
            return False
        # a part of the same menu offers the same thing under each key it shares; a
        # follow-up menu ("if stolen press 1, if lost press 2") reuses keys for new things
        return all(_same_label(a, b, key) for key in ka & kb)
    return 0.5 * _jaccard(ka, kb) + 0.5 * _jaccard(wa, wb) >= threshold


def node_id(menu: ParsedMenu) -> str:
    """A short, display-only id for a menu in the live tree."""
    keys, words = menu_fingerprint(menu)
    raw = ",".join(sorted(keys)) + "|" + ",".join(sorted(words)[:12])
    return "m" + hashlib.sha1(raw.encode()).hexdigest()[:8]


def opening_words(text: str, n: int = 24) -> str:
    """The first words of a menu, stored with a learned flow to recognise it next time."""
    return " ".join(re.findall(r"[a-zA-Z0-9']+", text.lower())[:n])


def opening_match(opening: str, heard: str) -> float:
    """Share of the content words heard (the first seconds of a menu) that the learned
    opening also has. 0 when too little was heard to say."""
    heard_stems = [stem(w) for w in re.findall(r"[a-zA-Z']+", heard.lower())
                   if len(w) > 2 and w not in ("the", "and", "for", "you", "your")]
    if len(heard_stems) < 2:
        return 0.0
    known = {stem(w) for w in opening.split()}
    hits = sum(1 for s in heard_stems if any(s == k or (len(s) > 3 and k.startswith(s))
                                             or (len(k) > 3 and s.startswith(k)) for k in known))
    return hits / len(heard_stems)
