"""Turns what a phone menu said (a speech-to-text transcript) into the choices it offers.

Why rules and not a model: menus are formulaic but phrased every which way ("press 1 for
billing", "for billing, press 1", "to hear your balance, press 2", "say 'agent' or press
0", "para español, oprima dos"), and the navigator must work offline, instantly, on every
menu. The parser finds each key mention, then decides whether its label comes before or
after it (the direction most of the menu uses settles ambiguous cases). It also recognises
prompts that ask for data (account number, ZIP, date of birth, "followed by pound"),
language choices, and repeat/back keys, which a navigator must never pick by accident.
"""

from __future__ import annotations

import dataclasses
import re

_NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "star": "*", "asterisk": "*", "pound": "#", "hash": "#", "hashtag": "#",
    "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9", "cero": "0", "estrella": "*",
    "number sign": "#", "pound sign": "#", "the star key": "*", "the pound key": "#",
    "the star": "*", "the pound": "#", "the hash key": "#", "the number": None,
}
_VERBS = (r"press(?:ing)?|dial|enter|push|select|choose|key|touch|hit|tap|pulse|oprima|"
          r"marque|presione|pulse")
_KEY = (r"the\s+star\s+key|the\s+pound\s+key|the\s+hash\s+key|the\s+star|the\s+pound|"
        r"number\s+sign|pound\s+sign|star|asterisk|pound|hash|hashtag|zero|oh|one|two|three|"
        r"four|five|six|seven|eight|nine|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|"
        r"cero|estrella|\d|\*|#")
# "press 1", "press one", "press the star key", "oprima el dos"; a digit run longer than one
# key ("enter 1234") is data, not a menu key
_MENTION = re.compile(
    rf"\b(?:{_VERBS})\s+(?:(?:el|la|the\s+number|number|key|button)\s+)?"
    rf"(?P<key>{_KEY})(?![\w])(?:\s+key)?",
    re.I,
)
_KEYWORD = r"(?:\d|star|pound|zero|one|two|three|four|five|six|seven|eight|nine)"
# "press 1 for billing, 2 for sales or 3 for support": keys after the first, no verb
_BARE_CONTINUATION = re.compile(
    rf"(?:(?:^|[,;]|\bor\b|\band\b)\s*(?P<key>{_KEYWORD})|\s(?P<digit>\d))"
    rf"\s+(?P<label>(?:for|to|if|about|regarding)\b.*?)"
    rf"(?=$|[;.]|,?\s+(?:or\s+|and\s+)?{_KEYWORD}\s+(?:for|to|if|about|regarding)\b)",
    re.I,
)
_SAY = re.compile(r"\bsay\s+[\"'“‘]?(?P<word>[a-z][a-z ]{1,30}?)[\"'”’]?(?=\s*(?:,|\.|or\b|$))",
                  re.I)
