"""The selector's data card: what it was trained on, what it reads, how it measured."""

from __future__ import annotations

from docqa.answer.features import FEATURES
from docqa.answer.selector import RERANK, Selector
from docqa.train import reader_fit
from docqa.train.documents import PREFIX
from docqa.train.fit import ANSWERABLE, ANSWERABLE_ROUNDS, FOLDS, RANKER, RANKER_ROUNDS
from docqa.train.sets import TrainSet

# The sets derived from the training sets (their names end so), and what the card says of them.
_DERIVED = (
    (
        "-en",
        (
            "The `-en` sets are some of the same questions in English, translated by the local LLM",
            "or (`--english-written`) by hand (docqa/train/english.py), over the same documents with the same answers.",
        ),
    ),
    (
        "-said",
        (
            "The `-said` sets are some of the same questions reworded by hand in users' everyday words",
            "(docqa/train/colloquial.py), over the same documents with the same answers.",
        ),
    ),
    (
        "-miss",
        (
            "The `-miss` sets are questions written by hand about what a passage names, for a detail no",
            "passage of its article gives (docqa/train/near_misses.py): unanswerable, to be refused.",
        ),
    ),
    ("-miss-en", ("The `-miss-en` sets ask the same near misses in English (`--english-written`).",)),
)

_DOCUMENTS = (
    "The `docs-` sets are DocQA's own fictional documents of the kinds users load (policies, manuals,",
    "price lists, FAQs) with questions in users' words, near misses among them (docqa/train/documents.py).",
)


def render(selector: Selector, sets: list[TrainSet], seconds: float) -> str:
    card = selector.card or {}
    lines = [
        f"# Answer selector for {card.get('model')}",
        "",
        "Written by `docqa train-selector` (docqa/train/); do not edit.  Reproduce it with",
        "`docqa train-selector` (CMRC 2018 trial and DRCD dev are read from ../shared/benchmarks).",
        "",
        "## Data",
        "",
        "| set | questions | licence |",
        "| --- | ---: | --- |",
        *[f"| {t.name} | {len(t.questions)} | {t.licence} |" for t in sets],
        "",
        "Every answerable question is asked as it is; without its evidence passages (left out at",
        "search time); with the sentences holding its answer blanked out of the passages it",
        "retrieves (a near miss); and, when it names a place the documents mention, about a place",
        "they never mention (docqa/train/swaps.py).  All but the first must be refused, as must",
        "the unanswerable questions of DocQA's own sets.  Never used: the bundled evaluation",
        "questions (docqa/eval/data/report_questions.jsonl) and CMRC 2018 dev — they measure.",
        *[line for suffix, note in _DERIVED if any(t.name.endswith(suffix) for t in sets) for line in note],
        *(_DOCUMENTS if any(t.name.startswith(PREFIX) for t in sets) else ()),
        "",
        "## Model",
        "",
        f"- Ranker: LightGBM LambdaRank, {RANKER_ROUNDS} rounds, {RANKER}; a candidate is relevant",
        "  when it holds a gold answer (concise answers come from the clause-run candidates).",
        f"- Answerability: LightGBM binary, {ANSWERABLE_ROUNDS} rounds, {ANSWERABLE}, on the best",
        "  candidate's features, its ranking score and its margin over the runner-up (out-of-fold scores).",
        *(
            [
                f"- Answer reader ({selector.reader_file}, docqa/answer/reader.py): the embedding model with LoRA",
                f"  adapters (rank {reader_fit.RANK}, alpha {reader_fit.ALPHA}, on {', '.join(reader_fit.TARGETS)}) and a",
                "  linear head over its mean-pooled tokens, reading the question with the best candidate's headings",
                f"  and sentence; epochs: {reader_fit.EPOCHS}, batch {reader_fit.BATCH}, on each asking's best",
                "  sentence (and, where that one is wrong, the best sentence holding the answer), and the answer",
                "  sentence with its answer taken out (a negative), of half of the "
                + ("questions, English ones included." if selector.reader_english else "Chinese questions."),
                *(
                    [
                        f"  When answering it picks among the ranker's {RERANK} best candidates: ranking score plus"
                        f" {selector.reader_weight} times",
                        "  its log-odds (the models and the figures below are of the ranker's best).",
                    ]
                    if selector.reader_weight > 0
                    else []
                ),
                "  Its score of the best candidate is one more input of the answerability model: known for the",
                "  other half's askings, missing for the half it was trained on (so the model also decides without",
                "  a reader)"
                + ("" if selector.reader_english else " — and for English questions, which it never reads")
                + "; the threshold and the figures below",
                "  are those of the askings it never saw.",
            ]
            if selector.reader_file
            else []
        ),
        f"- Threshold {selector.threshold}: the confidence below which DocQA refuses, chosen so that",
        f"  {card.get('false_answer_rate')} of the training sets' unanswerable askings would be answered.",
        f"- Features ({len(FEATURES)}, docqa/answer/features.py): {', '.join(FEATURES)}.",
        "",
        f"## Figures ({FOLDS}-fold cross-validated, by question)",
        "",
        "| set | answerable | negatives | best span right | answered right | false refusals | abstention | median chars |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in card.get("cross_validated", {}).items():
        cells = [f.get(k) for k in ("answerable", "negatives", "best_span_correct", "answered_correctly",
                                     "false_refusals", "abstention_recall", "median_chars")]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    lines += ["", f"Trained {card.get('trained_at')} in {seconds / 60:.0f} minutes on 2 CPU cores.", ""]
    return "\n".join(lines)
