"""Training examples: every candidate answer of every training question, with
its features and how well it answers.

Each answerable question is asked as it is (its candidates are relevant
when they contain a gold answer), then as negatives where nothing may answer:
without its evidence, as a near miss (its answer sentences blanked out) and,
when it names a place, about a place the documents never mention.
Unanswerable questions are asked once.  Examples are cached per set under
``$DOCQA_HOME/train-cache/``, keyed by the corpus index and the code that
computes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import docqa.answer.analyser
import docqa.answer.candidates
import docqa.answer.features
import docqa.crosslingual
import docqa.index.retriever
import docqa.lang
import docqa.question
import docqa.train.swaps
from docqa.answer.candidates import candidates, reading
from docqa.answer.features import FEATURES, feature_matrix
from docqa.api import Engine, Hit, Settings, make_engine
from docqa.eval.corpus import ensure_index
from docqa.eval.metrics import normalize
from docqa.eval.negatives import Exclusions
from docqa.eval.questions import EvalQuestion
from docqa.train.sets import TrainSet
from docqa.train.swaps import swapped


@dataclass
class Examples:
    x: np.ndarray  # (rows, FEATURES)
    rel: np.ndarray  # (rows,) 1 holds a gold answer, 0 does not
    group: np.ndarray  # (rows,) which question asking the row belongs to
    askings: list[dict]  # per asking: set, id, side (answerable / negative / unanswerable), lang, kind, question
    reading: np.ndarray  # (rows,) the row's text for the answer reader: an index into ``texts``
    texts: list[str]

    @classmethod
    def concat(cls, parts: list[Examples]) -> Examples:
        offsets = np.cumsum([0] + [len(p.askings) for p in parts[:-1]])
        return cls(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.rel for p in parts]),
            np.concatenate([p.group + o for p, o in zip(parts, offsets)]),
            [a for p in parts for a in p.askings],
            np.concatenate([p.reading + o for p, o in zip(parts, np.cumsum([0] + [len(p.texts) for p in parts[:-1]]))]),
            [t for p in parts for t in p.texts],
        )


def relevance(texts: list[str], facts: list[list[str]]) -> np.ndarray:
    """1 for the candidates holding a gold answer, 0 for the others."""
    alts = [normalize(a) for fact in facts for a in fact if normalize(a)]
    return np.array([any(a in normalize(t) for a in alts) for t in texts], dtype=np.int32)


def _code_key() -> str:
    # what retrieval hands the features changes the examples too
    modules = [docqa.answer.candidates, docqa.answer.features, docqa.train.swaps]
    modules += [docqa.answer.analyser, docqa.crosslingual, docqa.index.retriever]
    files = [Path(m.__file__) for m in modules if m.__file__] + [Path(__file__), Path(__file__).with_name("places.toml")]
    files += sorted(Path(docqa.question.__file__).parent.glob("*.py"))
    files += sorted(Path(docqa.lang.__file__).parent.glob("*.toml"))
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


def without_answer(hits: list[Hit], facts: list[list[str]]) -> list[Hit]:
    """The passages with every sentence holding a gold answer blanked out (its
    clauses gone, its text spaces, so offsets stay true): what remains
    mentions the topic but not the asked detail — a near miss."""
    alts = [normalize(a) for fact in facts for a in fact if normalize(a)]
    out = []
    for h in hits:
        c, units, dense, text = h.chunk, [], [], h.chunk.text
        for sentence in c.sentences():
            if any(a in normalize("".join(u.text for u in sentence)) for a in alts):
                lo, hi = sentence[0].start - c.start, sentence[-1].end - c.start
                text = text[:lo] + " " * (hi - lo) + text[hi:]
                continue
            units += sentence
        if units:
            dense = [d for u, d in zip(c.units, h.unit_dense) if u in units] if h.unit_dense else []
            out.append(replace(h, chunk=replace(c, text=text, units=units), unit_dense=dense))
    return out


def collect(
    engine: Engine, name: str, questions: list[EvalQuestion], top_k: int, progress=None, swaps: bool = True
) -> Examples:
    """Each answerable question is asked as it is, without its evidence
    passages (a negative), with its answer sentences blanked out of the
    passages it retrieves (a near miss) and, when it names a place the
    documents mention, about another place they never mention (swapped,
    see ``swaps``); an unanswerable one once."""
    segmenter = engine.analyser.segmenter
    exclusions = Exclusions.of(engine)
    xs: list[np.ndarray] = []
    rels: list[np.ndarray] = []
    groups: list[np.ndarray] = []
    askings: list[dict] = []
    readings: list[np.ndarray] = []
    texts: list[str] = []

    def add(asked: EvalQuestion, side: str, analysed, hits: list[Hit]) -> None:
        spans = [s for s, ok in zip(*candidates(analysed, hits, segmenter)) if ok]
        if not spans:
            return
        xs.append(feature_matrix(analysed, spans))
        labels = relevance([s.text for s in spans], asked.answers) if side == "answerable" else np.zeros(len(spans), np.int32)
        rels.append(labels)
        groups.append(np.full(len(spans), len(askings)))
        own: dict[str, int] = {}
        for s in spans:
            own.setdefault(reading(s.hit.chunk.heading, s.sentence_text), len(texts) + len(own))
        readings.append(np.array([own[reading(s.hit.chunk.heading, s.sentence_text)] for s in spans]))
        texts.extend(own)
        suffix = {"answerable": "", "near_miss": "-near", "swapped": "-swap"}.get(side, "")
        askings.append({
            "set": name, "id": asked.id + suffix, "side": side, "lang": analysed.lang, "kind": analysed.kind,
            "question": analysed.text,
        })  # fmt: skip

    for q in questions:
        if not q.answerable:
            add(q, "unanswerable", *engine.inspect(q.question, top_k))
        else:
            analysed, hits = engine.inspect(q.question, top_k)
            add(q, "answerable", analysed, hits)
            add(q, "near_miss", analysed, without_answer(hits, q.answers))
            negative = q.as_negative()
            add(negative, "negative", *engine.inspect(q.question, top_k, exclusions.for_question(negative)))
            swap = swapped(engine, q, analysed, top_k) if swaps else None
            if swap is not None:
                add(q, "swapped", swap[1], swap[2])
        if progress:
            progress(1)
    return Examples(np.concatenate(xs), np.concatenate(rels), np.concatenate(groups), askings, np.concatenate(readings), texts)


def examples_for(settings: Settings, tset: TrainSet, embedder, top_k: int, progress: Callable | None = None) -> Examples:
    """The set's examples, from the cache when nothing they depend on changed."""
    built = ensure_index(settings, tset.corpus, embedder)
    qkey = hashlib.sha256("\n".join(f"{q.id}\t{q.question}\t{q.answers}" for q in tset.questions).encode()).hexdigest()
    key = f"{tset.name}-{built.key[:12]}-{_code_key()}-{qkey[:8]}-k{top_k}"
    cache = settings.home / "train-cache" / f"{key}.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if tuple(z["features"]) == FEATURES:
            import json

            return Examples(
                z["x"], z["rel"], z["group"], json.loads(str(z["askings"])), z["reading"], json.loads(str(z["texts"]))
            )
    engine = make_engine(settings, embedder, index_dir=built.path)
    ex = collect(engine, tset.name, tset.questions, top_k, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    import json

    tmp = cache.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp, x=ex.x, rel=ex.rel, group=ex.group, askings=json.dumps(ex.askings), features=np.array(FEATURES),
        reading=ex.reading, texts=json.dumps(ex.texts, ensure_ascii=False),
    )  # fmt: skip
    tmp.replace(cache)
    return ex
