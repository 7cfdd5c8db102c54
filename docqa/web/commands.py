"""`docqa serve` (placeholder until the UI lands)."""
from __future__ import annotations

from docqa.errors import DocQAError


def serve() -> None:
    """Serve the chat UI, the portal widget and the HTTP API."""
    raise DocQAError("`docqa serve` is not built yet")
