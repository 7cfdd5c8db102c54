"""Conversation: earlier turns in, a standalone question out (follow-up
resolution).  The engine rewrites a follow-up before retrieval and answers
the rewritten question; the answer says how the question was understood."""

from docqa.conversation.records import MAX_TURNS, Resolution, Turn, parse_history

__all__ = ["MAX_TURNS", "Resolution", "Turn", "parse_history"]
