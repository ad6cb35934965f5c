"""Getting through phone menus: parse what the menu says, decide (offline, LLM, or a learned
flow), press keys, and stop at the queue. Start one per call with :func:`start_navigator`."""

from engine.ivr.wiring import start_navigator

__all__ = ["start_navigator"]
