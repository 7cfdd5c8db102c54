"""Pack a document's units into chunks of about ``chunk_size`` characters.

Chunks never cross a section boundary, end on sentence boundaries, and repeat
the last ``chunk_overlap`` sentences of their predecessor within a section.
A section's first chunk begins at the heading lines above it, so the passage a
reader is shown says what it is about (「上海浦芯未来互联网技术研究院」 above
「发布……ChainWeaver2.0操作系统」).
"""

from __future__ import annotations

import hashlib
from itertools import groupby

from docqa.ingest.structure import parse_blocks
from docqa.records import SECTION_SEP, Chunk, Document, Unit

# Bump when chunking changes, so indexes built by older code are rebuilt.
# 11: a Latin full stop after an initial (S.G.), an abbreviation (Dr.) or a list
# number at a line's start (1. ) ends no sentence; 10: a plain text's tables
# (cells under | or tabs) read as named rows, and a value under a short label is
# no title nor a scanned page's heading either; 9: a line giving a value under a
# short label (型号：…) is no heading; 8: no clause boundary inside a number or a
# time (14:30); 7: a plain text's title line heads its passages; 6: Markdown and
# PDFs read as laid out.
CHUNKER_VERSION = 11


def _chunk_id(doc: Document, start: int, end: int, heading: str) -> str:
    h = hashlib.sha256(f"{doc.doc_id}\n{start}\n{end}\n{heading}\n{doc.text[start:end]}".encode())
    return h.hexdigest()[:20]


def _pack(units: list[Unit], size: int, overlap: int) -> list[list[Unit]]:
    """Whole sentences into packs of about ``size`` characters; each pack
    repeats the last ``overlap`` sentences of the one before."""
    sentences: list[list[Unit]] = []
    for u in units:
        if sentences and sentences[-1][-1].sentence_id == u.sentence_id:
            sentences[-1].append(u)
        else:
            sentences.append([u])

    def length(group: list[list[Unit]]) -> int:
        return sum(len(u.text) for sent in group for u in sent)

    packs: list[list[list[Unit]]] = []
    current: list[list[Unit]] = []
    for sent in sentences:
        if current and length(current) + length([sent]) > size:
            packs.append(current)
            carry = current[-overlap:] if overlap and len(current) > overlap else []
            if length(carry) + length([sent]) > size:
                carry = []
            current = list(carry)
        current.append(sent)
    if current:
        packs.append(current)
    return [[u for sent in pack for u in sent] for pack in packs]


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    blocks = parse_blocks(doc.text, doc.kind, nest_same_level=doc.meta.get("format") == "pdf")
    for (path_key, leaf), run in groupby(blocks, key=lambda b: (tuple(b.path), b.heading)):
        path = list(path_key)
        group = list(run)
        units = [u for b in group for u in b.units]
        heading = SECTION_SEP.join(([doc.title] if doc.title else []) + path[-2:])
        lead = group[0].lead
        for n, pack in enumerate(_pack(units, chunk_size, chunk_overlap)):
            start, end = pack[0].start, pack[-1].end
            if n == 0 and lead is not None:
                start = min(start, lead)
            chunks.append(
                Chunk(
                    chunk_id=_chunk_id(doc, start, end, heading),
                    doc=doc.doc_id,
                    title=doc.title,
                    section_path=tuple(path),
                    start=start,
                    end=end,
                    page=doc.page_at(start),
                    text=doc.text[start:end],
                    units=pack,
                    heading=heading,
                    heading_span=list(leaf) if leaf else None,
                )
            )
    return chunks
