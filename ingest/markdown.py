"""Markdown (and the HTML inside it) as the text a reader sees.

``render_markdown`` parses with markdown-it-py (CommonMark with pipe tables)
and writes back only what a rendered page shows: headings stay ``## 标题``
lines (``structure.py`` reads them as sections), paragraphs are separated by a
blank line, list items become ``- item`` / ``1. item`` lines, and emphasis,
link targets, image sources, inline HTML tags and front matter disappear
(``[文字](url)`` -> ``文字``, ``<span>数据</span>`` -> ``数据``, ``<br>`` -> a line
break).  A soft line break joins its lines the way a browser does: with
nothing between CJK characters, with a space otherwise.

Tables become one line per data row, each value named by its column
(``机构：研究所，数量：36家``), so a figure can be found and quoted with what it
describes.  Cells are joined with ``，``, not ``；``: ``；`` ends a sentence for
the splitter (``sentences.py``), so the row would not stay one sentence.
``table_lines`` is shared with the DOCX reader.

The rendered text is the document's stored text, so citation offsets point
into it and nothing else needs mapping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from docqa.text import CJK_TEXT

NAME_SEP = "："  # between a column's name and the row's value
CELL_SEP = "，"  # between the cells of one row (keeps the row one sentence)
HEADER_MAX_FIGURES = 0.5  # a first row is a header when fewer than this share of its cells are figures

_CJK = re.compile(f"[{CJK_TEXT}]")
_ROW_LINE = re.compile(f"^[^{NAME_SEP}{CELL_SEP}]+{NAME_SEP}[^{NAME_SEP}]*{CELL_SEP}[^{NAME_SEP}{CELL_SEP}]+{NAME_SEP}")
_SOFT = "\x00"  # a soft line break, resolved once its neighbours are known (markdown-it replaces NUL)
_SOFT_RUN = re.compile(rf"[ \t]*{_SOFT}[ \t{_SOFT}]*")
# YAML (---) or TOML (+++) front matter at the very top: closed by the same line (or ``...``),
# its first line a ``key: value`` or ``key = value``.
_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\n(?:[^\n:=]*[:=][^\n]*\n(?:.*?\n)?)?(?:\1|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_HIDDEN = ("script", "style", "noscript", "template", "title", "head", "iframe", "object")
_PIPE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_DELIMITER_ROW = re.compile(r"^[ \t]*\|(?:[ \t]*:?-+:?[ \t]*\|)+[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


# -- tables ------------------------------------------------------------------
def is_figure(cell: str) -> bool:
    """A cell that is mostly digits (``36``, ``12.5%``, ``134个``, ``2023年``)."""
    chars = [c for c in cell if not c.isspace()]
    return bool(chars) and 2 * sum(c.isdigit() for c in chars) >= len(chars)


def looks_like_header(cells: Sequence[str]) -> bool:
    """A row of names rather than values: some text, mostly not figures."""
    filled = [c for c in cells if c.strip()]
    return bool(filled) and sum(map(is_figure, filled)) < HEADER_MAX_FIGURES * len(filled)


def row_line(cells: Sequence[str], header: Sequence[str] = ()) -> str:
    """``名称：值，名称：值`` for the filled cells of a row (a value alone where its column has no name)."""
    parts = []
    for i, value in enumerate(cells):
        value = " ".join(value.split())
        if not value:
            continue
        name = " ".join(header[i].split()) if i < len(header) else ""
        parts.append(f"{name}{NAME_SEP}{value}" if name and name != value else value)
    return CELL_SEP.join(parts)


def is_row_line(text: str) -> bool:
    """A line ``row_line`` wrote for two or more named cells (``项目：多单位合作项目，数据：134个``):
    a table's data, never a heading."""
    return bool(_ROW_LINE.match(text))


def table_lines(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> list[str]:
    """One line per data row, each value named by its column.

    ``header`` given: the column names.  ``None``: leading rows with a single
    filled cell in a wider table are captions (a line of their own), and the
    next row is the header when it looks like one (``looks_like_header``) and
    at least one row follows it.  Empty cells are left out (a merged cell is
    passed once, the repeats as empty strings)."""
    rows = [list(r) for r in rows if any(c.strip() for c in r)]
    lines: list[str] = []
    if header is None:
        width = max((len(r) for r in rows), default=0)
        while len(rows) > 1 and width > 1 and sum(1 for c in rows[0] if c.strip()) == 1:
            lines.append(row_line(rows.pop(0)))
        if len(rows) >= 2 and looks_like_header(rows[0]):
            header = rows.pop(0)
    lines.extend(row_line(r, header or ()) for r in rows)
    return [line for line in lines if line]


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1]
    return [c.strip() for c in _CELL_SPLIT.split(inner)]


