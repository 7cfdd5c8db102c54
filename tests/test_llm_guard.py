"""The grounding guard on its own: which quote a sentence of a reply is cited to."""

from __future__ import annotations

import numpy as np

from docqa.llm.guard import Guard, GuardThresholds, Passage
from docqa.records import Chunk, Hit, Unit

PROFILE = GuardThresholds(semantic=0.92, mixed_semantic=0.86, semantic_en=0.86)
BUILT = "自吴淞路闸桥建成起，外白渡桥改为由南向北单向通行。"
REMOVED = "拆除后，吴淞路闸桥的运输功能由外滩隧道代替，水闸功能则由金山路水闸代替。"
REPLY = "吴淞路闸桥拆除后，它的运输功能由外滩隧道代替。"


def hit(doc: str, sentences: list[str], rank: int) -> Hit:
    units, at = [], 0
    for s in sentences:
        units.append(Unit(at, at + len(s), s, at))
        at += len(s)
    text = "".join(sentences)
    return Hit(Chunk(f"c{rank}", doc, "吴淞路闸桥", (), 0, len(text), None, text, units), 1.0, 0.5, 1.0, rank)


class Meaning:
    """An embedder under which the reply means what BUILT means (cosine 0.95)
    and little like anything else: a resemblance in meaning, no shared words."""

    def __init__(self):
        self.reply = np.array([1.0, 0.0, 0.0], dtype=np.float32)

    def embed_queries(self, texts):
        return np.stack([self.reply for _ in texts])

    def unit(self, text: str) -> np.ndarray:
        cos = 0.95 if text == BUILT else 0.3
        return np.array([cos, np.sqrt(1 - cos**2), 0.0], dtype=np.float32)


def guard_and_passages():
    emb = Meaning()
    first = hit("removed.txt", ["根据计划，拆除工作于2009年底前完成。", REMOVED], 1)
    second = hit("built.txt", ["闸桥既是公路桥，也是苏州河口的水闸。", BUILT], 2)
    guard = Guard(emb, PROFILE, lambda h: np.stack([emb.unit(u.text) for u in h.chunk.units]))
    return guard, [Passage(1, first), Passage(2, second)]


def test_a_sentence_is_cited_to_the_passage_holding_its_words_not_one_resembling_it_in_meaning():
    guard, passages = guard_and_passages()
    checked = guard.check(REPLY + "[2]", passages)
    assert checked.text == REPLY.rstrip("。") + "[1]。"
    [citation] = checked.citations
    assert citation.doc == "removed.txt" and "外滩隧道" in citation.quote
    assert checked.report.recited == 1 and checked.report.support[0]["verdict"] == "recited"


def test_a_sentence_citing_the_passage_holding_its_words_keeps_it():
    guard, passages = guard_and_passages()
    checked = guard.check(REPLY + "[1]", passages)
    assert checked.citations[0].doc == "removed.txt"
    assert checked.report.recited == 0 and checked.report.support[0]["verdict"] == "kept"


def test_a_resemblance_in_meaning_is_enough_when_no_passage_holds_the_words():
    guard, passages = guard_and_passages()
    checked = guard.check("这座桥建成以后，北向车流改走外白渡桥。[2]", passages)
    assert checked.citations[0].quote == BUILT and checked.report.recited == 0


def test_a_sentence_written_twice_is_kept_once():
    guard, passages = guard_and_passages()
    checked = guard.check(f"{REPLY}[1]{REPLY}[1]", passages)
    assert checked.text == REPLY.rstrip("。") + "[1]。" and len(checked.citations) == 1
    assert checked.report.repeated == 1 and not checked.report.removed  # no notice of an unsupported claim
