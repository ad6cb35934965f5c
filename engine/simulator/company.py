"""Company descriptions: YAML → validated, immutable node graph.

Anyone can write a company, so every mistake is reported as ``FILE:LINE: what is wrong``
(:class:`CompanyError`) instead of surfacing later as a broken call. The format is documented in
``engine/simulator/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import engine
from engine.simulator.prompts import (
    ASTERISK_SOUNDS,
    Prompt,
    PromptPart,
    SayPart,
    SilencePart,
    WavPart,
)
from engine.simulator.voice import VOICE_IDS

ASSETS_DIR = Path(engine.__file__).resolve().parent.parent / "assets"
COMPANIES_DIR = ASSETS_DIR / "companies"
MOH_DIR = Path("/usr/share/asterisk/moh")
DTMF_KEYS = set("0123456789*#")
NODE_TYPES = ("menu", "input", "hold", "agent", "hangup")


class CompanyError(ValueError):
    """A company file that cannot be used; ``str()`` names the file, line and problem."""


@dataclass(frozen=True)
class Node:
    id: str
    line: int


@dataclass(frozen=True)
class MenuNode(Node):
    prompt: Prompt
    options: dict[str, str]
    timeout: float
    max_retries: int
    invalid: Prompt
    goodbye: Prompt
    kind: str = "menu"
    speech: dict[str, str] = field(default_factory=dict)  # phrase said -> node (speech menus)


@dataclass(frozen=True)
class InputNode(Node):
    prompt: Prompt
    digits: int | None
    terminator: str | None
    next: str
    timeout: float
    max_retries: int
    invalid: Prompt
    goodbye: Prompt
    kind: str = "input"


@dataclass(frozen=True)
class CallbackOffer:
    prompt: Prompt
    digit: str
    next: str
    after: float


@dataclass(frozen=True)
class HoldNode(Node):
    music: Path
    duration: tuple[float, float]
    next: str
    prompt: Prompt | None = None
    announcements: tuple[Prompt, ...] = ()
    announce_every: float = 30.0
    first_announcement: float = 30.0
    callback_offer: CallbackOffer | None = None
    kind: str = "hold"


@dataclass(frozen=True)
class AgentNode(Node):
    greeting: Prompt
    agent_name: str | None
    max_seconds: float
    kind: str = "agent"


@dataclass(frozen=True)
class HangupNode(Node):
    prompt: Prompt | None
    kind: str = "hangup"


AnyNode = MenuNode | InputNode | HoldNode | AgentNode | HangupNode


@dataclass(frozen=True)
class Company:
    name: str
    number: str
    start: str
    nodes: dict[str, AnyNode]
    source: Path
    greeting: Prompt | None = None
    slug: str = field(default="")

    @property
    def user_part(self) -> str:
        """The user part of the company's SIP URI: its number's digits, else its slug."""
        digits = re.sub(r"\D", "", self.number)
        return digits or self.slug

    def listens(self) -> bool:
        """A speech menu ("say billing") takes the caller's words: the simulator needs STT."""
        return any(isinstance(n, MenuNode) and n.speech for n in self.nodes.values())

    def prompts(self) -> list[Prompt]:
        """Every prompt the company can play, for pre-rendering before answering calls."""
        out: list[Prompt] = [self.greeting] if self.greeting else []
        for n in self.nodes.values():
            if isinstance(n, MenuNode | InputNode):
                out += [n.prompt, n.invalid, n.goodbye]
            elif isinstance(n, HoldNode):
                out += list(n.announcements) + ([n.prompt] if n.prompt else [])
                if n.callback_offer:
                    out.append(n.callback_offer.prompt)
            elif isinstance(n, AgentNode):
                out.append(n.greeting)
            elif isinstance(n, HangupNode) and n.prompt:
                out.append(n.prompt)
        return list(dict.fromkeys(out))


# --- YAML with line numbers -------------------------------------------------------------


