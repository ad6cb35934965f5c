"""The default navigator: no server, no network, a decision in milliseconds.

Why three signals: sentence embeddings alone misrank menus ("dispute a charge" scores "lost
or stolen card" above "disputes and fraud"), keywords alone miss paraphrase ("my internet
is down" → "technical support"). So an option's score is its embedding similarity to the
intent plus a bonus for shared word stems (with a small table of phone-menu synonyms), and
rules handle what meaning cannot: agent/operator keys are the fallback when nothing fits
(and the goal when the caller asks for a person), repeat/back/other-language keys are never
picked, a language menu gets English, callback offers are declined unless asked for, and
prompts for data are answered from the user's profile (or skipped with ``#`` / waited out).
"""

from __future__ import annotations

import re
from typing import Any

from engine.ivr.embeddings import Embedder, shared_embedder
from engine.ivr.menu_parser import SPEECH_KEY, MenuOption
from engine.ivr.navigator import Choice, MenuContext

_STOP = frozenset(
    "a an the and or of for to in on at my i me i'm im we our your you is are was be been it "
    "its this that with about from by as please want need would like calling call help "
    "question questions some get got have has had can do does did not no yes if just "
    "there their they them am will what which who how when where why so on".split())

# phone-menu vocabulary: a caller's word → the words menus use for it
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "bill": ("billing", "payment", "invoice", "charge", "balance", "account"),
    "pay": ("payment", "billing", "bill"),
    "charg": ("billing", "dispute", "transaction", "payment", "card", "credit"),
    # a dispute is a disagreement with a merchant, not fraud: the card or billing team
    "disput": ("dispute", "charge", "transaction", "billing", "recogni"),
    "fraud": ("dispute", "fraud", "unauthorized", "stolen"),
    "internet": ("technical", "support", "outage", "connection", "wifi"),
    "wifi": ("internet", "technical", "connection"),
    "broken": ("repair", "technical", "support", "problem"),
    "down": ("outage", "technical", "repair"),
    "work": ("technical", "repair", "problem", "support"),
    "outag": ("outage", "technical", "repair"),
    "cancel": ("cancel", "disconnect", "close", "terminat"),
    "lost": ("lost", "stolen", "missing"),
    "stolen": ("lost", "stolen"),
    "bag": ("baggage", "luggage", "bag"),
    "luggag": ("baggage", "bag"),
    "suitcas": ("baggage", "luggage"),
    "flight": ("reservation", "booking", "flight", "travel", "trip"),
    "book": ("reservation", "booking", "new"),
    "reserv": ("reservation", "booking"),
    "refund": ("refund", "return", "billing"),
    "return": ("return", "refund"),
    "order": ("order", "shipping", "delivery", "track", "purchase"),
    "packag": ("order", "delivery", "shipping", "track"),
    "deliveri": ("order", "delivery", "shipping"),
    "ship": ("order", "delivery", "shipping"),
    "prescript": ("pharmacy", "prescription", "refill", "medication"),
    "refill": ("pharmacy", "prescription", "refill"),
    "medic": ("pharmacy", "prescription", "medication"),
    "appoint": ("appointment", "schedule", "book"),
    "doctor": ("appointment", "nurse", "provider", "physician"),
    "claim": ("claim", "claims"),
    "accid": ("claim", "accident"),
    "password": ("login", "password", "access", "online", "technical"),
    "login": ("login", "password", "access", "online"),
    "address": ("address", "profile", "change", "update", "move"),
    "move": ("move", "address", "transfer", "relocat"),
    "loan": ("loan", "mortgag", "lend", "financ", "aid"),
    "quot": ("estimate", "quote", "pric", "sale"),
    "estimat": ("estimate", "quote", "pric"),
    "pric": ("estimate", "quote", "pric", "sale"),
    "tire": ("roadside", "assistance", "breakdown"),
    "flat": ("roadside", "assistance"),
    "mortgag": ("mortgag", "loan", "home"),
    "card": ("card",),
    "phone": ("phone", "mobile", "wireless", "device"),
    "upgrad": ("upgrade", "plan", "new"),
    "plan": ("plan", "upgrade", "change"),
    "sale": ("sale", "new", "purchase", "buy"),
    "buy": ("sale", "purchase", "new", "order"),
    "coverag": ("coverage", "benefit", "policy"),
    "benefit": ("benefit", "coverage"),
    "tax": ("tax", "irs"),
    "gas": ("gas", "leak", "emergency"),
    "power": ("power", "outage", "electric"),
    "electr": ("power", "outage", "electric"),
    "water": ("water", "leak"),
    "leak": ("leak", "emergency"),
    "emerg": ("emergency",),
    "balanc": ("balance", "account"),
    "statement": ("statement", "billing", "balance"),
    "hotel": ("reservation", "booking"),
    "room": ("reservation", "booking", "room"),
    "car": ("car", "vehicle", "auto", "rental"),
    "vehicl": ("car", "vehicle", "auto"),
    "insur": ("insurance", "policy", "coverage"),
    "polici": ("policy", "coverage"),
    "job": ("employment", "career", "job"),
    "complaint": ("complaint", "feedback", "manager"),
    "track": ("track", "order", "delivery", "shipping", "package"),
    "late": ("delay", "late", "status", "track"),
    "delay": ("delay", "status", "late"),
    "status": ("status", "track"),
}

