"""`docqa eval` (placeholder until the eval suite lands)."""
from __future__ import annotations

from docqa.errors import DocQAError


def eval_command() -> None:
    """Run the evaluation suite."""
    raise DocQAError("`docqa eval` is not built yet")
