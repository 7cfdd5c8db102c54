"""Train the answer reader (docqa/answer/reader.py): low-rank adapters on the
embedding model and a linear head, on (question, best candidate's sentence)
pairs labelled by whether that sentence holds the answer.

The pairs are the ones the answerability model will meet: per asking, the
sentence of the candidate the ranker put first (out of fold); for an
answerable asking whose first candidate is wrong, the best-ranked sentence
that holds the answer is added as a positive, so the reader also learns what
an answer looks like where the ranker missed it.  With the questions'
answers, every answerable asking adds its answer sentence with the answer
taken out as a negative (``erased``): the topic is all there, the asked detail
is not — the near miss a passage-level negative never shows.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass

import numpy as np

from docqa.answer.reader import arithmetic, encode_pairs, lora_tensors, pooled_logits
from docqa.ingest.sentences import split_clauses
from docqa.train.examples import Examples

RANK, ALPHA, DROPOUT = 16, 32, 0.05
TARGETS = ["query", "key", "value", "dense"]  # every linear layer of a BERT-style encoder
EPOCHS = 1
BATCH = 16
LR_ADAPTERS, LR_HEAD = 5e-4, 2e-3
SEED = 7


CLAUSE_MARKS = "，,；;：: "  # stripped from what is left
MIN_LEFT = 6  # characters of the sentence that must remain for an erased pair


def erased(text: str, facts: list[list[str]]) -> str | None:
    """``text`` (headings, line break, sentence) without its answer: the
    clauses holding an answer go when the rest of the sentence stays long
    enough, else only the answer's words; None when no answer is in it or too
    little would be left."""
    head, _, sentence = text.rpartition("\n")
    alts = sorted({a for fact in facts for a in fact if a and a in sentence}, key=len, reverse=True)
    if not alts:
        return None
    clauses = [sentence[a:b] for a, b in split_clauses(sentence, 0, len(sentence))]
    kept = "".join(c for c in clauses if not any(a in c for a in alts)).strip(CLAUSE_MARKS)
    if len(kept) < MIN_LEFT:
        kept = sentence
        for a in alts:
            kept = kept.replace(a, "")
        kept = kept.strip(CLAUSE_MARKS)
    if len(kept) < MIN_LEFT or any(a in kept for fact in facts for a in fact if a):
        return None
    return f"{head}\n{kept}" if head else kept


@dataclass
class Pairs:
    questions: list[str]
    texts: list[str]
    labels: np.ndarray
    asking: np.ndarray  # which asking each pair comes from

    def subset(self, keep: np.ndarray) -> Pairs:
        idx = np.flatnonzero(keep)
        return Pairs([self.questions[i] for i in idx], [self.texts[i] for i in idx], self.labels[idx], self.asking[idx])


def pairs(
    ex: Examples,
    best_rows: list[int],
    labels: np.ndarray,
    scores: np.ndarray,
    answers: list[list[list[str]] | None] | None = None,
) -> Pairs:
    """The training pairs (see the module's docstring); ``answers``: per
    asking, its question's answers (for the erased negatives), or None."""
    questions, texts, ys, askings = [], [], [], []

    def add(i: int, text: str, y: float) -> None:
        questions.append(ex.askings[i]["question"])
        texts.append(text)
        ys.append(y)
        askings.append(i)

    starts = np.flatnonzero(np.r_[True, np.diff(ex.group) != 0])
    ends = np.r_[starts[1:], len(ex.group)]
    for i, (a, row) in enumerate(zip(ex.askings, best_rows)):
        add(i, ex.texts[ex.reading[row]], labels[i])
        relevant = np.flatnonzero(ex.rel[starts[i] : ends[i]] > 0) + starts[i]
        if a["side"] != "answerable" or not len(relevant):
            continue
        top = ex.texts[ex.reading[relevant[np.argmax(scores[relevant])]]]
        if not labels[i]:
            add(i, top, 1)
        facts = answers[i] if answers else None
        without = erased(top, facts) if facts else None
        if without is not None:
            add(i, without, 0)
    return Pairs(questions, texts, np.array(ys, np.float32), np.array(askings))


def _batches(p: Pairs, rng: random.Random) -> list[list[int]]:
    """Batches of pairs of similar length (less padding), in random order."""
    lengths = [len(q) + len(t) for q, t in zip(p.questions, p.texts)]
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    rng.shuffle(batches)
    return batches


def train(transformer, p: Pairs, bfloat16: bool, log=print) -> dict:
    """Adapters and head trained on ``p``; returns what a reader file holds."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    base, tokenizer = transformer()
    words = base.get_input_embeddings().weight
    model = get_peft_model(
        copy.deepcopy(base, memo={id(words): words}),
        LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=DROPOUT, target_modules=TARGETS),
    )
    head = torch.nn.Linear(base.config.hidden_size, 1)
    adapters = [q for q in model.parameters() if q.requires_grad]
    optimiser = torch.optim.AdamW([{"params": adapters, "lr": LR_ADAPTERS}, {"params": head.parameters(), "lr": LR_HEAD}])
    steps = EPOCHS * math.ceil(len(p.labels) / BATCH)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda k: min((k + 1) / warmup, max(0.0, (steps - k) / (steps - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    done = 0
    for epoch in range(EPOCHS):
        total, seen = 0.0, 0
        for batch in _batches(p, rng):
            inputs = encode_pairs(tokenizer, [p.questions[i] for i in batch], [p.texts[i] for i in batch])
            with arithmetic(bfloat16):
                logits = pooled_logits(model, head, inputs)
            loss = loss_fn(logits.float(), torch.as_tensor(p.labels[batch]))
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            total, seen, done = total + loss.item() * len(batch), seen + len(batch), done + 1
            if done % 100 == 0:
                log(f"  reader step {done} of {steps}, loss {total / seen:.3f}")
        log(f"  reader epoch {epoch + 1} of {EPOCHS}: loss {total / seen:.3f}")
    return lora_tensors(model.state_dict(), head)


def scale() -> float:
    return ALPHA / RANK
