"""Read a file into a cleaned ``Document``.

Supported: ``.txt``, ``.md`` (``.markdown``), ``.html`` (``.htm``, main text
only, via trafilatura), ``.pdf`` (pypdf, page numbers kept) and ``.docx``
(python-docx, heading styles kept).  A sidecar ``<file>.meta.json`` with
``{"title": …, "source": …}`` supplies metadata.  Every failure is a
``DocumentError`` naming the file and what to do.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from docqa.errors import CorruptDocument, DocumentError, EmptyDocument, UnsupportedFile
from docqa.ingest.clean import clean
from docqa.ingest.layout import lines_of, reads_as_heading
from docqa.ingest.markdown import render_markdown, repair_pipe_tables, table_lines
from docqa.ingest.pages import RawText
from docqa.ingest.plain_tables import render_plain_tables
from docqa.records import Document

KINDS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED = ", ".join(sorted(KINDS))
MAX_BYTES = 200 * 1024 * 1024
PAGE_BREAK = "\n\n"
MAX_TITLE = 40  # characters of a plain text's first line that can be its title

log = logging.getLogger(__name__)
PageProgress = Callable[[int, int], None]


def kind_of(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedFile(f"{path}: unsupported file type {path.suffix or '(none)'!r}; DocQA reads {SUPPORTED}")
    return kind


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorruptDocument(f"{path}: looks like a binary file, not text; convert it to .txt, .md, .pdf or .docx")
    for enc in ("utf-8-sig", "utf-16", "gb18030"):
        if enc == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise CorruptDocument(f"{path}: text is neither UTF-8 nor GB18030; re-save it as UTF-8")


def _read_text(path: Path) -> RawText:
    return RawText(render_plain_tables(_decode(path.read_bytes(), path)))  # cells under | or tabs: named rows


def _read_markdown(path: Path) -> RawText:
    """The text a reader of the rendered Markdown sees (``markdown.py``); offsets point into it."""
    return RawText(render_markdown(_decode(path.read_bytes(), path)))


def _read_html(path: Path) -> RawText:
    import trafilatura

    html = _decode(path.read_bytes(), path)
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        favor_precision=True,
    )
    if text:
        # trafilatura writes Markdown: store what a reader sees, its tables as named rows.
        text = render_markdown(repair_pipe_tables(text))
    else:
        text = trafilatura.html2txt(html) or ""  # plain text already
    meta = trafilatura.extract_metadata(html)
    return RawText(text, meta={"title": meta.title} if meta is not None and meta.title else {})


def _read_pdf(path: Path, progress: PageProgress | None = None) -> RawText:
    # pdfplumber (and OCR for pages that are images): imported when a PDF is read. read_pdf
    # raises CorruptDocument for an encrypted or unreadable file, EmptyDocument for a
    # scan when OCR is not installed.
    from docqa.ingest.pdf import read_pdf

    return read_pdf(path, progress)


def _read_docx(path: Path) -> RawText:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptDocument(f"{path}: cannot read this .docx ({exc}); open and re-save it in Word") from exc
    lines = []
    for block in d.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(block, d)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            level = _heading_level(style)
            lines.append(("#" * level + " " + text) if level else text)
        elif tag == "tbl":
            table = docx.table.Table(block, d)
            rows = []
            for row in table.rows:
                cells = list(row.cells)  # a merged cell repeats across its columns: keep it once
                rows.append([c.text.strip() if i == 0 or c._tc is not cells[i - 1]._tc else "" for i, c in enumerate(cells)])
            if named := table_lines(rows):  # one line per row, values named by the header row
                lines.append("\n".join(named))
    title = d.core_properties.title
    return RawText("\n\n".join(lines), meta={"title": title} if title else {})


def _heading_level(style: str) -> int:
    s = style.lower()
    if s == "title":
        return 1
    for prefix in ("heading ", "标题 "):
        if s.startswith(prefix) and s[len(prefix) :].isdigit():
            return min(int(s[len(prefix) :]), 6)
    return 0


_READERS = {"txt": _read_text, "md": _read_markdown, "html": _read_html, "pdf": _read_pdf, "docx": _read_docx}


def _sidecar(path: Path) -> dict:
    side = path.with_name(path.name + ".meta.json")
    if not side.exists():
        return {}
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptDocument(f"{side}: invalid JSON ({exc}); fix or delete the metadata file") from exc
    if not isinstance(meta, dict):
        raise CorruptDocument(f'{side}: metadata must be a JSON object like {{"title": "…"}}')
    return meta


def _first_heading(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _title_line(text: str) -> str | None:
    """A plain text's title: its first line, when that is short, unpunctuated and
    followed by more (「澄川智联科技股份有限公司员工手册（节选）」).  It heads every
    passage of the document, as a markdown title does, so a question that names
    the document (「员工手册规定的处分有哪几种？」) finds its words there."""
    lines = lines_of(text)  # non-blank lines only
    if len(lines) < 2:
        return None
    first = replace(lines[0], text=lines[0].text.strip())
    return first.text if reads_as_heading(first, MAX_TITLE) else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_document(
    path: Path, doc_id: str | None = None, sha256: str | None = None, ocr_progress: PageProgress | None = None
) -> Document:
    """Read ``path`` into a cleaned ``Document``; ``ocr_progress(done, total)`` is
    called as the pages of a scanned PDF are recognised."""
    path = Path(path)
    kind = kind_of(path)
    if not path.exists():
        raise DocumentError(f"{path}: no such file; check the path")
    if not path.is_file():
        raise DocumentError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocument(f"{path}: the file is empty; nothing to index")
    if size > MAX_BYTES:
        raise DocumentError(f"{path}: {size / 2**20:.0f} MB is larger than the {MAX_BYTES / 2**20:.0f} MB limit; split it")
    try:
        raw = _read_pdf(path, ocr_progress) if kind == "pdf" else _READERS[kind](path)
    except DocumentError:
        raise
    except (OSError, UnicodeError, zipfile.BadZipFile) as exc:
        raise CorruptDocument(f"{path}: cannot read the file ({exc})") from exc
    meta = {**raw.meta, **_sidecar(path)}
    cleaned = clean(raw.text)
    if not cleaned.text.strip():
        hint = " (a scanned PDF? run OCR first)" if kind == "pdf" else ""
        raise EmptyDocument(f"{path}: no text found{hint}; nothing to index")
    page_starts = None
    to_clean = _clean_offsets(cleaned.runs)
    if raw.page_starts is not None:
        page_starts = [to_clean(p) for p in raw.page_starts]
    boxes = []
    for b in raw.boxes:
        start, end = to_clean(b.start), to_clean(b.end)
        if end > start:
            boxes.append(
                [
                    start,
                    end,
                    b.page,
                    round(b.x0, 1),
                    round(b.top, 1),
                    round(b.x1, 1),
                    round(b.bottom, 1),
                    round(b.confidence, 3),
                ]
            )
    structural_kind = "md" if kind in ("html", "docx") or meta.pop("structure", None) == "md" else kind
    plain_title = _title_line(cleaned.text) if kind == "txt" else None
    title = str(meta.get("title") or _first_heading(cleaned.text) or plain_title or path.stem)
    return Document(
        doc_id=doc_id or str(path.resolve()),
        path=str(path.resolve()),
        title=title,
        text=cleaned.text,
        sha256=sha256 or file_sha256(path),
        kind=structural_kind,
        page_starts=page_starts,
        boxes=boxes,
        page_sizes=[[round(w, 1), round(h, 1)] for w, h in raw.page_sizes],
        raw_offsets=cleaned.runs,
        meta={k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))} | {"format": kind},
    )


def _clean_offsets(runs: list[list[int]]) -> Callable[[int], int]:
    """raw position -> the first cleaned offset whose raw position is at or after it
    (a binary search over the runs: a long PDF maps thousands of line boxes)."""
    ends = [rs + n for _, rs, n in runs]
    last = runs[-1][0] + runs[-1][2] if runs else 0

    def at(raw_pos: int) -> int:
        k = bisect.bisect_right(ends, raw_pos)  # the first run ending after raw_pos
        if k == len(runs):
            return last
        cs, rs, _ = runs[k]
        return cs + max(0, raw_pos - rs)

    return at
