"""The LLM navigator: asks an OpenAI-compatible model which key to press, and hands over to
the offline navigator the moment the model fails.

Why the fallback lives here: the call driver should not care which brain decides. A model
that times out, errors or answers nonsense yields ``{}`` from :class:`LLMClient`; this
navigator then answers offline for that menu, and after ``max_failures`` failures in a row
stops asking for the rest of the call (each failure costs a timeout the caller pays for in
menu time). Data prompts are answered offline from the profile: account numbers and ZIP codes
never leave the machine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from engine.ivr.llm_client import LLMClient
from engine.ivr.navigator import Choice, MenuContext
from engine.ivr.offline_navigator import OfflineNavigator

log = logging.getLogger(__name__)


class LLMNavigator:
    name = "llm"

    def __init__(self, client: LLMClient, offline: OfflineNavigator | None = None,
                 max_failures: int = 2) -> None:
        self.client = client
        self.offline = offline or OfflineNavigator()
        self.max_failures = max_failures
        self.failures = 0
        self.gave_up = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ivr-llm",
                                        daemon=True)
        self._thread.start()

    @classmethod
    def from_settings(cls, llm: Any, profile: Any = None) -> LLMNavigator:
        client = LLMClient(llm.base_url, llm.model, llm.api_key.get_secret_value(),
                           timeout=min(float(llm.timeout), 15.0), max_tokens=300,
                           temperature=0.0)
        return cls(client, OfflineNavigator(profile))

    def decide(self, ctx: MenuContext) -> Choice:
        if ctx.menu.data is not None or self.gave_up:
            return self._offline(ctx, "data prompt" if ctx.menu.data else "LLM unavailable")
        fut = asyncio.run_coroutine_threadsafe(
            self.client.analyze_ivr_menu(ctx.transcript, ctx.intent, ctx.pressed), self._loop)
        try:
            raw = fut.result(self.client.timeout * 2 + 5)
        except Exception as exc:  # the client never raises; a stuck loop might
            log.warning("LLM navigator: %s", exc)
            raw = {}
        if not raw:
            self.failures += 1
            if self.failures >= self.max_failures:
                self.gave_up = True
                log.warning("LLM failed %d times; the offline navigator takes over for the "
                            "rest of this call", self.failures)
            return self._offline(ctx, "LLM failed")
        self.failures = 0
        action = raw["action"]
        digits = raw.get("digits", "")
        if action == "dtmf" and digits in ctx.excluded:
            return self._offline(ctx, f"LLM repeated {digits}, already tried")
        offline = self.offline.decide(ctx)
        return Choice(action, digits, raw.get("text", ""), raw.get("reasoning", ""),
                      confidence=0.8, source="llm", ranked=offline.ranked,
                      scores=offline.scores, decisive=offline.decisive and
                      offline.digits == digits)

    def _offline(self, ctx: MenuContext, why: str) -> Choice:
        choice = self.offline.decide(ctx)
        choice.source = f"offline ({why})"
        return choice

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