_LABEL_LEAD = re.compile(
    r"^(?:for|to|if|when|about|regarding|para|si|in\s+order\s+to|should\s+you)\b", re.I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_FILLER_LEAD = re.compile(r"^(?:,|\.|please|and|or|otherwise|now|you\s+can|you\s+may|"
                          r"at\s+any\s+time|simply|just|then|also|or\s+else)\b[\s,]*", re.I)

_REPEAT = re.compile(
    r"\b(?:repeat|hear\s+(?:these|this|the|our)\s+(?:options|menu|choices)?\s*again|"
    r"hear\s+(?:them|it)\s+again|listen\s+again|replay|hear\s+this\s+menu|"
    r"hear\s+(?:the\s+)?(?:options|menu|choices)\s+again|repetir|"
    r"hear\s+(?:these|the)\s+(?:options|choices)\s+one\s+more\s+time)", re.I)
_BACK = re.compile(r"\b(?:previous\s+menu|main\s+menu|go\s+back|return\s+to|start\s+over|"
                   r"back\s+to)\b", re.I)
_AGENT = re.compile(
    r"\b(?:representative|operator|agent|associate|specialist|customer\s+service|"
    r"customer\s+care|speak\s+(?:to|with)\s+(?:a|an|someone|somebody|one|our)|"
    r"talk\s+(?:to|with)\s+(?:a|an|someone|somebody)|live\s+person|real\s+person|"
    r"someone|a\s+person|team\s+member|advisor|advisers?|banker|staff)\b", re.I)
_LANGUAGE = re.compile(
    r"\b(?:english|espa[nñ]ol|spanish|fran[cç]ais|french|deutsch|german|chinese|mandarin|"
    r"cantonese|vietnamese|korean|portugu[eê]s|portuguese|italian|russian|tagalog|"
    r"arabic|hindi|polish|japanese|creole)\b", re.I)
_OTHER_LANGUAGE_TEXT = re.compile(r"\b(?:para|oprima|marque|presione|espa[nñ]ol|pour|appuyez)\b",
                                  re.I)
_CATCH_ALL = re.compile(r"\b(?:all\s+other|any\s*thing\s+else|every\s*thing\s+else|"
                        r"other\s+(?:questions|inquiries|requests|matters)|general\s+"
                        r"(?:questions|inquiries)|none\s+of\s+(?:these|the\s+above))\b", re.I)
# "if this is an emergency, hang up and dial 9 1 1" is advice, not a menu key
_EXIT = re.compile(r"\bhang\s+up\b|\b9\s*1\s*1\b|\bnine\s+one\s+one\b", re.I)
_CALLBACK = re.compile(r"\b(?:call(?:ed)?\s*(?:you\s+|me\s+)?back|callback|"
                       r"return\s+your\s+call)\b", re.I)
_INVALID = re.compile(
    r"\b(?:invalid|not\s+a\s+valid|not\s+valid|did\s*n[o']t\s+(?:understand|get|recogni[sz]e)|"
    r"didn't\s+catch|not\s+recogni[sz]ed|please\s+try\s+again|try\s+again|"
    r"sorry,?\s+(?:i|that|we))\b", re.I)

_DATA_FIELDS: tuple[tuple[str, str], ...] = (
    ("account_number", r"account\s+(?:number|no\.?)|account\s*#|customer\s+(?:number|id)"),
    ("zip_code", r"zip(?:\s+code)?|postal\s+code|post\s+code"),
    ("date_of_birth", r"date\s+of\s+birth|birth\s*date|birthday"),
    ("phone_number", r"(?:phone|telephone|mobile|cell|home\s+phone|callback)\s+number"),
    ("ssn_last4", r"social\s+security|last\s+four|ssn"),
    ("pin", r"\bpin\b|pass\s*code|password|security\s+code"),
    ("member_id", r"member\s*(?:ship)?\s+(?:id|number)|policy\s+number|subscriber\s+id|"
                  r"patient\s+id|student\s+id|employee\s+id"),
    ("card_number", r"card\s+number"),
    ("order_number", r"order\s+number|tracking\s+number|confirmation\s+(?:number|code)|"
                     r"reference\s+number|claim\s+number|case\s+number|ticket\s+number|"
                     r"reservation\s+number|booking\s+(?:number|reference)"),
    ("flight_number", r"flight\s+number"),
)
_DATA_ASK = re.compile(
    r"\b(?:enter|key\s+in|type|input|say|provide|tell\s+us|punch\s+in|using\s+your\s+keypad)\b"
    r"|\bplease\s+(?:enter|say)\b|\bwhat\s+is\s+your\b", re.I)
_DATA_DIGITS = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|sixteen)"
    r"[\s-]+digit", re.I)
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
             "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "sixteen": 16}
_TERMINATOR = re.compile(r"followed\s+by\s+(?:the\s+)?(pound|hash|number\s+sign|star|#|\*)",
                         re.I)


