"""A plain-text document read as the blocks a typesetter lays out: headings,
paragraphs, list items and tables.

Blank lines separate paragraphs; a paragraph's lines are joined (CJK lines
directly, Latin ones with a space).  A short line not ending in punctuation is a
heading ("1.5 新型研发机构高质量发展", or markdown ``#``, is a main heading);
``- `` / ``* `` / ``1)`` lines are list items; a markdown ``| a | b |`` block is a
table; and a run of statistic lines — a figure line ("134个，占所有获奖项目70%")
followed by its short label line ("多单位合作项目") — becomes a table of
「项目 | 数据」 rows.  The rules read the text only, never a question set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TABLE_HEADER = ("项目", "数据")
HEADING_MAX = 30  # a line this short, not ending in punctuation, is a heading
LABEL_MAX = 20  # a statistic's label line is at most this long
MIN_TABLE_ROWS = 2  # a run of at least this many (figure, label) pairs becomes a table
CLOSING = "。！？；：，、.!?;:,)）」”"  # a line ending in one of these is text, not a heading
OPENING_LIST = re.compile(r"^\s*(?:[-*•·]|\d+[)）])\s+")
MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
NUMBERED_HEADING = re.compile(r"^\d+(?:\.\d+)+\s+\S")
# "134个，占所有获奖项目70%", "70%", "12万亿元": a number, a short unit, then the end or a separator
FIGURE = re.compile(r"^\d[\d,.]*\s?[%％]?[^\d\s，,。；;]{0,4}(?:$|[，,；;、（(])")
BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


@dataclass(frozen=True)
class Block:
    """One piece of the laid-out document."""

    kind: str  # "heading", "subheading", "para", "item" or "table"
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()  # a table's rows, header first


def plain(text: str) -> str:
    """The text a reader sees: markdown emphasis markers removed."""
    return BOLD.sub(lambda m: m.group(1) or m.group(2), text).replace("**", "")


def _join(lines: list[str]) -> str:
    """Lines of one paragraph: CJK lines join directly, Latin ones with a space."""
    out = lines[0]
    for line in lines[1:]:
        latin = out[-1:].isascii() and line[:1].isascii()
        out += (" " if latin else "") + line
    return out


def _is_short(text: str, limit: int) -> bool:
    t = plain(text)
    return 0 < len(t) <= limit and t[-1] not in CLOSING


def _is_label(block: Block) -> bool:
    """A statistic's label: a short line with no punctuation that does not start with a number."""
    t = plain(block.text)
    return block.kind == "subheading" and len(t) <= LABEL_MAX and not t[0].isdigit() and not any(c in CLOSING for c in t)


def _md_table(lines: list[str]) -> Block:
    rows = [tuple(c.strip() for c in line.strip().strip("|").split("|")) for line in lines]
    rows = [r for r in rows if not all(set(c) <= set(":- ") for c in r)]  # the |---| separator
    width = max(map(len, rows))
    return Block("table", rows=tuple(r + ("",) * (width - len(r)) for r in rows))


def _groups(text: str) -> list[Block]:
    """Blocks before statistic tables are found: blank lines separate paragraphs,
    list items and markdown headings stand alone."""
    blocks: list[Block] = []
    for group in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line.strip() for line in group.split("\n") if line.strip()]
        if lines and all(line.startswith("|") and line.endswith("|") for line in lines) and len(lines) > 1:
            blocks.append(_md_table(lines))
            continue
        para: list[str] = []
        for line in lines + [""]:
            heading = MD_HEADING.match(line)
            if (heading or OPENING_LIST.match(line) or not line) and para:
                blocks.append(_classify(_join(para)))
                para = []
            if heading:
                blocks.append(Block("heading" if len(heading.group(1)) <= 2 else "subheading", heading.group(2)))
            elif OPENING_LIST.match(line):
                blocks.append(Block("item", OPENING_LIST.sub("", line)))
            elif line:
                para.append(line)
    return blocks


def _classify(text: str) -> Block:
    if _is_short(text, HEADING_MAX) and NUMBERED_HEADING.match(plain(text)):
        return Block("heading", text)
    if _is_short(text, HEADING_MAX) and not FIGURE.match(plain(text)):
        return Block("subheading", text)
    return Block("para", text)


def parse(text: str) -> list[Block]:
    """The document's blocks; runs of (figure line, label line) pairs become a table."""
    blocks = _groups(text)
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        rows = []
        j = i
        while j + 1 < len(blocks) and _is_figure(blocks[j]) and _is_label(blocks[j + 1]):
            rows.append((plain(blocks[j + 1].text), plain(blocks[j].text)))
            j += 2
        if len(rows) >= MIN_TABLE_ROWS:
            out.append(Block("table", rows=(TABLE_HEADER, *rows)))
            i = j
        else:
            out.append(blocks[i])
            i += 1
    return out


def _is_figure(block: Block) -> bool:
    """A statistic's figure: a short line that starts with a number and its unit."""
    t = plain(block.text)
    return block.kind in ("para", "subheading") and len(t) <= HEADING_MAX and bool(FIGURE.match(t))