def repair_pipe_tables(md: str) -> str:
    """Make every run of ``| a | b |`` lines one well-formed pipe table.

    trafilatura writes an HTML table without ``<th>`` as pipe rows with no
    delimiter row (Markdown then reads them as a paragraph), and a caption row
    above the header as a second header.  Here each run gets one header row
    (an empty one when the table had none: ``render_markdown`` then decides
    from the rows) and one delimiter row; rows above the header become
    paragraphs."""
    lines = md.split("\n")
    out: list[str] = []
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if m and (not fence or m.group(1).startswith(fence)):
            fence = "" if fence else m.group(1)
        if fence or not _PIPE_ROW.match(line):
            out.append(line)
            i += 1
            continue
        run = []
        while i < len(lines) and _PIPE_ROW.match(lines[i]):
            run.append(lines[i])
            i += 1
        out.extend(_repaired(run))
    return "\n".join(out)


def _repaired(run: list[str]) -> list[str]:
    rows = [line for line in run if not _DELIMITER_ROW.match(line)]
    if not rows:
        return []
    delimiters, seen = [], 0  # how many rows stand above each delimiter row
    for line in run:
        if _DELIMITER_ROW.match(line):
            delimiters.append(seen)
        else:
            seen += 1
    head = 0  # the header is row ``head`` (1-based) when rows 1 … head are each followed by a delimiter
    while head < len(delimiters) and delimiters[head] == head + 1:
        head += 1
    width = max(len(_cells(r)) for r in rows)
    captions, header, body = rows[: max(head - 1, 0)], rows[head - 1] if head else "", rows[head:]
    out = [""]
    for cap in captions:
        out += [" ".join(c for c in _cells(cap) if c), ""]
    cells = _cells(header) if header else []
    cells += [""] * (width - len(cells))
    out += ["| " + " | ".join(cells) + " |", "|" + "---|" * width, *body, ""]
    return out


# -- HTML ----------------------------------------------------------------------
_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd details div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section summary table tr ul".split()
)
_WS = re.compile(r"\s+")
_SPACES = re.compile(r"[ \t]{2,}")  # white space a browser shows as one space


def _collapse(text: str) -> str:
    """HTML white space: a run is one space, or nothing where a line break sits between CJK characters."""

    def one(m: re.Match) -> str:
        if "\n" in m.group() and _CJK.match(text[m.start() - 1 : m.start()]) and _CJK.match(text[m.end() : m.end() + 1]):
            return ""
        return " "

    return _WS.sub(one, text)


def html_text(fragment: str) -> str:
    """The visible text of an HTML fragment: one line per block, tables as rows
    (``table_lines``), no scripts, styles or comments."""
    import lxml.html
    from lxml import etree

    if not fragment.strip():
        return ""
    try:
        body = lxml.html.document_fromstring(f"<html><body>{fragment}</body></html>").find("body")
    except (etree.ParserError, ValueError):
        return ""
    if body is None:
        return ""
    for el in body.xpath(".//comment() | .//processing-instruction() | " + " | ".join(f".//{t}" for t in _HIDDEN)):
        el.drop_tree()
    pre = set(body.xpath(".//pre | .//pre//*"))
    for el in body.iter():
        if el.text and el not in pre:
            el.text = _collapse(el.text)
        if el.tail and el.getparent() not in pre:
            el.tail = _collapse(el.tail)
    for table in reversed(body.xpath(".//table")):  # inner tables first
        rows = [tr.xpath("./th | ./td") for tr in table.xpath("./tr | ./*/tr")]
        texts = [[_collapse(c.text_content()).strip() for c in r] for r in rows]
        header = texts.pop(0) if len(texts) > 1 and rows[0] and all(c.tag == "th" for c in rows[0]) else None
        div = lxml.html.Element("div")
        div.text = "\n".join(table_lines(texts, header))
        div.tail = table.tail
        table.getparent().replace(table, div)
    for el in body.iter():
        if el.tag in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
        elif el.tag == "br":
            el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in "".join(body.itertext()).split("\n"))
    return "\n".join(line for line in lines if line)


