"""A small client for any OpenAI-compatible chat-completions server (Ollama, LM Studio,
vLLM, OpenAI), used by the LLM phone-menu navigator.

Why it never raises: it runs in the middle of a live phone call. A server that is down,
slow, rate-limited or answering in prose must cost us at most one timeout, after which the
caller falls back to the offline navigator. So every public coroutine returns an empty
result (``""`` / ``{}``) on failure, logs what went wrong with the model and URL for
context, and counts it in :attr:`LLMClient.stats`. The API key goes only into the
``Authorization`` header: it is never logged, printed or put in ``repr``.

Local models often ignore tool calling or wrap JSON in prose and code fences, so replies go
through :func:`extract_json` (raw, fenced, first balanced object, repaired truncation), and a
server that rejects ``tools`` is remembered and asked for plain JSON from then on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx

log = logging.getLogger(__name__)

ACTIONS = ("dtmf", "speak", "wait", "hang_up", "request_agent")
_DTMF_CHARS = re.compile(r"[^0-9*#,wW]")

IVR_SYSTEM_PROMPT = (
    "You navigate automated phone menus (IVRs) for a caller. You hear the menu as a "
    "transcript and decide the single next action that brings the caller closest to a "
    "person who can handle their request. Prefer the option whose meaning fits the request; "
    "choose an operator/agent option only when no option fits. Never choose options that "
    "repeat the menu, change the language away from English, or end the call. When the "
    "menu asks for data you do not have, answer with action 'wait'. Reply with JSON only: "
    '{"action": "dtmf|speak|wait|hang_up|request_agent", "digits": "3", "text": "", '
    '"reasoning": "one short sentence"}.'
)

IVR_TOOL = {
    "type": "function",
    "function": {
        "name": "ivr_action",
        "description": "The next action to take in the phone menu.",
        "parameters": {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": list(ACTIONS)},
                "digits": {"type": "string", "description": "keys to press, for dtmf"},
                "text": {"type": "string", "description": "words to say, for speak"},
                "reasoning": {"type": "string"},
            },
            "required": ["action", "reasoning"],
        },
    },
}


# ---------------------------------------------------------------------------- JSON rescue


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in a model's reply, or ``{}``.

    Tries, in order: the whole text, a fenced ```json block, the first balanced ``{...}``,
    and finally a repair of an object cut off by ``max_tokens``.
    """
    if not text or not text.strip():
        return {}
    stripped = text.strip()
    candidates = [stripped]
    for m in re.finditer(r"```(?:json|JSON)?\s*(.*?)```", text, re.S):
        candidates.append(m.group(1).strip())
    for candidate in candidates:
        obj = _loads_dict(candidate)
        if obj is not None:
            return obj
    start = text.find("{")
    while start != -1:
        end = _balanced_end(text, start)
        if end is None:
            break
        obj = _loads_dict(text[start:end])
        if obj is not None:
            return obj
        start = text.find("{", start + 1)
    if start != -1:
        return _repair_truncated(text[start:])
    return {}


