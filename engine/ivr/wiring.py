"""The one call the rest of the app makes: ``start_navigator(...)`` when a call with an
intent is placed. Why a function of its own: Runtime, the CLI, the TUI and the benchmark all
start navigation the same way (same navigator choice, same learned flows, same profile)."""

from __future__ import annotations

import logging
from typing import Any

from engine.events import EventBus

log = logging.getLogger(__name__)


def start_navigator(runtime_or_engine: Any, bus: EventBus, call_id: str, intent: str,
                    company: str = "", settings: Any = None, *, replay: bool = True,
                    flows: Any = None, **session_kw: Any) -> Any:
    """Start navigating ``call_id`` towards ``intent``; returns the running IvrSession
    (``.wait()``, ``.tree()``, ``.result``), or None when there is no intent.

    Call it after ``engine.prepare_call()`` and before ``engine.dial()`` so the session sees
    the answer. ``runtime_or_engine`` is a Runtime (its engine and history store are used)
    or a SipEngine. With ``settings.llm.base_url`` and ``model`` set, the LLM decides and the
    offline navigator takes over if it fails; otherwise the offline navigator decides.
    """
    from engine.config import Settings
    from engine.ivr.session import IvrSession

    if not intent.strip():
        return None
    settings = settings or Settings()
    engine = getattr(runtime_or_engine, "engine", runtime_or_engine)
    profile = settings.profile
    navigator = None
    if settings.llm.base_url and settings.llm.model:
        from engine.ivr.llm_navigator import LLMNavigator

        navigator = LLMNavigator.from_settings(settings.llm, profile)
    if flows is None:
        flows = _flow_store(getattr(runtime_or_engine, "store", None))
    session_kw.setdefault("dtmf_method", settings.sip.dtmf_method)
    return IvrSession(engine, bus, call_id, intent, company, navigator=navigator,
                      profile=profile, flows=flows, replay=replay, **session_kw).start()


def _flow_store(store: Any) -> Any:
    """Learned flows live in the history database; without one, navigation still works."""
    try:
        from engine.ivr.flow_store import FlowStore

        if store is None:
            from engine.store.database import HistoryStore

            store = HistoryStore()
        return FlowStore(store)
    except Exception as exc:
        log.warning("learned call flows unavailable: %s", exc)
        return None
