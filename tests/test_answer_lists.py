"""A list's lead answers with its items (docqa/answer/lists.py)."""

from __future__ import annotations

from docqa.answer.candidates import Span, doc_slice
from docqa.answer.lists import MAX_ITEMS, with_items
from docqa.records import Chunk, Hit

RULES = (
    "第四条 商品签收之日起七天内可申请无理由退货。\n"
    "第五条 以下商品不适用七天无理由退货：\n"
    "（一）消费者定制的商品；\n"
    "\n"
    "（二）鲜活易腐商品；\n"
    "（三）交付的报纸、期刊。\n"
    "第六条 退换货期限以物流签收记录为准。"
)
OFFSET = 1000  # the passage's place in its document


def _span(sentence: str, text: str = RULES) -> Span:
    chunk = Chunk("c1", "/d/returns.txt", "退换货规则", (), OFFSET, OFFSET + len(text), None, text, [])
    start = OFFSET + text.index(sentence)
    return Span(Hit(chunk, 0.03, 0.8, 2.0, rank=1), start, 0, start, start + len(sentence), sentence)


def test_a_lead_runs_on_through_the_items_under_it():
    lead = _span("第五条 以下商品不适用七天无理由退货：")
    shown = with_items(lead)
    quote = doc_slice(shown.hit, shown.start, shown.end)
    assert quote.startswith("第五条") and quote.endswith("（三）交付的报纸、期刊。")
    assert "第六条" not in quote and RULES[shown.start - OFFSET : shown.end - OFFSET] == quote  # exact text
    assert (
        shown.text
        == "第五条 以下商品不适用七天无理由退货：（一）消费者定制的商品；（二）鲜活易腐商品；（三）交付的报纸、期刊。"
    )


def test_other_spans_stay_as_they_are():
    for sentence in ("第四条 商品签收之日起七天内可申请无理由退货。", "（二）鲜活易腐商品；"):
        span = _span(sentence)
        assert with_items(span) is span
    inline = "说明：退货须保持商品完好\n（一）附件齐全"  # the colon is inside its line: no lead
    assert with_items(_span("说明：", inline)).end == _span("说明：", inline).end
    no_items = "联系方式如下：\n客服电话400-615-8899"
    assert with_items(_span("联系方式如下：", no_items)).text == "联系方式如下："


def test_a_long_list_is_cut_at_its_limit():
    text = "可选颜色：\n" + "".join(f"{i}. 颜色{i}\n" for i in range(1, 20))
    shown = with_items(_span("可选颜色：", text))
    assert shown.text.count("颜色") == MAX_ITEMS + 1 and shown.text.endswith(f"颜色{MAX_ITEMS}")
