"""Generative answers from an OpenAI-compatible LLM, checked by the grounding guard
(``guard.py``); ``local.py`` runs the bundled offline model.  Nothing here loads
a model or opens a connection at import time."""