@dataclasses.dataclass(slots=True)
class MenuOption:
    """One choice: the key to press and what the menu said it does."""

    key: str
    label: str
    kind: str = "option"  # option | agent | repeat | back | language | callback | exit
    spoken: str = ""  # the word a speech menu accepts instead ("agent")

    def to_dict(self) -> dict[str, str]:
        d = {"key": self.key, "label": self.label, "kind": self.kind}
        if self.spoken:
            d["spoken"] = self.spoken
        return d


@dataclasses.dataclass(slots=True)
class DataPrompt:
    """The menu wants a value typed in (or said), not a choice."""

    field: str
    digits: int | None = None
    terminator: str = ""
    spoken: bool = False


@dataclasses.dataclass(slots=True)
class ParsedMenu:
    text: str
    options: list[MenuOption]
    data: DataPrompt | None = None
    invalid: bool = False  # "that option is invalid": our last key was not taken

    @property
    def choices(self) -> list[MenuOption]:
        """Options a navigator may pick for the caller's intent (no repeat/back keys)."""
        return [o for o in self.options if o.kind not in ("repeat", "back", "exit")]

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.options]

    @property
    def complete(self) -> bool:
        """The menu said its closing line (repeat/back/agent come last in most menus)."""
        return bool(self.options) and self.options[-1].kind in ("repeat", "back")

    def option(self, key: str) -> MenuOption | None:
        return next((o for o in self.options if o.key == key), None)


def _key(raw: str) -> str | None:
    k = re.sub(r"\s+", " ", raw.strip().lower())
    if k in ("*", "#") or k.isdigit():
        return k
    return _NUMBER_WORDS.get(k)


def _clean_label(text: str) -> str:
    label = text.strip(" ,.;:!?-\"'“”")
    for _ in range(3):
        new = _FILLER_LEAD.sub("", label).strip(" ,.;:")
        if new == label:
            break
        label = new
    label = re.sub(r"\s*,?\s*(?:or\s+)?say\s+[\"'“‘]?[a-z ]+[\"'”’]?\s*$", "", label, flags=re.I)
    label = re.sub(r"(?:\s*,?\s*\b(?:or|and|please|now))+\s*$", "", label, flags=re.I)
    return label.strip(" ,.;:\"'“”")


def _last_clause(label: str) -> str:
    """'listen carefully, as our options have changed to book a new flight' → 'to book a new
    flight': a greeting run into the first label (speech-to-text drops the full stop)."""
    if len(label.split()) <= 6:
        return label
    leads = list(re.finditer(r"\b(?:for|to|if|para)\s+(?!calling\b)", label, re.I))
    if not leads:
        return label
    return label[leads[-1].start():]


def _is_label(text: str) -> bool:
    words = re.findall(r"[a-zA-Zñé']+", text)
    return len(words) >= 1 and not (len(words) == 1 and words[0].lower() in
                                     ("or", "and", "please", "now", "then", "also"))


def _classify(label: str, key: str, sentence: str) -> str:
    if _EXIT.search(label) or _EXIT.search(sentence) and key == "9":
        return "exit"
    if _REPEAT.search(label) or (not label and _REPEAT.search(sentence)):
        return "repeat"
    if _BACK.search(label):
        return "back"
    if _LANGUAGE.search(label) or (_OTHER_LANGUAGE_TEXT.search(sentence)
                                   and _LANGUAGE.search(sentence)):
        return "language"
    if _CALLBACK.search(label):
        return "callback"
    if _AGENT.search(label) or _CATCH_ALL.search(label):
        return "agent"
    return "option"


