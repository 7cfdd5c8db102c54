"""``python -m docqa.llm.audit predictions.jsonl …``: an independent check of
final answers (the eval's ``predictions.jsonl``): every Arabic number in an
answer's sentence must appear, as a whole number, in a passage that sentence
cites.  Deliberately simpler and stricter than the guard (no 万/亿 or Chinese
numeral conversion), so it does not share the guard's blind spots; a hit is
a number to look at, not necessarily a wrong one.  Exit 1 when any is found,
2 when a file cannot be read.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

from docqa.text import CLOSING, SENTENCE_MARKS, sentence_spans

# a sentence ends at its end mark with any closing quotes and markers after it (…。”[2]), or at a line break
_END = re.compile(rf"[{SENTENCE_MARKS}][{CLOSING}\"']*(?:\s*\[\d+\])*|\n")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MARKS = re.compile(r"\[(\d+)\]")


def _digits(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", t)


def _cited_text(answer: dict, n: int) -> str:
    c = next((c for c in answer.get("citations") or [] if c.get("n") == n), None)
    if c is None:
        return ""
    for p in answer.get("passages") or []:
        if p.get("doc") == c.get("doc") and p["start"] <= c["start"] and c["end"] <= p["end"]:
            return " ".join((p.get("title") or "", p.get("section") or "", p.get("text") or "", c.get("quote") or ""))
    return c.get("quote") or ""


def _sentences(text: str) -> list[str]:
    """The sentences of an answer; end marks and line breaks start none, and a
    line that ends without an end mark is not read (unless it is the last)."""
    out = []
    for start, end in sentence_spans(text, _END, skip=SENTENCE_MARKS + "\n"):
        if text[end - 1] != "\n":
            out.append(text[start:end])
        elif end == len(text):
            out.append(text[start : end - 1])
    return out


def unsupported_numbers(answer: dict) -> list[tuple[str, str]]:
    """(number, sentence) pairs of an answer contract whose number no cited passage holds."""
    if answer.get("refused"):
        return []
    out = []
    for sentence in _sentences(answer.get("answer") or ""):
        body = _MARKS.sub("", sentence)
        cited = set(_NUMBER.findall(_digits(" ".join(_cited_text(answer, int(n)) for n in _MARKS.findall(sentence)))))
        for num in _NUMBER.findall(_digits(body)):  # whole numbers: 6 is not supported by 36
            if num not in cited:
                out.append((num, sentence.strip()))
    return out


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    if not paths:
        print("usage: python -m docqa.llm.audit predictions.jsonl …", file=sys.stderr)
        return 2
    total = answered = flagged = 0
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"docqa.llm.audit: error: cannot read {path} ({exc}); pass the eval's predictions.jsonl", file=sys.stderr)
            return 2
        for k, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                a = json.loads(line)
            except json.JSONDecodeError as exc:
                print(
                    f"docqa.llm.audit: error: {path}:{k} is not JSON ({exc}); pass the eval's predictions.jsonl",
                    file=sys.stderr,
                )
                return 2
            if not isinstance(a, dict):
                print(
                    f"docqa.llm.audit: error: {path}:{k} is not an answer object; pass the eval's predictions.jsonl",
                    file=sys.stderr,
                )
                return 2
            total += 1
            answered += not a.get("refused")
            bad = unsupported_numbers(a)
            if bad:
                flagged += 1
                for num, sentence in bad:
                    print(f"{a.get('id', '?')}: {num} not in the cited passages: {sentence}")
    print(f"{total} answers ({answered} not refused); {flagged} with a number no cited passage holds")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
