"""Rendering of answers and sources: escaping of untrusted text, citation
badges, the quoted span highlighted inside its passage, abstentions."""

from __future__ import annotations

import html
import re

from docqa.records import Answer, Chunk, Citation, Hit
from docqa.web.render import (
    answer_html,
    escape_text,
    nearest_html,
    nearest_title,
    quoted_passage,
    source_html,
    sources_html,
    sources_title,
)

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>[点我](javascript:alert(1)) **粗体** www.example.com"


def _visible(fragment: str) -> str:
    """The text a browser shows for an HTML fragment of ours."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


def _chunk(text: str, start: int, doc: str = "/data/a.txt") -> Chunk:
    return Chunk("c1", doc, "测试报告", ("第一章", "1.1 概况"), start, start + len(text), 3, text, [])


def _answer(text: str, passage: str, p_start: int, quote: str, q_start: int, refused: bool = False) -> Answer:
    cit = Citation(1, "/data/a.txt", "测试报告", ("第一章", "1.1 概况"), q_start, q_start + len(quote), 3, quote)
    hit = Hit(_chunk(passage, p_start), 0.5, 0.8, 2.0, rank=1)
    return Answer("问题？", text, refused, [] if refused else [cit], [hit])


def test_escape_text_leaves_no_markup_and_shows_the_text_literally():
    out = escape_text(HOSTILE + "\n第二行")
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")
    for ch in "[]()*:.":
        assert ch not in out  # no Markdown link, emphasis or autolink can form
    assert _visible(out) == HOSTILE + "\n第二行"


def test_answer_badges_only_real_citation_markers():
    a = _answer("累计备案36家。[1] 另见[7]。", "累计备案36家。", 10, "累计备案36家。", 10)
    out = answer_html(a)
    assert out.count('<sup class="dq-cite">[1]</sup>') == 1
    assert "[7]" not in out and "&#91;7&#93;" in out  # not a citation of this answer: plain text
    assert _visible(out) == "累计备案36家。[1] 另见[7]。"


def test_a_marker_of_thousands_of_digits_is_text():
    digits = "[" + "9" * 5000 + "]"  # int() refuses a string this long
    a = _answer("累计备案36家。[1]" + digits, "累计备案36家。", 10, "累计备案36家。", 10)
    assert _visible(answer_html(a)) == "累计备案36家。[1]" + digits


def test_hostile_answer_and_passage_render_as_text():
    passage = "前文。" + HOSTILE + "后文。"
    a = _answer(HOSTILE + "[1]", passage, 100, HOSTILE, 103)
    for fragment in (answer_html(a), sources_html(a)):
        assert "<script" not in fragment and "<img" not in fragment and "javascript:" not in fragment
        assert "onerror=" not in fragment  # '=' is a character reference: no attribute can form
    assert HOSTILE in _visible(sources_html(a))
    assert _visible(answer_html(a)).startswith(HOSTILE)


def test_quoted_span_is_highlighted_inside_its_passage():
    passage = "第一句话。累计备案上海市新型研发机构36家。第三句话。"
    quote = "累计备案上海市新型研发机构36家。"
    a = _answer(quote + "[1]", passage, 500, quote, 505)
    hit, offset = quoted_passage(a.citations[0], a.passages)
    assert hit is a.passages[0] and offset == 5 and passage[offset : offset + len(quote)] == quote
    out = source_html(a.citations[0], a.passages)
    marked = re.search(r'<mark class="dq-quote">(.*?)</mark>', out).group(1)
    assert html.unescape(marked) == quote
    assert _visible(out).endswith("第一句话。" + quote + "第三句话。")
    head = _visible(out)
    assert "[1]" in head and "测试报告" in head and "1.1 概况" in head and "第 3 页" in head and "字符 505–522" in head
    assert sources_title(a) == "来源 (1)" and sources_title(a, "en") == "Sources (1)"
    assert "page 3" in _visible(source_html(a.citations[0], a.passages, "en"))


def test_quote_outside_retrieved_passages_is_still_shown():
    a = _answer("答案[1]", "别的段落。", 0, "引用原文。", 900)
    out = source_html(a.citations[0], a.passages)
    assert html.unescape(re.search(r"<mark[^>]*>(.*?)</mark>", out).group(1)) == "引用原文。"


def test_abstention_is_shown_as_an_abstention_not_an_error():
    a = _answer("报告中没有找到相关信息。", "x", 0, "x", 0, refused=True)
    out = answer_html(a)
    assert 'class="dq-refused"' in out and "报告中没有找到相关信息。" in _visible(out)
    assert "可以换一种问法" in _visible(out)
    assert "Try rephrasing" in _visible(answer_html(a, "en"))
    assert sources_html(a) == ""


def test_a_rewritten_follow_up_says_how_it_was_understood():
    from dataclasses import replace

    from docqa.web.render import rated_html, resolved_html

    a = _answer("累计备案36家。[1]", "累计备案36家。", 10, "累计备案36家。", 10)
    assert resolved_html(a) == "" and "理解为" not in answer_html(a)  # a first turn
    assert resolved_html(replace(a, resolved_question=a.question)) == ""  # not rewritten
    hostile = replace(a, resolved_question="<b>它</b>累计备案了[多少](javascript:x)家？")
    out = answer_html(hostile)
    assert out.count('<div class="dq-resolved">') == 1 and "<b>" not in out and "javascript:" not in out
    assert _visible(resolved_html(hostile)) == "理解为：<b>它</b>累计备案了[多少](javascript:x)家？"
    assert _visible(resolved_html(hostile, "en")).startswith("Understood as: <b>")
    refused = replace(_answer("报告中没有找到相关信息。", "x", 0, "x", 0, refused=True), resolved_question="某机构有多少家？")
    assert "理解为：某机构有多少家？" in _visible(answer_html(refused))  # a refused follow-up says it too
    assert (
        _visible(rated_html("down")) == "已记录：没有帮助。谢谢！"
        and _visible(rated_html("up", "en")) == "Recorded as helpful. Thanks!"
    )


def test_a_refusal_shows_the_closest_passages_as_retrieved_and_an_answer_does_not():
    from dataclasses import replace

    from docqa.web.chat import answer_messages

    refused = _answer("报告中没有找到相关信息。", "前文。" + HOSTILE, 0, "x", 0, refused=True)
    refused = replace(refused, passages=[*refused.passages, Hit(_chunk("第二段。", 40, "/data/b.txt"), 0.4, 0.7, 1.0, rank=2),
                                         Hit(_chunk("第三段。", 80), 0.3, 0.6, 0.5, rank=3)])  # fmt: skip
    out = nearest_html(refused)
    assert out.count('class="dq-source dq-nearest"') == 2 and "第三段" not in out  # the two closest
    assert "<mark" not in out and "<script" not in out and HOSTILE in _visible(out)
    assert "测试报告" in _visible(out) and "1.1 概况" in _visible(out) and "第 3 页" in _visible(out)
    assert nearest_title(refused) == "最接近问题的段落（未能确认其中有答案） (2)"
    assert nearest_title(refused, "en").startswith("Passages closest to the question")
    answer, nearest = answer_messages(refused, "zh")
    assert 'class="dq-refused"' in answer["content"] and nearest["content"] == out
    assert nearest["metadata"] == {"title": nearest_title(refused), "status": "done"}  # collapsed
    answered = _answer("累计备案36家。[1]", "累计备案36家。", 10, "累计备案36家。", 10)
    assert nearest_html(answered) == ""
    assert [m["metadata"]["title"] for m in answer_messages(answered, "zh")[1:]] == ["来源 (1)"]
    assert nearest_html(replace(refused, passages=[])) == "" and len(answer_messages(replace(refused, passages=[]), "zh")) == 1
