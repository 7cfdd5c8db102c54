"""HTML for answers and their sources, as the chat window shows them.

Document text is untrusted: every piece of it goes through ``escape_text``,
which turns HTML *and* Markdown syntax into character references, so a passage
holding ``<script>``, ``<img onerror=…>`` or ``[x](javascript:…)`` is shown
as those characters and never becomes markup, a link or a script.  The only
markup in the output is the fixed markup written here.
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import urlencode

from docqa.records import Answer, Citation, Hit
from docqa.text import CITATION_MARKER
from docqa.web.labels import labels

# Characters that HTML or (GitHub-flavoured) Markdown give a meaning to,
# including ':' and '.' so that no URL or "www." text is auto-linked.
_SPECIAL = set("&<>\"'`*_{}[]()#+-.!|~$:\\=")
NEAREST = 2  # passages shown under a refusal


def escape_text(text: str) -> str:
    """``text`` as inert HTML: special characters become numeric character
    references and line breaks become ``<br>``."""
    out = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch in _SPECIAL:
            out.append(f"&#{ord(ch)};")
        elif ch == "\n":
            out.append("<br>")
        elif ch == "\t":
            out.append(" ")
        elif ord(ch) < 32:
            continue
        else:
            out.append(ch)
    return "".join(out)


def _with_markers(text: str, numbers: set[int]) -> str:
    """Escape an answer, turning its ``[n]`` citation markers into badges."""
    parts: list[str] = []
    pos = 0
    for m in CITATION_MARKER.finditer(text):
        n = int(m.group(1))
        if n not in numbers:
            continue
        parts.append(escape_text(text[pos : m.start()]))
        parts.append(f'<sup class="dq-cite">[{n}]</sup>')
        pos = m.end()
    parts.append(escape_text(text[pos:]))
    return "".join(parts)


def partial_answer_html(text: str) -> str:
    """The answer while it streams in (markers are styled once it is final)."""
    return f'<div class="dq-answer">{escape_text(text)}</div>'


def answer_html(answer: Answer, lang: str = "zh") -> str:
    """The answer text with citation badges; an abstention is shown as one."""
    t = labels(lang)
    if answer.refused:
        body = (
            f'<div class="dq-refused">{escape_text(answer.answer)}'
            f'<div class="dq-hint">{escape_text(t["refused_hint"])}</div></div>'
        )
    else:
        numbers = {c.n for c in answer.citations}
        body = f'<div class="dq-answer">{_with_markers(answer.answer, numbers)}</div>'
    if answer.notice:
        body += f'<div class="dq-notice">{escape_text(t["notice"])}: {escape_text(answer.notice)}</div>'
    return body + resolved_html(answer, lang)


def resolved_html(answer: Answer, lang: str = "zh") -> str:
    """「理解为：…」 under an answer whose question was rewritten (a follow-up
    answered as a standalone question); nothing otherwise."""
    resolved = answer.resolved_question
    if not resolved or resolved == answer.question:
        return ""
    return f'<div class="dq-resolved">{escape_text(labels(lang)["understood_as"].format(question=resolved))}</div>'


def rated_html(rating: str, lang: str = "zh") -> str:
    """The note under an answer whose 👍 / 👎 was recorded."""
    return f'<div class="dq-rated">{escape_text(labels(lang)["feedback_recorded_" + rating])}</div>'


def quoted_passage(citation: Citation, passages: list[Hit]) -> tuple[Hit | None, int]:
    """The retrieved passage holding the citation's quote, and the quote's
    offset inside it (the passage of the same document whose span contains
    the citation's span)."""
    for hit in passages:
        c = hit.chunk
        if c.doc == citation.doc and c.start <= citation.start and citation.end <= c.end:
            return hit, citation.start - c.start
    return None, 0


def _where(title: str, doc: str, section_path: tuple[str, ...], page: int | None, lang: str) -> list[str]:
    """Where a passage is, as HTML pieces: its document, section and page."""
    bits = [f"<strong>{escape_text(title or PurePath(doc).name)}</strong>"]
    if section_path:
        bits.append(escape_text(" › ".join(section_path)))
    if page:
        bits.append(escape_text(labels(lang)["page"].format(page=page)))
    return bits


def _source_head(citation: Citation, lang: str) -> str:
    c = citation
    bits = _where(c.title, c.doc, c.section_path, c.page, lang)
    bits.append(escape_text(labels(lang)["chars"].format(start=c.start, end=c.end)))
    return f'<span class="dq-n">[{c.n}]</span> ' + ' <span class="dq-sep">·</span> '.join(bits)


def source_html(citation: Citation, passages: list[Hit], lang: str = "zh", collection: str = "") -> str:
    """One cited passage with the quoted span highlighted inside it."""
    hit, offset = quoted_passage(citation, passages)
    if hit is not None and hit.chunk.text[offset : offset + len(citation.quote)] == citation.quote:
        text = hit.chunk.text
        end = offset + len(citation.quote)
        body = (
            escape_text(text[:offset])
            + f'<mark class="dq-quote">{escape_text(citation.quote)}</mark>'
            + escape_text(text[end:])
        )
    else:  # the quote alone, still exact source text
        body = f'<mark class="dq-quote">{escape_text(citation.quote)}</mark>'
    return (
        f'<div class="dq-source" data-n="{citation.n}">'
        f'<div class="dq-source-head">{_source_head(citation, lang)}</div>'
        f'<div class="dq-passage">{body}</div>{_page_figures(citation, lang, collection)}</div>'
    )


def page_images(citation: Citation, collection: str = "") -> list[tuple[int, str]]:
    """(page, image URL) for each page the quote is on, its boxes highlighted;
    the URL is relative to the page showing it (``api/page?…``; with the
    ``collection`` that answered, unless it is the default one)."""
    where = {"collection": collection} if collection and collection != "default" else {}
    by_page: dict[int, list[str]] = {}
    for page, *rect in citation.boxes:
        by_page.setdefault(int(page), []).append(",".join(f"{v:.4f}" for v in rect))
    return [
        (page, "api/page?" + urlencode({"doc": citation.doc, "page": page, "boxes": ";".join(rects), **where}))
        for page, rects in by_page.items()
    ]


def _page_figures(citation: Citation, lang: str, collection: str = "") -> str:
    t = labels(lang)
    figures = []
    for page, url in page_images(citation, collection):
        alt = escape_text(t["page"].format(page=page))
        figures.append(f'<img class="dq-page" src="{url.replace("&", "&amp;")}" alt="{alt}" loading="lazy">')
    if not figures:
        return ""
    warn = f'<div class="dq-hint">{escape_text(t["low_confidence"])}</div>' if citation.low_confidence else ""
    return f'<details class="dq-pages"><summary>{escape_text(t["on_page"])}</summary>{warn}{"".join(figures)}</details>'


def nearest_html(answer: Answer, lang: str = "zh") -> str:
    """Under a refusal: the retrieved passages closest to the question
    (``NEAREST``), as retrieved, nothing highlighted — where to read on, not
    an answer.  Empty for an answer, or when nothing was retrieved."""
    if not answer.refused:
        return ""
    out = []
    for hit in answer.passages[:NEAREST]:
        c = hit.chunk
        head = ' <span class="dq-sep">·</span> '.join(_where(c.title, c.doc, c.section_path, c.page, lang))
        out.append(
            f'<div class="dq-source dq-nearest"><div class="dq-source-head">{head}</div>'
            f'<div class="dq-passage">{escape_text(c.text)}</div></div>'
        )
    return "".join(out)


def nearest_title(answer: Answer, lang: str = "zh") -> str:
    return f"{labels(lang)['nearest']} ({min(len(answer.passages), NEAREST)})"


def sources_title(answer: Answer, lang: str = "zh") -> str:
    return f"{labels(lang)['sources']} ({len(answer.citations)})"


def sources_html(answer: Answer, lang: str = "zh", collection: str = "") -> str:
    """Every cited passage, in citation order (``collection``: the one that answered)."""
    return "".join(source_html(c, answer.passages, lang, collection) for c in answer.citations)
