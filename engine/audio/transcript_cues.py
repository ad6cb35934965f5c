"""What the words say: a live person greeting or asking the caller something, versus a
recording (hold announcements, menus), plus queue positions, wait times and callback offers
parsed for the UI.

Rules and keywords rather than a model: they are explainable evidence, cheap, and the phrases
call centres use are few. Whisper's spelling varies ("Hi", "Hey", "Hello.") so patterns are
lenient about punctuation and case.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import pkgutil
import re
import threading
from collections.abc import Iterable

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "next": 1,
}  # fmt: skip

# Live person: introduces themselves or asks the caller something.
_HUMAN = [

    (r"\bhow (can|may|could) i (help|assist)", 2.0, "offers help"),
    (r"\bwho (am i|do i have the pleasure)|\bwhat can i do for you\b", 2.0, "asks who's calling"),
    (r"\b(can|could|may) i (have|get|start with) (your|the)\b", 1.5, "asks the caller"),
    # a person checking the line is a question of its own ("Hello? Are you there?"), often
    # with no name in it; IVRs that time out ask "are you *still* there", left to the next
    (r"\b(are you there|can you hear me)\b", 2.0, "checks the caller is there"),
    # ...and half as much with "still": an IVR that times out asks it too, then its keypad
    # instruction follows and outweighs it
    (r"\bare you still there\b", 1.0, "checks the caller is still there"),
    # ...but not a lone "Hello?" at the end of a partial: Whisper hears one in the first half
    # second of "Hello, and thank you for continuing to hold" too
    # and Whisper writes "Hello?" for an announcement's "Hello! Did you know...": a lone
    # "Hello?" with more words is not yet a person without one more of their cues
    (r"\bhello\?(?=\s*\w)", 1.0, "checks the caller is there"),
    (r"\b(speaking|thanks for holding|thank you for (holding|waiting|your patience),? (this|my))",
     1.0, "picks up"),
    (r"^\W*(hi|hey|hello|good (morning|afternoon|evening))\b", 0.7, "greets"),
    # a person apologises for *your* wait in their own words; a recording says "we're sorry
    # for the wait" or "we apologise", and goes on with the busy agents, which outweighs it
    (r"(?<!we're )(?<!we are )\bsorry (about|for) (the|your) (long )?wait\b"
     r"|\bsorry to (have )?kept you waiting\b|\bsorry to keep you waiting\b",
     1.0, "apologises for the wait"),
]  # fmt: skip

# Recording: announcements, menus, instructions to a keypad.
_RECORDED = [
    (r"\b(press|dial|enter)\s+(\d|one|two|three|four|five|six|seven|eight|nine|zero|the|your|pound|star)",
     2.0, "keypad instruction"),
    (r"\byour call is (important|valuable)", 2.0, "your call is important"),
    (r"\b(all|each) of our\b.*\b(agents|representatives|associates|operators)\b", 2.0,
     "all agents busy"),
    (r"\b(agents|representatives|associates|operators) are (currently |still )?"
     r"(busy|assisting|helping|unavailable)",
     2.0, "agents busy"),
    (r"\b(still|currently|busy) assisting\b|\bassisting (other|our|another) (customers?|callers?)"
     r"|\bother (customers|callers)\b", 2.0, "agents busy"),
    (r"\b(next available|in the order (it was|they were) received|please (stay on the line|"
     r"hold|continue to hold|remain on the line|wait))",
     2.0, "asks to keep holding"),
    (r"\b(caller|calls?) (number|ahead|waiting)|\byou are (the )?(next|caller)|\bin (the )?queue"
     r"|\b(now )?(first|next) in line\b", 2.0, "queue position"),
    (r"\bone moment,? please\b", 1.0, "asks for a moment"),
    # a callback offer's tail, when Whisper garbled its "press one now" on a lossy line
    (r"\b(lose|keep|hold|retain|maintain|losing) (your|their) (place|spot|position)\b"
     r"|\byour (place|spot|position) in (the )?(line|queue)\b", 2.0, "your place in line"),
    # speech menus and bots ask for an answer and wait, as a person does
    (r"\bin (just )?a (few|couple of) words\b|\byou can (also )?say\b|\bbriefly (tell|describe|"
     r"say|explain)|\b(tell|say) (me|us)\b.{0,40}\bbriefly\b|\bsay (yes|no|agent|representative"
     r"|operator)\b", 2.0, "speech menu prompt"),
    (r"\bcontinu(e|ing) to hold\b", 1.0, "asks to keep holding"),
    (r"\b(will|we'?ll|we all) be (right )?with you\b|\b(someone|a member of our (team|staff)|an? "
     r"(agent|representative|associate)|the next available \w+) (from our team )?will (be with"
     r" you|pick up|answer|take your call|assist you)", 1.0, "someone will be with you"),
    # announcements sell self-service and give the opening hours; a person who picks up
    # does not open with either
    (r"\bdid you know\b|\byou can (also )?(pay|manage|check|find|view|update|visit|use|get)\b"
     r"|\b(mobile|our) app\b|\bonline (help|account|banking|services?)\b|\bhelp cent(er|re)\b"
     r"|\bfrequently asked questions\b|\b24 hours a day\b|\b24/7\b", 1.5, "self-service plug"),
    (r"\b(offices?|we) (will be|are|is) (closed|open)\b|\bbusiness hours\b|\bopening hours\b"
     r"|\bhours (of operation|are)\b", 1.5, "opening hours"),
    (r"\b(connecting|transferring) (you|your call)\b", 1.0, "transfer notice"),
    (r"\b(estimated|expected|approximate(ly)?|average) (wait|hold)|\bwait time\b", 2.0,
     "wait time"),
    # the wait's length alone: a queue's "...is approximately | 18 minutes" can reach the
    # detector as a turn of its own (a voice check split it off its head), and a person
    # who picks up does not open with a number of minutes
    (r"\b(approximately|about|around|roughly|less than|under|more than|over) (\d+|"
     + "|".join(w for w, n in _NUMBER_WORDS.items() if n > 1 and w != "second")
     + r")( or (\d+|\w+))? (minutes?|hours?)\b", 1.5, "length of the wait"),
    (r"\b(call(ed)? ?back|return your call)\b", 1.5, "callback offer"),
    # lenient: Whisper writes "call value" and "appreciate our patience" on a phone line
    (r"\b(higher|heavier|high|unusually high) (than (normal|usual|expected) )?call(ing)? volume"
     r"|\b(higher|heavier) than (normal|usual|expected)\b"
     r"|\b(we )?appreciate (your|our) (patience|business)|\bwe value (you|your)\b"
     r"|\bvalued (customers?|members?|callers?|clients?)\b", 2.0, "busy-line apology"),
    (r"\b(visit|go to) (us at|our website)|\bwww\.|dot com\b|\bonline at\b", 1.5, "website plug"),
    (r"\bthis call (may|will) be (recorded|monitored)|quality (assurance|and training)", 2.0,
     "recording notice"),
    (r"\b(main menu|menu options|have changed|para español|to repeat (these|this))", 2.0, "menu"),
    (r"\bthank you for (calling|your patience|holding|waiting)\b(?!,? (this|my))", 1.0,
     "stock thank-you"),
    # a bot that introduces itself like a person ("Hi, I'm Emma, your virtual assistant. How
    # can I help you today?"): outweighs every person's cue, a veto
    (r"\b(virtual|automated|digital|ai|voice) (assistan(t|ce)|agent|attendant|system|helper)\b"
     r"|\bautomated\b|\bi'?m (a|an|your) (bot|robot)\b", 6.0, "automated assistant"),
]  # fmt: skip

_NUM = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"
_QUEUE_POS = re.compile(
    r"\b(?:you are|you're)\s+(?:caller\s+)?(?:number\s+)?" + _NUM + r"\b"
    r"|\bcaller (?:number )?" + _NUM + r"\b"
    r"|\b" + _NUM + r"\s+(?:calls?|callers)\s+(?:ahead|waiting|before you|in (?:the )?queue)",
    re.I,
)
_YOU_ARE_NEXT = re.compile(r"\byou are (?:the )?next\b", re.I)
_WAIT = re.compile(
    r"\b(?:wait|hold)(?: time)?\b[^.]*?\b(?:is|of)\s+(?:currently\s+)?"
    r"(?:approximately|about|around|less than|under)?\s*" + _NUM + r"\s+(minutes?|seconds?|hours?)",
    re.I,
)
_WAIT_LOOSE = re.compile(
    r"\b(?:approximately|about|around|less than)\s+" + _NUM + r"\s+(minutes?|seconds?|hours?)", re.I
)
_CALLED_BACK = r"(?:call(?:ed)?[ -]?back|call (?:you|me) back|return your call)"
_KEY = r"(\d|one|two|three|four|five|six|seven|eight|nine|star|pound)"
_CALLBACK = re.compile(
    rf"\b(?:press|say)\s+{_KEY}\b[^.]*?\b{_CALLED_BACK}"
    rf"|\b{_CALLED_BACK}[^.]*?\b(?:press|say)\s+{_KEY}\b"
    # the key in a sentence of its own ("...without losing your place in line. Press one or
    # stay on the line."): speech-to-text ends the offer's sentence before its key
    rf"|\b{_CALLED_BACK}[^.]*[.!?]\s+(?:please\s+)?(?:press|say)\s+{_KEY}\b(?:\s+now)?"
    r"(?=\s*(?:[.!?,]|or\s+stay|$))",
    re.I,
)


@dataclasses.dataclass(slots=True)
class TextCues:
    human: float
    recorded: float
    reasons: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"human": self.human, "recorded": self.recorded, "reasons": self.reasons}


def normalise(text: str) -> str:
    """Lower case, single spaces, no punctuation but apostrophes: for matching and memory."""
    t = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return re.sub(r"\s+", " ", t).strip()


# A person names themselves: Whisper capitalises names, which separates "this is Dana" from
# the "this is all..." it hallucinates on music and "this is a recorded line".
_INTRODUCTION = re.compile(
    r"\b(?i:this is|my name is|my name'?s|i'?m|you'?re speaking (?:to|with)|you are speaking"
    r" (?:to|with)|you'?re through to|you are through to)"
    r",?\s+(?!(?:The|A|An|Not|Your|Our|This|That|It|All|Sorry|Afraid|Unable|Calling|Now)\b)"
    r"(?P<name>[A-Z][a-z]+)(?![a-z-])"  # a whole word: a partial's "Ag-" is still being said
)


# "..., Jordan speaking" / "Customer care, Raj here": a person answering names themselves
# before "speaking" or "here"; a recording's "Click here" or "Help is here" does not.
_NAME_SPEAKING = re.compile(
    r"\b(?!(?:Now|Currently|Also|Not|Who|Everyone|You|We|They|Am|Is|Are|Be|Click|Tap|Right"
    r"|Over|Start|Sign|Log|Stay|Come|Get|Here|There|Join|Learn|Apply|Register|Shop|Order"
    r"|Visit|Available|Listed|Information|Details|More|Help|Hold|Wait|Still|Go)\b)"
    r"(?P<name>[A-Z][a-z]+),? (?:speaking|here)\b"
)

# The line's own name, as its recordings say it: "Thank you for calling Acme Bank", "Welcome
# to Globex", "You've reached Initech". An announcement that opens "Hello, this is Acme Bank"
# introduces the company, in the very words a person uses to introduce themselves.
_LINE_NAME = re.compile(
    r"\b(?:thanks? (?:you )?for calling|welcome to|you(?:'ve| have) reached)\s+([^.,!?;:]+)", re.I
)
_NOT_A_NAME = {
    "the", "a", "an", "our", "us", "and", "for", "to", "this", "is", "at", "today", "of", "in",
    "with", "you", "your", "please", "all", "we", "where", "who", "how",
}  # fmt: skip


def line_names(text: str) -> set[str]:
    """The words (lower case) a recording names its company with, up to three of them."""
    out: set[str] = set()
    for m in _LINE_NAME.finditer(text):
        for word in m.group(1).lower().split()[:3]:
            word = word.removesuffix("'s").strip("'")
            if word in _NOT_A_NAME:
                break
            if len(word) >= 3:
                out.add(word)
    return out


def known_line_names(labels: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The line's own words: those of what the company is called (``labels``, e.g. "Acme
    Bank") and those its recordings name it with (:func:`line_names` of ``texts``)."""
    out = {w for n in labels for w in normalise(n).split() if len(w) >= 3 and not w.isdigit()}
    for text in texts:
        out |= line_names(text)
    return out