class _Map(dict):
    """A YAML mapping that remembers its own line and each key's line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[Any, int] = {}


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    m = _Map()
    m.line = node.start_mark.line + 1
    m.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        m[key] = loader.construct_object(value_node, deep=True)
        m.key_lines[key] = key_node.start_mark.line + 1
    return m


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class _Parser:
    def __init__(self, source: Path) -> None:
        self.source = source
        self.base = source.parent

    def fail(self, line: int | None, msg: str) -> CompanyError:
        where = f"{self.source}:{line}" if line else str(self.source)
        return CompanyError(f"{where}: {msg}")

    @staticmethod
    def line_of(m: Any, key: Any = None) -> int | None:
        if isinstance(m, _Map):
            return m.key_lines.get(key, m.line) if key is not None else m.line
        return None

    def need(self, m: _Map, key: str, what: str) -> Any:
        if key not in m or m[key] is None:
            raise self.fail(m.line, f"{what}: missing required field '{key}'")
        return m[key]

    def number(self, m: _Map, key: str, what: str, default: float, minimum: float = 0) -> float:
        v = m.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or v < minimum:
            raise self.fail(self.line_of(m, key), f"{what}: '{key}' must be a number >= {minimum}")
        return float(v)

    def integer(self, m: _Map, key: str, what: str, default: int | None) -> int | None:
        v = m.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise self.fail(self.line_of(m, key), f"{what}: '{key}' must be a whole number >= 1")
        return v

    def path(self, raw: Any, line: int | None, what: str, kind: str = "wav") -> Path:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(line, f"{what}: {kind} must be a file path")
        raw = raw.strip()
        if raw.startswith("moh:"):
            p = MOH_DIR / f"{raw[4:]}.wav"
        elif raw.startswith("asterisk:"):
            p = ASTERISK_SOUNDS / f"{raw[9:]}.wav"
        else:
            p = Path(raw).expanduser()
            if not p.is_absolute():
                p = self.base / p
        if not p.is_file():
            raise self.fail(line, f"{what}: audio file not found: {p}")
        return p

    def part(self, raw: Any, line: int | None, what: str) -> PromptPart:
        if isinstance(raw, str):
            kind, sep, rest = raw.partition(":")
            if not sep or kind not in ("say", "wav", "asterisk", "silence"):
                raise self.fail(
                    line,
                    f"{what}: prompt text {raw!r} must start with say:, wav:, asterisk: "
                    "or silence: (or be a mapping such as {say: ...})",
                )
            raw = _Map({kind: rest.strip()})
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.fail(
                line, f"{what}: a prompt part is one of say:, wav:, asterisk:, silence:"
            )
        ((kind, value),) = raw.items()
        line = self.line_of(raw, kind) or line
        if kind == "say":
            if not isinstance(value, str) or not value.strip():
                raise self.fail(line, f"{what}: 'say' needs the text to speak")
            return SayPart(" ".join(value.split()))
        if kind == "wav":
            return WavPart(self.path(value, line, what))
        if kind == "asterisk":
            if not isinstance(value, str) or not value:
                raise self.fail(line, f"{what}: 'asterisk' needs a sound name")
            p = ASTERISK_SOUNDS / f"{value}.wav"
            if not p.is_file():
                raise self.fail(line, f"{what}: no Asterisk sound '{value}' (looked for {p})")
            return WavPart(p)
        if kind == "silence":
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                seconds = -1
            if not 0 < seconds <= 30:
                raise self.fail(line, f"{what}: 'silence' must be seconds between 0 and 30")
            return SilencePart(seconds)
        raise self.fail(line, f"{what}: unknown prompt part '{kind}' (say, wav, asterisk, silence)")

    def prompt(self, raw: Any, line: int | None, what: str) -> Prompt:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise self.fail(line, f"{what}: empty prompt")
        return Prompt(tuple(self.part(item, self.line_of(item) or line, what) for item in items))

    def opt_prompt(self, m: _Map, key: str, what: str, default: Prompt | None) -> Prompt | None:
        if m.get(key) is None:
            return default
        return self.prompt(m[key], self.line_of(m, key), f"{what} {key}")


def _slug(path: Path) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "company"


def resolve_company_path(name_or_file: str) -> Path:
    """A bundled company name (``acme_bank``) or a path to a YAML file."""
    p = Path(name_or_file).expanduser()
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in name_or_file:
        return p
    return COMPANIES_DIR / f"{name_or_file}.yaml"


def bundled_companies() -> list[str]:
    return sorted(p.stem for p in COMPANIES_DIR.glob("*.yaml"))


def load_company(name_or_file: str | Path) -> Company:
    """Load and validate a company; raises :class:`CompanyError` with file and line."""
    source = resolve_company_path(str(name_or_file))
    if not source.is_file():
        known = ", ".join(bundled_companies()) or "none"
        raise CompanyError(f"{source}: no such company file (bundled companies: {known})")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompanyError(f"{source}: cannot read: {exc}") from None
    try:
        return parse_company(text, source)
    except CompanyError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a shape we did not foresee
        raise CompanyError(f"{source}: malformed company file: {exc!r}") from None


def parse_company(text: str, source: Path) -> Company:
    P = _Parser(source)
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise P.fail(mark.line + 1 if mark else None, f"invalid YAML: {problem}") from None
    if not isinstance(doc, _Map):
        raise P.fail(None, "a company file is a YAML mapping with name, number and nodes")
    name = P.need(doc, "name", "company")
    number = str(P.need(doc, "number", "company"))
    nodes_raw = P.need(doc, "nodes", "company")
    if not isinstance(nodes_raw, _Map) or not nodes_raw:
        raise P.fail(P.line_of(doc, "nodes"), "'nodes' must map node ids to nodes")

    defaults = doc.get("defaults") or _Map()
    if not isinstance(defaults, _Map):
        raise P.fail(P.line_of(doc, "defaults"), "'defaults' must be a mapping")
    d_timeout = P.number(defaults, "timeout", "defaults", 6.0)
    d_retries = P.integer(defaults, "max_retries", "defaults", 3)
    d_invalid = P.opt_prompt(defaults, "invalid", "defaults", None) or Prompt(
        (WavPart(ASTERISK_SOUNDS / "pm-invalid-option.wav"),)
    )
    d_goodbye = P.opt_prompt(defaults, "goodbye", "defaults", None) or Prompt(
        (WavPart(ASTERISK_SOUNDS / "vm-goodbye.wav"),)
    )

    nodes: dict[str, AnyNode] = {}
    refs: list[tuple[str, int | None, str]] = []  # (target, line, what)
    for node_id, raw in nodes_raw.items():
        nid = str(node_id)
        line = P.line_of(nodes_raw, node_id)
        what = f"node '{nid}'"
        if not isinstance(raw, _Map):
            raise P.fail(line, f"{what}: must be a mapping with a 'type'")
        kind = raw.get("type")
        if kind not in NODE_TYPES:
            raise P.fail(
                P.line_of(raw, "type"), f"{what}: 'type' must be one of {', '.join(NODE_TYPES)}"
            )

        def ref(key: str, m: _Map = raw, w: str = what) -> str:
            target = m.get(key)
            if target is None:
                raise P.fail(m.line, f"{w}: missing required field '{key}'")
            refs.append((str(target), P.line_of(m, key), f"{w} '{key}'"))
            return str(target)

        common = dict(id=nid, line=line or 0)
        if kind in ("menu", "input"):
            prompt = P.prompt(P.need(raw, "prompt", what), P.line_of(raw, "prompt"), what)
            timeout = P.number(raw, "timeout", what, d_timeout, minimum=0.5)
            retries = P.integer(raw, "max_retries", what, d_retries)
            invalid = P.opt_prompt(raw, "invalid", what, d_invalid)
            goodbye = P.opt_prompt(raw, "goodbye", what, d_goodbye)
        if kind == "menu":
            speech: dict[str, str] = {}
            said = raw.get("speech")
            if said is not None:
                if not isinstance(said, _Map) or not said:
                    raise P.fail(P.line_of(raw, "speech"),
                                 f"{what}: 'speech' maps phrases the caller says to nodes")
                for phrase, target in said.items():
                    speech[str(phrase).lower()] = str(target)
                    refs.append((str(target), P.line_of(said, phrase),
                                 f"{what} speech '{phrase}'"))
            opts = raw.get("options") if speech else P.need(raw, "options", what)
            if speech and opts is None:
                opts = _Map()
            elif not isinstance(opts, _Map) or (not opts and not speech):
                raise P.fail(P.line_of(raw, "options"), f"{what}: 'options' maps digits to nodes")
            options: dict[str, str] = {}
            for key, target in opts.items():
                digit = str(key)
                if digit not in DTMF_KEYS:
                    raise P.fail(
                        P.line_of(opts, key),
                        f"{what}: option '{digit}' is not a phone key (0-9, '*', '#'; "
                        "quote * and # in YAML)",
                    )
                options[digit] = str(target)
                refs.append((str(target), P.line_of(opts, key), f"{what} option '{digit}'"))
            nodes[nid] = MenuNode(
                **common, prompt=prompt, options=options, timeout=timeout,
                max_retries=retries, invalid=invalid, goodbye=goodbye, speech=speech,
            )
        elif kind == "input":
            digits = P.integer(raw, "digits", what, None)
            term = raw.get("terminator")
            if term is not None and str(term) not in DTMF_KEYS:
                raise P.fail(P.line_of(raw, "terminator"), f"{what}: 'terminator' must be a key")
            if digits is None and term is None:
                raise P.fail(raw.line, f"{what}: give 'digits' (length) and/or 'terminator'")
            nodes[nid] = InputNode(
                **common, prompt=prompt, digits=digits,
                terminator=str(term) if term is not None else None, next=ref("next"),
                timeout=timeout, max_retries=retries, invalid=invalid, goodbye=goodbye,
            )
        elif kind == "hold":
            music = P.path(P.need(raw, "music", what), P.line_of(raw, "music"), what, "music")
            dur = raw.get("duration", [20, 60])
            if isinstance(dur, int | float) and not isinstance(dur, bool):
                dur = [dur, dur]
            if (
                not isinstance(dur, list) or len(dur) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in dur)
                or not 0 <= dur[0] <= dur[1]
            ):
                raise P.fail(
                    P.line_of(raw, "duration"), f"{what}: 'duration' is seconds or [min, max]"
                )
            anns: tuple[Prompt, ...] = ()
            every = first = 30.0
            ann_raw = raw.get("announcements")
            if ann_raw is not None:
                aline = P.line_of(raw, "announcements")
                if isinstance(ann_raw, list):
                    ann_raw = _Map(prompts=ann_raw)
                if not isinstance(ann_raw, _Map):
                    raise P.fail(aline, f"{what}: 'announcements' is {{every, prompts}}")
                plist = P.need(ann_raw, "prompts", f"{what} announcements")
                if not isinstance(plist, list) or not plist:
                    raise P.fail(aline, f"{what}: announcement 'prompts' must be a list")
                anns = tuple(
                    P.prompt(p, P.line_of(p) or aline, f"{what} announcement") for p in plist
                )
                every = P.number(ann_raw, "every", f"{what} announcements", 30.0, minimum=1)
                first = P.number(ann_raw, "first_after", f"{what} announcements", every)
            offer = None
            cb = raw.get("callback_offer")
            if cb is not None:
                cw = f"{what} callback_offer"
                if not isinstance(cb, _Map):
                    raise P.fail(P.line_of(raw, "callback_offer"), f"{cw}: must be a mapping")
                digit = str(cb.get("digit", "1"))
                if digit not in DTMF_KEYS:
                    raise P.fail(P.line_of(cb, "digit"), f"{cw}: 'digit' must be a phone key")
                offer = CallbackOffer(
                    prompt=P.prompt(P.need(cb, "prompt", cw), P.line_of(cb, "prompt"), cw),
                    digit=digit, next=ref("next", cb, cw),
                    after=P.number(cb, "after", cw, 5.0),
                )
            nodes[nid] = HoldNode(
                **common, music=music, duration=(float(dur[0]), float(dur[1])),
                next=ref("next"), prompt=P.opt_prompt(raw, "prompt", what, None),
                announcements=anns, announce_every=every,
                first_announcement=first, callback_offer=offer,
            )
        elif kind == "agent":
            parts: list[PromptPart] = []
            if raw.get("prompt") is not None:
                parts += P.prompt(raw["prompt"], P.line_of(raw, "prompt"), what).parts
            if raw.get("wav") is not None:
                parts.append(WavPart(P.path(raw["wav"], P.line_of(raw, "wav"), what)))
            if raw.get("say") is not None:
                say = P.part(_Map(say=raw["say"]), P.line_of(raw, "say"), what)
                voice = raw.get("voice")
                if voice is not None:
                    if voice not in VOICE_IDS:
                        raise P.fail(P.line_of(raw, "voice"), f"{what}: voice {voice!r} is not "
                                     f"one of {', '.join(VOICE_IDS)}")  # fmt: skip
                    say = SayPart(say.text, str(voice))
                parts.append(say)
            if not parts:
                raise P.fail(raw.line, f"{what}: an agent needs 'say' text, a 'wav' or 'prompt'")
            agent_name = raw.get("name")
            nodes[nid] = AgentNode(
                **common, greeting=Prompt(tuple(parts)),
                agent_name=str(agent_name) if agent_name is not None else None,
                max_seconds=P.number(raw, "max_seconds", what, 120.0, minimum=1),
            )
        else:
            nodes[nid] = HangupNode(**common, prompt=P.opt_prompt(raw, "prompt", what, None))

    start = str(doc.get("start", next(iter(nodes))))
    refs.append((start, P.line_of(doc, "start"), "company 'start'"))
    for target, line, what in refs:
        if target not in nodes:
            raise P.fail(line, f"{what} points to unknown node '{target}'")
    greeting = P.opt_prompt(doc, "greeting", "company", None)
    return Company(
        name=str(name), number=number, start=start, nodes=nodes, source=source,
        greeting=greeting, slug=_slug(source),
    )
