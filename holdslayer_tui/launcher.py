"""The ``holdslayer`` console script: no subcommand opens the TUI, anything else is the
headless CLI (``engine.cli``). It lives here because the engine may never import the UI."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    app_option = bool(args) and args[0].startswith("--") and args[0] not in (
        "--help", "--verbose")
    if not args or args[0] in ("tui", "ui") or app_option:
        from holdslayer_tui.app import run_app

        return run_app(args[1:] if args and args[0] in ("tui", "ui") else args)
    from engine.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
