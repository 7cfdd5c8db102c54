"""Tables typed into plain text: rows of cells separated by ``|`` or by tabs.

People lay a table out in a .txt with `` | `` between its cells
(「区域 | 白天首小时 | 夜间」) or paste a spreadsheet into one (tabs).  Left as
written, a row is a run of values without the names of their columns:
「一类区域 | 8元 | 每半小时4元 | 每次10元」 says nothing of 夜间.  Two or more
consecutive lines that split into the same number (two or more) of cells, by
the same separator, are one table, and become one line per data row with
each value named by its column, as a Markdown, Word or PDF table does
(``markdown.table_lines``): 「区域：一类区域，白天首小时：8元，白天首小时后：每半小时4元，
夜间：每次10元」.  A Markdown delimiter row (``|---|---|``) is dropped.  A lone
line with a ``|`` in it, or lines whose numbers of cells differ, stay as
written.
"""

from __future__ import annotations

import re

from docqa.ingest.markdown import table_lines

_DELIMITER = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?$")
MIN_ROWS = 2


def _cells(line: str) -> tuple[str, list[str]] | None:
    """The separator and cells of a table row, or None for any other line."""
    text = line.strip()
    if "|" in text:
        if text.startswith("|") and text.endswith("|") and len(text) > 1:
            text = text[1:-1]
        cells = [c.strip() for c in text.split("|")]
        sep = "|"
    elif "\t" in text:
        cells = [c.strip() for c in text.split("\t")]
        sep = "\t"
    else:
        return None
    if len(cells) < 2 or sum(1 for c in cells if c) < 2:
        return None
    return sep, cells


def render_plain_tables(text: str) -> str:
    """``text`` with each run of table rows written as named rows."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        first = _cells(lines[i])
        if first is None:
            out.append(lines[i])
            i += 1
            continue
        sep, cells = first
        rows, j = [cells], i + 1
        while j < len(lines):
            if sep == "|" and _DELIMITER.match(lines[j].strip()):
                j += 1
                continue
            nxt = _cells(lines[j])
            if nxt is None or nxt[0] != sep or len(nxt[1]) != len(cells):
                break
            rows.append(nxt[1])
            j += 1
        if len(rows) < MIN_ROWS:
            out.extend(lines[i:j])
        else:
            out.append("\n".join(table_lines(rows)))
        i = j
    return "\n".join(out)