_PERSON = re.compile(r"\b(?:person|human|agent|representative|operator|someone|somebody|"
                     r"real\s+person|live\s+person|rep)\b", re.I)
# the caller has a problem: something broke, stopped, is down or offline
_PROBLEM = re.compile(
    r"\b(?:not\s+working|stopped\s+working|does\s*n[o']t\s+work|doesn't\s+work|won'?t|"
    r"can'?t|cannot|broken|broke|down|offline|outage|keeps?\s+\w+ing|dropp\w*|error|"
    r"no\s+(?:dial\s+tone|signal|service|power|internet)|problem|issue|trouble|flat|"
    r"disconnect\w*|fail\w*|dead|frozen|freez\w*)\b", re.I)
_FIXES = re.compile(r"\b(?:technical|tech|support|repair|trouble|problem|not\s+working|"
                    r"outage|fix|service\s+issue|troubleshoot|help\s+desk|roadside|"
                    r"assistance|offline|restart)\w*", re.I)
# what the caller wants done: a new thing, a change to an existing one, or its status
_ACTIONS = {
    "new": re.compile(r"\b(?:book|new|buy|purchase|add|sign\s+up|upgrade|apply|open|"
                      r"schedule|make|arrange|"
                      r"get\s+a\s+quote|quote|estimate|enroll|start|join)\b", re.I),
    "change": re.compile(r"\b(?:change|cancel|modify|reschedul\w*|existing|stop|transfer|"
                         r"update|freeze)\b", re.I),
    "status": re.compile(r"\b(?:status|check\s+on|where\s+is|track\w*|existing|already|"
                         r"past|previous)\b", re.I),
}
# where a company keeps what a caller books or changes
_RECORDS = re.compile(r"\b(?:reservations?|bookings?|appointments?|orders?|polic(?:y|ies)|"
                      r"subscriptions?|plans?)\b", re.I)
# when the thing the caller calls about happens: already, today, or later
_WHEN = {
    "past": re.compile(r"\b(?:yesterday(?:'s)?|last\s+(?:week|month|night|year|time)|ago|"
                       r"earlier|previous|past|already|former)\b", re.I),
    "today": re.compile(r"\b(?:today(?:'s)?|tonight|this\s+(?:morning|afternoon|evening)|"
                        r"right\s+now|same\s+day)\b", re.I),
    "later": re.compile(r"\b(?:tomorrow|next\s+(?:week|month|year|\w+day)|later|upcoming|"
                        r"future|in\s+(?:a|two|three|\d+)\s+(?:days?|weeks?|months?))\b",
                        re.I),
}
# who the caller is at this company ("my student loan", "as a patient"): these words say
# nothing about what the caller wants, yet match options that name the same people
_ROLES = frozenset(
    "student customer patient member guest passenger client caller resident policyholder "
    "subscriber tenant employee".split())
