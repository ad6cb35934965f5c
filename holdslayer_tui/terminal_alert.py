"""Alerts that reach the user's own terminal, even over SSH: a bell plus the OSC 9 (iTerm2,
Windows Terminal, kitty, foot...) and OSC 777 (rxvt, VTE/GNOME Terminal, WezTerm) desktop
notification escapes. Inside tmux they are wrapped in a DCS passthrough so they get out."""

from __future__ import annotations

import os
from collections.abc import Mapping

ESC, BEL, ST = "\x1b", "\x07", "\x1b\\"


def _clean(text: str) -> str:
    """No control characters (they would end the escape early) and no ';' in OSC 777 fields."""
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f").replace(";", ",")[:200]


def alert_sequence(title: str, body: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    title, body = _clean(title), _clean(body)
    osc9 = f"{ESC}]9;{title}: {body}{BEL}"
    osc777 = f"{ESC}]777;notify;{title};{body}{BEL}"
    if env.get("TMUX"):
        osc9, osc777 = (_tmux_passthrough(s) for s in (osc9, osc777))
    return BEL + osc9 + osc777


def _tmux_passthrough(seq: str) -> str:
    return f"{ESC}Ptmux;" + seq.replace(ESC, ESC + ESC) + ST
