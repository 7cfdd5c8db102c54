"""Document structure: headings, section paths and the units under them.

Headings are found three ways: explicit markup (``# title``, Word heading
styles rendered as ``#``), numbering (``1.5 新型研发机构高质量发展``, ``一、``,
``（二）``, ``第三章``), and — in plain text and PDF extractions — short
unpunctuated lines followed by content (the institution name heading each
paragraph of a report) — but not a line that gives a value under a short
label (``产品型号：CJ-T8P``, ``服务热线：400-860-2715``: a specification's or a
notice's fields, each a fact of its own).  A run of k unnumbered headings
replaces the last k levels below the numbered ones, so ``高水平创新成果不断涌现`` followed directly by
``上海科学智能研究院`` nests the institution under its group.  In a PDF, whose
``#`` levels rank font sizes, a group title and the titles under it often share a
style: there a run of k headings of one level replaces the last k of that level
in the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docqa.ingest.layout import Line, find_stat_groups, is_figure, lines_of, reads_as_heading
from docqa.ingest.sentences import split_units
from docqa.records import Unit
from docqa.text import HAN

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
# ``1.5 新型研发机构`` — or ``1.5新型研发机构``, as OCR reads it, when the title is Chinese
_NUMBERED = re.compile(
    rf"^(\d{{1,2}}(?:\.\d{{1,2}}){{0,4}})(?:[.、．]\s*|\s+|(?<=\d\.\d)(?=[{HAN}])|(?<=\d\.\d\d)(?=[{HAN}]))(\S.*)$"
)
_CN_L1 = re.compile(r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十百\d]+[章部篇])\s*\S")
_CN_L2 = re.compile(r"^(?:[（(][一二三四五六七八九十]+[）)]|第[一二三四五六七八九十百\d]+节)\s*\S")
MAX_HEADING = 40
MAX_UNNUMBERED_HEADING = 30
_END_PUNCT = set("。！？!?；;，,、")


@dataclass
class Block:
    path: list[str]
    units: list[Unit]
    heading: tuple[int, int] | None = None  # offsets of the innermost heading's title
    lead: int | None = None  # where the heading lines directly above the block begin


def _structured_heading(line: Line) -> tuple[int, str, int] | None:
    """(level, title, offset of the title in the line) for markdown or numbered headings."""
    t = line.text
    m = _MD_HEADING.match(t)
    if m:
        return len(m.group(1)), m.group(2), m.start(2)
    if len(t) > MAX_HEADING or t[-1] in _END_PUNCT or any(c in "。！？!?；;" for c in t):
        return None
    m = _NUMBERED.match(t)
    if m and not m.group(2)[0].isdigit() and not is_figure(line):
        return m.group(1).count(".") + 1, t, 0
    if _CN_L1.match(t):
        return 1, t, 0
    if _CN_L2.match(t):
        return 2, t, 0
    return None


def _nest(before: list[str], run: list[str]) -> list[str]:
    """Titles after a run of k headings: the run replaces the last k of ``before``
    (a group title directly above a title nests it; one after text is a sibling)."""
    return before[: max(0, len(before) - len(run))] + run


def parse_blocks(doc: str, kind: str, nest_same_level: bool = False) -> list[Block]:
    """Split a cleaned document into blocks of units, each with its section path.
    ``nest_same_level``: the ``#`` levels rank font sizes (a PDF), so a run of
    headings of one level nests like a run of unnumbered headings."""
    lines = lines_of(doc)
    groups = find_stat_groups(lines)
    in_group = {id(ln) for g in groups.values() for ln in g.lines}
    guess_headings = kind in ("txt", "pdf")
    structured: list[tuple[int, str]] = []  # (level, title)
    same_run: list[str] = []  # consecutive headings of one level being read
    same_before: list[str] = []  # the titles of that level before the run
    unnumbered: list[str] = []
    run: list[Line] = []  # consecutive unnumbered headings being collected
    blocks: list[Block] = []
    para: list[Line] = []
    leaf: tuple[int, int] | None = None
    lead: int | None = None  # start of the headings read since the last block

    def path() -> list[str]:
        return [title for _, title in structured] + unnumbered

    def add_block(units: list[Unit]) -> None:
        nonlocal lead
        blocks.append(Block(path(), units, leaf, lead))
        lead = None

    def heading_line(line: Line) -> None:
        nonlocal lead
        if lead is None:
            lead = line.start

    def flush_para() -> None:
        if para:
            units = split_units(doc, para[0].start, para[-1].end, hard_newlines=kind != "pdf")
            if units:
                add_block(units)
            para.clear()

    def close_run() -> None:
        nonlocal unnumbered, leaf
        if run:
            unnumbered = _nest(unnumbered, [h.text for h in run])
            leaf = (run[-1].start, run[-1].end)
            run.clear()

    for i, line in enumerate(lines):
        if i in groups:
            flush_para()
            close_run()
            add_block(groups[i].units)
            same_run = []
        if id(line) in in_group:
            continue
        heading = _structured_heading(line)
        if heading:
            flush_para()
            close_run()
            heading_line(line)
            level, title, offset = heading
            if nest_same_level and same_run and structured[-1][0] == level:
                same_run.append(title)
            else:
                same_before, same_run = [t for lv, t in structured if lv == level], [title]
            structured = [h for h in structured if h[0] < level] + [(level, t) for t in _nest(same_before, same_run)]
            unnumbered = []
            leaf = (line.start + offset, line.start + offset + len(title))
            continue
        same_run = []
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (
            guess_headings
            and nxt is not None
            and (line.blank_before or not para or para[-1].text[-1] in "。！？!?；;")
            and reads_as_heading(line, MAX_UNNUMBERED_HEADING)
        ):
            flush_para()
            heading_line(line)
            run.append(line)
            continue
        close_run()
        if line.blank_before:
            flush_para()
        para.append(line)
    flush_para()
    return blocks