_CALLBACK_WANTED = re.compile(r"\b(?:call(?:ed)?\s*(?:me\s+)?back|callback)\b", re.I)
_DONT_KNOW = re.compile(r"\b(?:do\s*n[o']t\s+(?:know|have)|don't\s+(?:know|have)|"
                        r"without|skip|not\s+sure|no\s+account)\b", re.I)

AGENT_FLOOR = 0.30  # an operator key beats options that barely relate to the intent
MIN_FIT = 0.22  # below this an option "does not fit"
DECISIVE = 0.80  # a later option will not beat this (strong words + meaning)
DECISIVE_MARGIN = 0.25


def stem(word: str) -> str:
    """A crude English stemmer: enough to match 'disputes' to 'dispute', 'billing' to 'bill'."""
    w = word.lower().strip("'")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "e", "y"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)] + ("i" if suffix in ("ies", "ied") else "")
            break
    return w


def content_stems(text: str) -> set[str]:
    words = re.findall(r"[a-zA-Z']+", text.lower())
    return {stem(w) for w in words if w not in _STOP and len(w) > 1}


def keyword_score(intent: str, label: str) -> float:
    """0.3 per shared stem (synonyms count a little less), capped at 0.6."""
    i_stems, l_stems = content_stems(intent), content_stems(label)
    if not i_stems or not l_stems:
        return 0.0
    direct = i_stems & l_stems
    score = 0.3 * len(direct)
    for s in i_stems - direct:
        for syn in _SYNONYMS.get(s, ()):
            syn_s = stem(syn)
            if any(ls.startswith(syn_s) or syn_s.startswith(ls) for ls in l_stems if len(ls) > 2):
                score += 0.2
                break
    return min(score, 0.6)


def _action_fit(intent_actions: set[str], label: str, has_problem: bool) -> float:
    """+0.2 when the option does what the caller wants done; -0.3 when it offers something
    new to a caller who wants an existing thing changed, checked or fixed."""
    label_actions = {k for k, rx in _ACTIONS.items() if rx.search(label)}
    if not label_actions:
        return 0.0
    if intent_actions & label_actions:
        return 0.2
    if "new" in label_actions and (intent_actions & {"change", "status"} or has_problem):
        return -0.3
    if (intent_actions == {"new"}) and label_actions & {"change", "status"}:
        return -0.2
    if label_actions == {"status"} and intent_actions and "status" not in intent_actions:
        return -0.3  # "the status of a flight" checks one; it cannot change or book it
    return 0.0


def _record_fit(intent_actions: set[str], intent_stems: set[str], label: str) -> float:
    """+0.2 when the caller wants something booked or changed and the option is the record
    it is kept in, by the menu's word for it: "change my flight" is done in "reservations"
    (the word the flight shares with "the status of a flight" pulled it there)."""
    if not intent_actions & {"new", "change"} or not _RECORDS.search(label):
        return 0.0
    kept_in = {stem(w) for s in intent_stems for w in _SYNONYMS.get(s, ())}
    return 0.2 if any(stem(w) in kept_in for w in _RECORDS.findall(label.lower())) else 0.0


def _when_fit(intent: str, label: str) -> float:
    """-0.3 when the option is about the other time ("an order you are expecting today" for
    "yesterday's delivery"), +0.2 when it is about the same."""
    intent_when = {k for k, rx in _WHEN.items() if rx.search(intent)}
    label_when = {k for k, rx in _WHEN.items() if rx.search(label)}
    if len(intent_when) != 1 or not label_when:
        return 0.0
    return 0.2 if intent_when == label_when else -0.3


