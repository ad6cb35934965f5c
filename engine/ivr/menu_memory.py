"""How the call driver tells menus apart: fingerprints of what a menu offered, and the match
between a learned menu's opening words and the first seconds heard on a new call.

Why fuzzy: the same recorded menu comes back from speech-to-text a little differently each
call ("check-in" / "checking", a dropped "please"), so identity is overlap of option keys and
label word stems, never string equality.
"""

from __future__ import annotations

import difflib
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


_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
# what a greeting says in any company: hearing these tells nothing about the menu behind it
_GREETING = frozenset("welcome thank thanks call calling hello reached you've ve".split())
_KEY_MENTION = re.compile(r"\b(?:press|dial|push|select|enter)\s+(?:\d|star|pound)\b"
                          r"|\b\d\s+(?:for|to|if)\b")


def _letters(text: str) -> str:
    """A transcript as one run of letters and digits: "Blue Peak" and "BluePeak", "press
    one" and "press 1" come out the same, whichever way speech-to-text wrote them."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "".join(_DIGIT_WORDS.get(w, w) for w in words)


def opening_similarity(opening: str, heard: str, max_skip: int = 12) -> float:
    """How closely the first seconds heard on this call follow the learned opening, letter by
    letter, from its start (a quick transcript may lose a first word: up to ``max_skip``
    letters of the opening may be missing). A reordered menu ("press 1 for support" where
    it said "press 1 for billing") scores low because the order counts, and the score is
    the worse of the whole and its second half."""
    h, o = _letters(heard), _letters(opening)
    if not h or not o:
        return 0.0
    best = 0.0
    half = len(h) // 2
    for skip in range(0, min(max_skip, max(0, len(o) - len(h))) + 1):
        whole = _ratio(h, o[skip: skip + len(h)])
        if whole <= best:
            continue
        # the newest words must match too: a greeting alike in front of new options is not
        # the learned menu
        best = max(best, min(whole, _ratio(h[half:], o[skip + half: skip + len(h)])))
    return best


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def opening_recognised(opening: str, heard: str, company: str = "",
                       threshold: float = 0.8, min_letters: int = 24) -> bool:
    """The menu heard is the learned one, with enough confidence to press its key before
    its options are spoken: the opening matches closely for a few words, and what matched
    goes beyond the company's greeting (a key mention, or two words that are neither the
    company's name nor greeting formulas), so an unchanged greeting in front of a changed
    menu does not count."""
    if len(_letters(heard)) < min_letters:
        return False
    if opening_similarity(opening, heard) < threshold:
        return False
    if _KEY_MENTION.search(_digits(heard.lower())):
        return True
    own = content_stems(company) | {stem(w) for w in _GREETING}
    return len(content_stems(heard) - own) >= 2


def _digits(text: str) -> str:
    return re.sub(r"\b(" + "|".join(_DIGIT_WORDS) + r")\b", lambda m: _DIGIT_WORDS[m.group(1)],
                  text)
