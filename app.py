"""``python app.py``: the chat window, portal widget and HTTP API, served
exactly as ``docqa serve`` serves them (same flags, same ``DOCQA_*`` variables).

The UI itself is ``docqa.web.ui.build_app``; this file only starts it, and
importing it loads no model and starts nothing."""

from __future__ import annotations

from docqa.web.ui import build_app

__all__ = ["build_app"]

if __name__ == "__main__":
    import sys

    from docqa.cli import main

    sys.argv = [sys.argv[0], "serve", *sys.argv[1:]]
    main()