def _without_words(text: str, stems: set[str]) -> str:
    if not stems:
        return text
    return " ".join(w for w in re.findall(r"[a-zA-Z0-9']+", text) if stem(w) not in stems)


def _role_stems() -> set[str]:
    return {stem(w) for w in _ROLES}


def profile_value(profile: Any, field: str, company: str = "") -> str:
    """What the user's profile holds for a data prompt ("" when it does not)."""
    if profile is None:
        return ""
    if field == "account_number":
        accounts: dict[str, str] = dict(getattr(profile, "account_numbers", {}) or {})
        if not accounts:
            return ""
        def norm(name: str) -> str:  # "Acme Bank" and the demo slug "acme_bank" match
            return re.sub(r"[\s_\-]+", " ", name.lower()).strip()

        key = norm(company)
        for k, v in accounts.items():
            k2 = norm(k)
            if key and (k2 == key or k2 in key or key in k2):
                return v
        return accounts.get("default") or (next(iter(accounts.values()))
                                           if len(accounts) == 1 else "")
    if field == "zip_code":
        return str(getattr(profile, "zip_code", "") or "")
    if field == "phone_number":
        return str(getattr(profile, "callback_number", "") or "")
    extra = getattr(profile, "extra", None)
    if isinstance(extra, dict):
        return str(extra.get(field, ""))
    return ""


