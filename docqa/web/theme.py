"""How the chat window looks: a Gradio theme on system fonts and DocQA's CSS.

System font stacks only (with the common CJK fonts first), so the page fetches
no web font from any host: DocQA must work on an intranet."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

STATIC_DIR = Path(__file__).resolve().parent / "static"

FONT_STACK = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Helvetica Neue",
    "Arial",
    "sans-serif",
]
MONO_STACK = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace"]


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="teal", secondary_hue="slate", font=FONT_STACK, font_mono=MONO_STACK)


def mount_options() -> dict:
    """What Gradio 6 takes at mount/launch time rather than in ``gr.Blocks``."""
    return {"theme": theme(), "css_paths": [STATIC_DIR / "chat.css"]}