def _repair_shifted_punctuation(text: str) -> str:
    """Speech-to-text often hears "To book a flight, press 1. To change it, press 2." as
    "To book a flight. Press 1 to change it. Press 2." — the pauses fall after the labels,
    so the periods do too, and every label seems to follow the wrong key. The tell: the text
    after the last key is no label, yet keys are followed by "to/for ...". Put the periods
    back after the keys."""
    mentions = list(_MENTION.finditer(text))
    if len(mentions) < 2:
        return text
    tail = _clean_label(text[mentions[-1].end():])
    # a key said as a sentence of its own right after a shifted label ("press 1 to report a
    # leak. Press 2. For new service ...") is the same tell when the last key was misheard
    # ("press star" → "press DAR")
    lone_key = any(re.match(r"\s*[.?!]\s+\S", text[m.end():])
                   and re.search(r"[.?!]\s*$", text[: m.start()])
                   and _LABEL_LEAD.match(text[p.end():].lstrip(" ,"))
                   for p, m in zip(mentions, mentions[1:-1], strict=False))
    if _LABEL_LEAD.match(tail) and not lone_key:
        return text  # a real "press 1 for billing" menu: labels do follow keys
    shifted = [m for m in mentions if _LABEL_LEAD.match(text[m.end():].lstrip(" ,"))]
    if not shifted:
        return text
    out, last = [], 0
    for m in shifted:
        head = re.sub(r"[.?!]\s*$", ", ", text[last: m.start()])
        out.append(head + m.group(0) + ". ")
        last = m.end()
        while last < len(text) and text[last] in " ,":
            last += 1
    out.append(text[last:])
    return "".join(out)


# "to about a past order", "for for billing": speech-to-text wrote a key as its homophone;
# no English phrase puts these words before a label's lead word
_HOMOPHONE_KEY = re.compile(r"(?:(?<=,)|(?<=^)|(?<=\bor))\s*\b(?P<word>to|too|for)\s+"
                            r"(?=(?:for|to|about|if|regarding)\b)", re.I)


def _key_homophones(text: str) -> str:
    return _HOMOPHONE_KEY.sub(
        lambda m: " " + ("two" if m.group("word").lower() in ("to", "too") else "four") + " ",
        text)


def parse_menu(text: str) -> ParsedMenu:
    """Everything a navigator needs from one menu's transcript."""
    text = (text or "").strip()
    heard = text
    text = _repair_shifted_punctuation(_key_homophones(text))
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    raw: list[tuple[str, str, str, str, str]] = []  # key, before, after, sentence, prev
    prev_sentence = ""
    for sentence in sentences:
        mentions = list(_MENTION.finditer(sentence))
        for i, m in enumerate(mentions):
            key = _key(m.group("key"))
            if key is None:
                continue
            start_prev = mentions[i - 1].end() if i else 0
            end_next = mentions[i + 1].start() if i + 1 < len(mentions) else len(sentence)
            before = sentence[start_prev:m.start()]
            after = sentence[m.end():end_next]
            raw.append((key, before, after, sentence, prev_sentence if i == 0 else ""))
        prev_sentence = sentence if not mentions else ""

    # which side do labels sit on? vote with the unambiguous mentions
    votes_after = votes_before = 0
    for _k, before, after, _s, _p in raw:
        b, a = _clean_label(before), _clean_label(after)
        a_lead, b_ok = bool(_LABEL_LEAD.match(a)), _is_label(b)
        if a_lead and not b_ok:
            votes_after += 1
        elif b_ok and not a_lead:
            votes_before += 1
    if raw and votes_after == votes_before:
        # every key has "for ..." on both sides ("Coastal Car Rental, press 1 for reservations,
        # press 2 for roadside assistance, press 3 for questions ..."): the ends settle it,
        # the words before the first key ("Coastal Car Rental") lead like no label
        head, tail = _clean_label(raw[0][1]), _clean_label(raw[-1][2])
        if _LABEL_LEAD.match(tail) and not _LABEL_LEAD.match(head):
            votes_after += 1
        elif _LABEL_LEAD.match(head) and not _LABEL_LEAD.match(tail):
            votes_before += 1

    options: list[MenuOption] = []
    seen: set[str] = set()
    for key, before, after, sentence, prev in raw:
        b, a = _clean_label(before), _clean_label(after)
        extra: list[tuple[str, str]] = []
        say = _SAY.search(before + " " + after)
        spoken = say.group("word").strip().lower() if say else ""
        if _LABEL_LEAD.match(a) and (not _is_label(b) or votes_after > votes_before):
            # "press 1 for billing, 2 for sales": the tail may hold bare-key options
            cont = list(_BARE_CONTINUATION.finditer(a))
            label = _clean_label(a[: cont[0].start()] if cont else a)
            for c in cont:
                ck = _key(c.group("key") or c.group("digit"))
                if ck:
                    extra.append((ck, _clean_label(c.group("label"))))
        elif _is_label(b):
            label = _last_clause(b)
        elif spoken:
            label = spoken  # "say agent or press 0"
        elif prev and _is_label(prev) and not _MENTION.search(prev):
            label = _clean_label(prev)  # "For billing." ... "Press 1."
        else:
            label = a
        for k, lab in [(key, label), *extra]:
            if k in seen:
                continue
            seen.add(k)
            kind = _classify(lab, k, sentence)
            options.append(MenuOption(k, _strip_lead(lab), kind, spoken if k == key else ""))
    if not options:
        options = _spoken_only(text)
    return ParsedMenu(text=heard, options=options, data=_data_prompt(text, options),
                      invalid=bool(_INVALID.search(text)))