def _is_line_name(name: str, names: set[str] | frozenset[str], cut_off: bool = False) -> bool:
    """``name`` is one of the line's own words, as Whisper may misspell it ("Acne"), or, as
    the last word of a partial (``cut_off``), may be only its start ("Ac")."""
    low = name.lower()
    return any((cut_off and n.startswith(low))
               or difflib.SequenceMatcher(None, low, n).ratio() >= 0.75 for n in names)  # fmt: skip


_names_lock = threading.Lock()
_names: list[frozenset[str] | None] = []  # loaded once: [] until then


def first_names() -> frozenset[str] | None:
    """People's first names (lower case), from Faker's person providers of every locale:
    ≈26,000 names, loaded once (0.1-0.3 s: :func:`load_first_names_soon` does it off the
    thread that listens). None without Faker: then any name counts."""
    with _names_lock:
        if not _names:
            _names.append(_load_first_names())
        return _names[0]


def load_first_names_soon() -> None:
    """Load the names on a thread of their own, so that the analysis thread, which feeds
    every live call, never stalls on it at a call's first transcript."""
    if not _names:
        threading.Thread(target=first_names, name="load-first-names", daemon=True).start()


def _load_first_names() -> frozenset[str] | None:
    try:
        import faker.providers.person as people
    except ImportError:
        return None
    out: set[str] = set()
    for mod in pkgutil.iter_modules(people.__path__):
        try:
            provider = importlib.import_module(f"{people.__name__}.{mod.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            found = getattr(provider, attr, None)
            if isinstance(found, list | tuple | dict):
                out |= {n.lower() for n in found if isinstance(n, str) and n.isalpha()}
    return frozenset(out) or None


def _is_first_name(name: str) -> bool:
    known = first_names()
    return known is None or name.lower() in known


def _introductions(text: str, names: set[str] | frozenset[str]) -> tuple[bool, bool, bool]:
    """Whether the speaker gives a person's first name, a word that may be a garbled one,
    and the line's own name, as in "this is Dana" / "this is Agua" / "this is Acme"."""
    found = [(m["name"], not text[m.end() :].strip(" .,-")) for rx in (_INTRODUCTION,
             _NAME_SPEAKING) for m in rx.finditer(text)]  # fmt: skip
    own = [n for n, last in found if _is_line_name(n, names, cut_off=last)]
    others = [n for n, _ in found if n not in own]
    person = any(_is_first_name(n) for n in others)
    return person, bool(others) and not person, bool(own)


def score(text: str, names: set[str] | frozenset[str] = frozenset()) -> TextCues:
    """Evidence for a live person (``human``) and for a recording (``recorded``). ``names``:
    the line's own (:func:`line_names` of what it played), never a person's introduction."""
    low = text.lower()
    human = recorded = 0.0
    reasons: list[str] = []
    person, maybe, own = _introductions(text, names)
    if person:
        human += 2.0
        reasons.append("+introduces themselves")
    elif maybe:
        # Whisper garbles names ("this is Lainan") and company names ("this is Agua" for
        # "Acme"), so a name no one is called counts only with one more cue of a person
        human += 1.0
        reasons.append("+introduces themselves (a name no one has)")
    elif own:
        recorded += 1.0
        reasons.append("-introduces the company")
    for pattern, weight, why in _HUMAN:
        if re.search(pattern, low):
            human += weight
            reasons.append(f"+{why}")
    for pattern, weight, why in _RECORDED:
        if re.search(pattern, low):
            recorded += weight
            reasons.append(f"-{why}")
    return TextCues(human, recorded, reasons)


# What Whisper writes for sound that holds no words (music, breath, a click), beyond the
# single words ("you", "Bye.", "Hmm.") that are too few anyway: never proof someone spoke.
_FILLER = {"thank you", "thanks for watching", "thank you for watching", "thank you so much"}


# sounds, not words: Whisper writes "Mm-hmm." for a half-second burst of hold music
_NON_WORDS = {"mm", "mmm", "hmm", "hm", "mhm", "uh", "huh", "um", "umm", "ah", "oh", "er", "erm"}


def says_something(text: str) -> bool:
    """At least two real words, and not Whisper's filler for a sound without any."""
    words = normalise(text)
    return words not in _FILLER and sum(w not in _NON_WORDS for w in words.split()) >= 2


_CALL_OUT = {"hello", "hi", "hey"}
_CALL_OUT_FILL = _CALL_OUT | {"there", "yes", "yeah", "uh", "um", "anyone", "anybody"}


def calls_out(text: str) -> bool:
    """Only a call into the line: "Hello?", "Hello? Hello?", "Hi there?". Someone who picked
    up to a silent caller says that and waits; a recording does not stop after one word."""
    words = normalise(text).split()
    return bool(words) and len(words) <= 4 and set(words) <= _CALL_OUT_FILL \
        and bool(set(words) & _CALL_OUT)


# How a person's first words go on, where an announcement that also opens with "Hello" goes on
# with "...and thank you for continuing to hold" or "...while you wait": the speaker asks the
# caller something, says they are "speaking", "my name", or gives a name (not the company's).
# "This is" alone is not enough: announcements go on "...this is a reminder", "...this is
# Acme Bank". This is only evidence where the voice is already known to be new.
_PERSON_OPENING = re.compile(
    r"\b(speaking|my name|how (can|may|could) i|who (am i|do i)|are you there|can you hear"
    r"|what can i)\b",
    re.I,
)


def opens_like_a_person(text: str, names: set[str] | frozenset[str] = frozenset()) -> bool:
    """A person's opening in the first second: a question to the caller, or their name."""
    return _PERSON_OPENING.search(text) is not None or _introductions(text, names)[0]


def _num(word: str | None) -> int | None:
    if word is None:
        return None
    w = word.lower()
    return int(w) if w.isdigit() else _NUMBER_WORDS.get(w)


def parse_queue(text: str) -> dict[str, object]:
    """Queue facts a UI can show: position, wait in minutes, callback offer and its key."""
    out: dict[str, object] = {}
    if _YOU_ARE_NEXT.search(text):
        out["position"] = 1
    else:
        m = _QUEUE_POS.search(text)
        if m:
            n = next((_num(g) for g in m.groups() if g), None)
            if n is not None:
                out["position"] = n
    m = _WAIT.search(text) or _WAIT_LOOSE.search(text)
    if m:
        n, unit = _num(m.group(1)), m.group(2).lower()
        if n is not None:
            scale = 1 / 60 if unit.startswith("second") else 60 if unit.startswith("hour") else 1
            out["wait_minutes"] = round(n * scale, 2)
    m = _CALLBACK.search(text)
    if m:
        key = next(g for g in m.groups() if g)
        out["callback_offer"] = True
        digit = _num(key)
        out["callback_key"] = str(digit) if digit is not None else key.lower()
    elif re.search(rf"\b{_CALLED_BACK}\b", text, re.I):
        out["callback_offer"] = True
    return out