def _loads_dict(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except (ValueError, TypeError):
        return None
    return obj if isinstance(obj, dict) else None


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the ``}`` closing the ``{`` at ``start`` (strings respected)."""
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _closers(text: str) -> tuple[str, bool]:
    """What closes ``text``'s open brackets, and whether it ends inside a string."""
    stack: list[str] = []
    in_str, esc = False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    return "".join(reversed(stack)), in_str


def _repair_truncated(fragment: str) -> dict[str, Any]:
    """Close a JSON object cut short; drop the last member when it cannot be completed."""
    text = fragment.rstrip()
    for _ in range(8):
        closers, in_str = _closers(text)
        attempt = text + ('"' if in_str else "") + closers
        obj = _loads_dict(attempt)
        if obj is not None:
            return obj
        cut = max(text.rfind(","), text.rfind("{") + 1 if text.rfind("{") > 0 else -1)
        if cut <= 0:
            break
        text = text[:cut].rstrip().rstrip(",")
    return {}


# ---------------------------------------------------------------------------- client


class LLMClient:
    """``await client.analyze_ivr_menu(transcript, intent, previous)`` → an action dict."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30.0,
        max_tokens: int = 1024,
        temperature: float = 0.3,
        *,
        retries: int = 1,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retries = retries
        self._transport = transport
        self.tools_supported: bool | None = None  # None: not tried yet
        self._requests = 0
        self._errors = 0
        self._latency_total_ms = 0.0
        self._latency_count = 0

    def __repr__(self) -> str:  # never the key
        return f"LLMClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def endpoint(self) -> str:
        """``.../v1/chat/completions`` whether or not the base URL already ends in /v1."""
        if re.search(r"/v\d+$", self.base_url):
            return self.base_url + "/chat/completions"
        return self.base_url + "/v1/chat/completions"

    @property
    def stats(self) -> dict[str, Any]:
        avg = self._latency_total_ms / self._latency_count if self._latency_count else 0.0
        return {
            "total_requests": self._requests,
            "total_errors": self._errors,
            "avg_latency_ms": round(avg, 1),
            "model": self.model,
            "base_url": self.base_url,
        }

    # -- public API ------------------------------------------------------------------------

    async def chat(self, prompt: str, system: str | None = None) -> str:
        """The assistant's text reply, or ``""`` on any failure."""
        message = await self._complete(_messages(prompt, system))
        if message is None:
            return ""
        return _content(message)

    async def chat_json(self, prompt: str, system: str | None = None) -> dict[str, Any]:
        """The first JSON object in the reply, or ``{}``."""
        sys_prompt = (system + "\n\n" if system else "") + "Reply with one JSON object only."
        body_extra = {"response_format": {"type": "json_object"}}
        message = await self._complete(_messages(prompt, sys_prompt), body_extra)
        if message is None:
            return {}
        return extract_json(_content(message))

    async def analyze_ivr_menu(
        self, transcript: str, intent: str, previous_selections: list[str] | None = None
    ) -> dict[str, Any]:
        """``{"action": "dtmf", "digits": "3", "reasoning": ...}``; ``{}`` when the model
        could not be asked or gave nothing usable (the caller then decides offline)."""
        previous = ", ".join(previous_selections or []) or "none"
        prompt = (
            f"Caller's request: {intent}\n"
            f"Keys already pressed in this call: {previous}\n"
            f"Menu transcript:\n{transcript.strip()}\n\n"
            "What should the caller do next?"
        )
        messages = _messages(prompt, IVR_SYSTEM_PROMPT)
        raw: dict[str, Any] = {}
        if self.tools_supported is not False:
            extra = {
                "tools": [IVR_TOOL],
                "tool_choice": {"type": "function", "function": {"name": "ivr_action"}},
            }
            message = await self._complete(messages, extra, tools_probe=True)
            if message is not None:
                raw = _tool_arguments(message) or extract_json(_content(message))
        if not raw and self.tools_supported is False:
            message = await self._complete(messages, {"response_format": {"type": "json_object"}})
            if message is not None:
                raw = extract_json(_content(message))
        return normalise_action(raw)

    # -- transport -------------------------------------------------------------------------

    async def _complete(
        self,
        messages: list[dict[str, str]],
        extra: dict[str, Any] | None = None,
        *,
        tools_probe: bool = False,
    ) -> dict[str, Any] | None:
        """POST one completion; the reply's ``message`` or None (logged, counted)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            **(extra or {}),
        }
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempt = 0
        while True:
            self._requests += 1
            t0 = time.monotonic()
            try:
                async with httpx.AsyncClient(
                    timeout=self.timeout, transport=self._transport
                ) as client:
                    resp = await client.post(self.endpoint, json=body, headers=headers)
                elapsed_ms = (time.monotonic() - t0) * 1000
                self._latency_total_ms += elapsed_ms
                self._latency_count += 1
            except (TimeoutError, httpx.TimeoutException):
                self._errors += 1
                log.warning("LLM %s at %s: no reply within %.1f s", self.model, self.endpoint,
                            self.timeout)
                return None
            except httpx.HTTPError as exc:
                self._errors += 1
                log.warning("LLM %s at %s: %s: %s", self.model, self.endpoint,
                            type(exc).__name__, exc)
                return None
            if resp.status_code == 200:
                message = _first_message(resp)
                if message is None:
                    self._errors += 1
                    log.warning("LLM %s at %s: reply is not a chat completion: %.200s",
                                self.model, self.endpoint, resp.text)
                elif tools_probe and self.tools_supported is None:
                    self.tools_supported = True
                return message
            detail = resp.text[:300]
            if tools_probe and resp.status_code in (400, 404, 422, 501) and (
                "tool" in detail.lower() or resp.status_code != 404
            ):
                # the server does not do tool calling: remember, and ask for plain JSON
                self.tools_supported = False
                self._errors += 1
                log.info("LLM %s at %s rejects tool calling (%s); using plain JSON",
                         self.model, self.endpoint, resp.status_code)
                return None
            self._errors += 1
            retryable = resp.status_code == 429 or resp.status_code >= 500
            log.warning("LLM %s at %s: HTTP %s: %s", self.model, self.endpoint,
                        resp.status_code, detail)
            if not retryable or attempt >= self.retries:
                return None
            attempt += 1
            await asyncio.sleep(_retry_delay(resp, attempt))


def _retry_delay(resp: httpx.Response, attempt: int) -> float:
    """Retry-After when given, capped: a caller is listening to the menu meanwhile."""
    try:
        after = float(resp.headers.get("retry-after", ""))
    except ValueError:
        after = 0.25 * attempt
    return max(0.0, min(after, 2.0))


def _messages(prompt: str, system: str | None) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": prompt})
    return msgs


def _first_message(resp: httpx.Response) -> dict[str, Any] | None:
    try:
        data = resp.json()
        message = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return message if isinstance(message, dict) else None


def _content(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # some servers send content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _tool_arguments(message: dict[str, Any]) -> dict[str, Any]:
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        args = fn.get("arguments")
        if isinstance(args, dict):
            return args
        if isinstance(args, str):
            parsed = extract_json(args)
            if parsed:
                return parsed
    return {}


def normalise_action(raw: dict[str, Any]) -> dict[str, Any]:
    """A well-formed action, or ``{}``: unknown actions and key-less dtmf are not guesses
    we want to act on in a live call."""
    if not raw:
        return {}
    action = str(raw.get("action", "")).strip().lower().replace("-", "_").replace(" ", "_")
    if action in ("press", "dial", "key", "digits"):
        action = "dtmf"
    if action not in ACTIONS:
        return {}
    out: dict[str, Any] = {"action": action, "reasoning": str(raw.get("reasoning", ""))[:500]}
    if action == "dtmf":
        digits = _DTMF_CHARS.sub("", str(raw.get("digits", "")))
        if not digits:
            return {}
        out["digits"] = digits
    elif action == "speak":
        text = str(raw.get("text", "")).strip()
        if not text:
            return {}
        out["text"] = text
    return out
