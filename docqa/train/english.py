"""English questions for training: some of the training sets' Chinese
questions, translated into English by the local LLM.

English users ask about Chinese documents, and the selector has to decide
for them too; the training sets hold Chinese questions only.  A fixed sample
of each set's answerable questions was translated once, offline, by the
local Qwen2.5-Coder 1.5B (``python -m docqa.train.english``; prompts in
``prompts/translate_*.txt``); half of them keep the Chinese names in
parentheses after their English ("… the Shanghai Academy of AI for Science
(上海科学智能研究院) …"), as English users who copy a name from the document
write, half give names in English only.  The translations live in
``english_questions.jsonl`` beside this file (derived from the sets, under
their licences) and form extra training sets, ``<set>-en``, over the same
corpora with the same answers.

A larger sample (``WRITTEN_SHARE``) was put into English by hand by DocQA's
developers (2026-12-06), faithfully and as an English speaker types it, half
with the Chinese names in parentheses: ``english_written.jsonl``
(``"by": "hand"``), trained on instead with ``docqa train-selector
--english-written``, together with the hand-written near misses' English
versions.  Measured (docs/selector.md): with the reader kept, no more English
questions were answered; with a reader trained to read English too, more of
CMRC 2018 dev's were, but the report's English conversation turns lost.  So the
shipped selector is trained on the machine translations.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from pathlib import Path

from docqa.train.sets import TrainSet, draw, read_rows, reworded_sets, sample

TRANSLATIONS = Path(__file__).with_name("english_questions.jsonl")
WRITTEN = Path(__file__).with_name("english_written.jsonl")  # by hand: a translation is kept whatever its agreement
WRITTEN_SHARE = {"cmrc2018-trial": 0.6, "drcd-dev": 0.25}  # the sample put into English by hand
MIN_AGREEMENT = 0.80  # cosine of the Chinese and English questions' vectors; below: a mangled translation
SHARE = {"cmrc2018-trial": 0.3, "drcd-dev": 0.12}  # of each set's answerable questions
KEEP_NAMES = "keep the original Chinese in parentheses after each name."
ENGLISH_NAMES = "write every name in English (pinyin for Chinese names without an English form)."
_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def sampled(tset: TrainSet) -> list:
    return sample(tset, SHARE.get(tset.name, 0.0))


def load(path: Path = TRANSLATIONS) -> dict[tuple[str, str], str]:
    """(set, id) -> English question (a machine translation only when its vectors agree with the question's)."""
    rows = read_rows(path)
    return {
        (r["set"], r["id"]): r["question"] for r in rows if r.get("by") == "hand" or r.get("agreement", 1.0) >= MIN_AGREEMENT
    }


def english_sets(sets: list[TrainSet], path: Path = TRANSLATIONS) -> list[TrainSet]:
    """For each set with translations, the same questions asked in English."""
    return reworded_sets(sets, load(path), "-en")


def usable(text: str) -> bool:
    """A translation that reads as an English question."""
    latin = len(_LATIN.findall(text))
    return 8 <= len(text) <= 300 and latin > 2 * len(_HAN.findall(text)) and "\n" not in text


@functools.cache
def _prompts():
    from docqa.llm.prompts import load_prompt

    return load_prompt("translate_system"), load_prompt("translate_user")


def translate(llm, question: str, keep_names: bool) -> str:
    system_prompt, user_prompt = _prompts()
    system = system_prompt.render()
    user = user_prompt.render(names=KEEP_NAMES if keep_names else ENGLISH_NAMES, question=question)
    reply = llm.create_chat_completion(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        temperature=0.0,
        max_tokens=96,
    )
    return reply["choices"][0]["message"]["content"].strip().removeprefix("English:").strip().strip('"').strip()


def score_agreement(embedder, path: Path = TRANSLATIONS) -> None:
    """Each translation's agreement with its question: the cosine of their
    query vectors (the bundled embedder reads both languages).  A translation
    that lost or changed what was asked ("Who is Liu San?" for 刘六的本名是什么？)
    scores low and is left out of training (``MIN_AGREEMENT``, chosen on
    these translations alone)."""
    rows = read_rows(path)
    zh = embedder.embed_queries([r["chinese"] for r in rows])
    en = embedder.embed_queries([r["question"] for r in rows])
    for r, a, b in zip(rows, zh, en):
        r["agreement"] = round(float(a @ b), 4)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def main(model_path: str, limit: int | None = None) -> None:
    """Translate the sampled questions not yet translated, appending to the
    file, then score every translation's agreement."""
    from llama_cpp import Llama

    from docqa.api import Settings
    from docqa.train.sets import default_sets

    done = {(r["set"], r["id"]) for r in read_rows(TRANSLATIONS)}  # those left out too: not translated again
    llm = Llama(model_path=model_path, n_ctx=1024, n_threads=2, verbose=False)
    todo = [(t.name, q) for t in default_sets(Settings()) for q in sampled(t) if (t.name, q.id) not in done]
    todo.sort(key=lambda item: draw("order", item[1].id))  # the sets interleaved: a run cut short still holds both
    todo = todo[:limit] if limit else todo
    started = time.perf_counter()
    with TRANSLATIONS.open("a", encoding="utf-8") as out:
        for i, (name, q) in enumerate(todo, 1):
            keep = draw(name + "-names", q.id) < 0.5
            english = translate(llm, q.question, keep)
            if usable(english):
                row = {"set": name, "id": q.id, "chinese": q.question, "question": english, "names_kept": keep}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
            if i % 50 == 0:
                print(f"{i}/{len(todo)} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    del llm
    from docqa.api import make_embedder

    score_agreement(make_embedder(Settings()))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