SPEECH_KEY = "say:"  # the key of an option a speech menu takes only spoken: "say:billing"
_SAY_LIST = re.compile(r"\b(?:you\s+can\s+say|just\s+say|please\s+say|say)\s+(?P<list>[^.?!;]+)",
                       re.I)


def _spoken_only(text: str) -> list[MenuOption]:
    """A menu with no keys at all ("You can say billing, technical support, or agent"): each
    phrase is an option to be said. Its key is ``say:<phrase>``, so it is never pressed."""
    options: list[MenuOption] = []
    for m in _SAY_LIST.finditer(text):
        for part in re.split(r",|\bor\b|\band\b", m.group("list")):
            phrase = re.sub(r"[\"'“”‘’]", "", part).strip().lower()
            phrase = re.sub(r"^(?:just\s+)?say\s+", "", phrase)
            words = phrase.split()
            if not phrase or len(words) > 4 or words[0] in ("the", "your", "a"):
                continue
            key = SPEECH_KEY + phrase
            if all(o.key != key for o in options):
                options.append(MenuOption(key, phrase, _classify(phrase, key, m.group(0)),
                                          phrase))
    return options


def _strip_lead(label: str) -> str:
    """'for billing questions' → 'billing questions' (the words that carry meaning)."""
    return re.sub(r"^(?:for|to|if\s+you(?:\s+are|'re|’re)\s+calling\s+(?:about|for|to|regarding)|"
                  r"if\s+you|"
                  r"if|about|regarding|para)\s+", "", label, flags=re.I).strip()


def _data_prompt(text: str, options: list[MenuOption]) -> DataPrompt | None:
    if not _DATA_ASK.search(text):
        return None
    lowered = text.lower()
    for field, pattern in _DATA_FIELDS:
        m = re.search(pattern, lowered)
        if not m:
            continue
        # "press 1 to change your pin" is an option, not a request for the pin
        if any(re.search(pattern, o.label.lower()) for o in options):
            continue
        digits = None
        d = _DATA_DIGITS.search(lowered)
        if d:
            raw = d.group(1)
            digits = int(raw) if raw.isdigit() else _WORD_NUM.get(raw)
        term = ""
        t = _TERMINATOR.search(lowered)
        if t:
            term = "*" if t.group(1) in ("star", "*") else "#"
        spoken = bool(re.search(r"\b(?:say|tell\s+us|speak)\b", lowered)) and not re.search(
            r"\b(?:enter|key\s+in|keypad|type)\b", lowered)
        return DataPrompt(field, digits, term, spoken)
    return None