class OfflineNavigator:
    name = "offline"

    def __init__(self, profile: Any = None, embedder: Embedder | None | bool = True) -> None:
        self.profile = profile
        self.company_words: set[str] = set()
        self._embedder = shared_embedder() if embedder is True else (embedder or None)

    def close(self) -> None:
        pass

    # -- decisions ---------------------------------------------------------------------

    def decide(self, ctx: MenuContext) -> Choice:
        menu = ctx.menu
        self.company_words = content_stems(ctx.company)
        if menu.data is not None:
            choice = self._answer_data(ctx)
            if choice is not None:
                return choice
        choices = [o for o in menu.choices if o.key not in ctx.excluded]
        if not choices:
            return Choice("wait", reason="no options heard yet", source=self.name)
        languages = [o for o in choices if o.kind == "language"]
        if languages and len(languages) == len(choices):
            english = next((o for o in languages if re.search(r"english", o.label, re.I)), None)
            if english:
                return Choice("dtmf", english.key, reason="language menu: English",
                              confidence=0.9, source=self.name, ranked=[english.key],
                              decisive=True)
            return Choice("wait", reason="language menu without English: the default is "
                          "usually English", source=self.name)
        # below the first menu its topic ("credit cards") is shared by every option: the
        # intent's other words ("lost") decide between "card stolen" and "card lost"
        topic = content_stems(ctx.path[0]) if ctx.path else set()
        scores = self.score(ctx.intent, choices, topic)
        ranked = sorted(choices, key=lambda o: -scores[o.key])
        best = ranked[0]
        if best.kind == "callback" and not _CALLBACK_WANTED.search(ctx.intent):
            return Choice("wait", reason=f"declining the callback offer ('{best.label}'): "
                          "staying in the queue", source=self.name)
        best_score = scores[best.key]
        second = scores[ranked[1].key] if len(ranked) > 1 else 0.0
        reason = f"'{best.label}' fits '{ctx.intent}' best (score {best_score:.2f})"
        if best.kind == "agent" and best_score <= AGENT_FLOOR + 0.01:
            reason = f"no option fits '{ctx.intent}'; asking for a person ('{best.label}')"
        elif best_score < MIN_FIT:
            reason = f"nothing fits '{ctx.intent}' well; best guess '{best.label}'"
        if best.key.startswith(SPEECH_KEY):  # a menu that only listens: say the phrase
            return Choice(
                "speak", best.key, text=best.spoken or best.label, reason=reason,
                confidence=max(0.0, min(1.0, best_score)), source=self.name,
                ranked=[o.key for o in ranked], scores={k: round(v, 3) for k, v in
                                                        scores.items()})
        return Choice(
            "dtmf", best.key, reason=reason, confidence=max(0.0, min(1.0, best_score)),
            source=self.name, ranked=[o.key for o in ranked],
            scores={k: round(v, 3) for k, v in scores.items()},
            decisive=best_score >= DECISIVE and best_score - second >= DECISIVE_MARGIN)

    def score(self, intent: str, options: list[MenuOption],
              topic: set[str] | None = None) -> dict[str, float]:
        """Each option's fit to the intent (meaning + shared words + rules)."""
        labels = [o.label or o.spoken or "" for o in options]
        sem = [0.0] * len(options)
        focused = _without_words(intent, topic) if topic else intent
        if not content_stems(focused):
            focused = intent
        if self._embedder is not None and intent.strip():
            try:
                sem = [float(x) for x in self._embedder.similarities(intent, labels)]
                if focused != intent:  # half the meaning from what is left of the intent
                    sem = [0.5 * (a + float(b)) for a, b in
                           zip(sem, self._embedder.similarities(focused, labels), strict=True)]
            except Exception:  # a broken model must not stop the call: keywords remain
                self._embedder = None
        wants_person = bool(_PERSON.search(intent))
        has_problem = bool(_PROBLEM.search(intent))
        # every option of "Metro Water" is about water: the company's own words tell nothing
        intent_words = _without_words(intent, self.company_words | _role_stems())
        if topic and content_stems(_without_words(intent_words, topic)):
            intent_words = _without_words(intent_words, topic)
        intent_actions = {k for k, rx in _ACTIONS.items() if rx.search(intent)}
        wants_callback = bool(_CALLBACK_WANTED.search(intent))
        intent_stems = content_stems(intent_words)
        out: dict[str, float] = {}
        for opt, s, label in zip(options, sem, labels, strict=True):
            score = s + keyword_score(intent_words, label)
            if has_problem and _FIXES.search(label):
                score += 0.4
            score += _action_fit(intent_actions, label, has_problem)
            score += _record_fit(intent_actions, intent_stems, label)
            score += _when_fit(intent, label)
            if opt.kind == "agent":
                score = max(score, AGENT_FLOOR) + (0.6 if wants_person else 0.0)
            elif opt.kind == "callback" and not wants_callback:
                score -= 0.4
            elif opt.kind == "language":
                score = -1.0
            if _DONT_KNOW.search(label):
                score -= 0.3
            out[opt.key] = score
        return out

    def _answer_data(self, ctx: MenuContext) -> Choice | None:
        data = ctx.menu.data
        assert data is not None
        value = re.sub(r"[^0-9]", "", profile_value(self.profile, data.field, ctx.company))
        if value and ctx.attempt < 2:
            if data.spoken:
                return Choice("speak", text=" ".join(value), source=self.name,
                              reason=f"says the {data.field.replace('_', ' ')} from the profile",
                              confidence=0.9, decisive=True)
            term = data.terminator or ("" if data.digits and len(value) == data.digits else "#")
            return Choice("dtmf", value + term, source=self.name, confidence=0.9,
                          reason=f"enters the {data.field.replace('_', ' ')} from the profile",
                          decisive=True)
        skip = next((o for o in ctx.menu.options
                     if _DONT_KNOW.search(o.label) and o.key not in ctx.excluded), None)
        if skip is not None:
            return Choice("dtmf", skip.key, source=self.name, confidence=0.6,
                          reason=f"no {data.field.replace('_', ' ')} in the profile: "
                          f"'{skip.label}'", ranked=[skip.key])
        if ctx.menu.choices:
            return None  # a menu that also asks for data: choose among its options
        if data.terminator and "#" not in ctx.excluded:
            return Choice("dtmf", "#", source=self.name, confidence=0.4,
                          reason=f"no {data.field.replace('_', ' ')} in the profile: "
                          "skipping with #")
        return Choice("wait", source=self.name,
                      reason=f"no {data.field.replace('_', ' ')} in the profile: waiting")