# -- Markdown --------------------------------------------------------------------
@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def render_markdown(source: str) -> str:
    """The text a reader of the rendered Markdown sees (see the module docstring)."""
    source = _FRONT_MATTER.sub("", source.replace("\r\n", "\n").replace("\r", "\n"), count=1)
    return _Renderer().render(_parser().parse(source))


def _resolve_soft_breaks(text: str) -> str:
    def one(m: re.Match) -> str:
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        if not before or not after or before == "\n" or after == "\n":
            return ""
        return "" if _CJK.match(before) and _CJK.match(after) else " "

    return _SOFT_RUN.sub(one, text)


def _inline(children) -> str:
    parts: list[str] = []
    hidden = ""  # an inline <script>/<style> whose content is skipped
    for tok in children:
        if tok.type == "html_inline":
            m = _TAG.match(tok.content)
            closing, tag = (m.group(1), m.group(2).lower()) if m else ("", "")
            if hidden:
                hidden = "" if closing and tag == hidden else hidden
            elif tag == "br":
                parts.append("\n")
            elif tag in _HIDDEN and not closing and not tok.content.rstrip().endswith("/>"):
                hidden = tag
        elif hidden:
            continue
        elif tok.type in ("text", "text_special", "code_inline"):
            parts.append(tok.content)
        elif tok.type == "softbreak":
            parts.append(_SOFT)
        elif tok.type == "hardbreak":
            parts.append("\n")
        elif tok.type == "image":  # its alt text (markdown-it parses it into children)
            parts.append("".join(c.content for c in tok.children or () if c.type in ("text", "text_special", "code_inline")))
    return _SPACES.sub(" ", _resolve_soft_breaks("".join(parts))).strip()


@dataclass
class _Table:
    head: list[list[str]] = field(default_factory=list)
    body: list[list[str]] = field(default_factory=list)
    in_head: bool = False

    def lines(self) -> list[str]:
        header = self.head[0] if self.head and any(c.strip() for c in self.head[0]) else None
        return table_lines(self.body, header)


class _Renderer:
    """Walks markdown-it's flat token stream (no recursion, so nesting depth is no risk)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.lists: list[list] = []  # open lists: [ordered, next number]
        self.marker = ""  # a list item's marker, waiting for the item's first line
        self.heading = 0
        self.table: _Table | None = None

    def render(self, tokens) -> str:
        for tok in tokens:
            self._token(tok)
        return "\n".join(self.out).strip("\n")

    def _break(self) -> None:
        if self.out and self.out[-1] != "":
            self.out.append("")

    def _emit(self, text: str) -> None:
        text = text.strip("\n")
        if not text.strip():
            return
        if not self.lists:
            self._break()
        if self.marker:
            text, self.marker = self.marker + text.lstrip(), ""
        self.out.extend(text.split("\n"))

    def _token(self, tok) -> None:
        t = tok.type
        if t == "inline":
            text = _inline(tok.children or ())
            if self.table is not None:
                row = self.table.head[-1] if self.table.in_head else self.table.body[-1]
                row.append(" ".join(text.split()))
            elif self.heading:
                title = " ".join(text.split())
                if title:
                    self._emit("#" * self.heading + " " + title)
            else:
                self._emit(text)
        elif t == "heading_open":
            self.heading = int(tok.tag[1:])
        elif t == "heading_close":
            self.heading = 0
        elif t in ("bullet_list_open", "ordered_list_open"):
            if not self.lists:
                self._break()
            self.lists.append([t == "ordered_list_open", int(tok.attrGet("start") or 1)])
        elif t in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            self.marker = ""
        elif t == "list_item_open":
            ordered, number = self.lists[-1]
            if ordered:
                number = int(tok.info) if tok.info.isdigit() else number
                self.lists[-1][1] = number + 1
            self.marker = f"{number}. " if ordered else "- "
        elif t in ("fence", "code_block"):
            self._emit("\n".join(line.rstrip() for line in tok.content.split("\n")))
        elif t == "html_block":
            self._emit(html_text(tok.content))
        elif t == "table_open":
            self.table = _Table()
        elif t == "thead_open" and self.table is not None:
            self.table.in_head = True
        elif t == "thead_close" and self.table is not None:
            self.table.in_head = False
        elif t == "tr_open" and self.table is not None:
            (self.table.head if self.table.in_head else self.table.body).append([])
        elif t == "table_close" and self.table is not None:
            table, self.table = self.table, None
            self._emit("\n".join(table.lines()))
