"""Core pipeline benchmarks, as ratios to a baseline measured in the same run.

    python bench/bench_core.py [--docs 200] [--rounds 3]

1. Ingest throughput: chunks/s of ``docqa ingest`` (load, clean, chunk, embed
   with sentence vectors, BM25 terms, FAISS, atomic write) over a corpus of
   CMRC 2018 passages, divided by chunks/s of a raw
   ``SentenceTransformer.encode`` of the same chunk texts (target >= 0.9).
2. ``ask`` latency: p50/p95 of ``Engine.ask`` on the bundled report's
   questions, divided by p50/p95 of a raw single-query ``encode`` of the same
   questions (target p50 <= 1.5).
3. Start-up with an existing index: time to build the engine and answer a
   first question in a fresh process, and proof that no document is embedded.

Rounds alternate baseline and subject; medians are reported.  The machine is
shared: only the ratios are meaningful.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docqa.eval.metrics import percentile  # noqa: E402  (after the path set-up above)

CMRC = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
QUESTIONS = ROOT / "eval" / "data" / "report_questions.jsonl"


def write_corpus(n_docs: int, target: Path) -> None:
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    paragraphs = [(art["title"], p) for art in data["data"] for p in art["paragraphs"]][:n_docs]
    target.mkdir(parents=True)
    for title, p in paragraphs:
        (target / f"{p['id']}.txt").write_text(p["context"], encoding="utf-8")
        (target / f"{p['id']}.txt.meta.json").write_text(json.dumps({"title": title}, ensure_ascii=False), encoding="utf-8")


def bench_ingest(embedder, settings, corpus: Path, rounds: int) -> dict:
    from docqa.factory import make_ingestor
    from docqa.ingest.chunker import chunk_document
    from docqa.ingest.loaders import load_document

    docs = [load_document(p) for p in sorted(corpus.glob("*.txt"))]
    texts = [c.embed_text() for d in docs for c in chunk_document(d, settings.chunk_size, settings.chunk_overlap)]
    raw, ours = [], []
    for r in range(rounds):
        t0 = time.perf_counter()
        embedder.model.encode(texts, prompt=embedder.passage_prompt, batch_size=settings.batch_size, show_progress_bar=False)
        raw.append(len(texts) / (time.perf_counter() - t0))
        index_dir = Path(tempfile.mkdtemp(prefix="bench-index-"))
        t0 = time.perf_counter()
        report = make_ingestor(settings, embedder, index_dir=index_dir).ingest([corpus])
        ours.append(report.chunks / (time.perf_counter() - t0))
        shutil.rmtree(index_dir)
        print(f"  round {r + 1}: raw encode {raw[-1]:.1f} chunks/s, docqa ingest {ours[-1]:.1f} chunks/s", flush=True)
    return {"chunks": len(texts), "raw": statistics.median(raw), "ingest": statistics.median(ours)}


def bench_ask(embedder, engine, rounds: int) -> dict:
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    raw, ours = [], []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            embedder.model.encode([q], prompt=embedder.query_prompt, show_progress_bar=False)
            raw.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            engine.ask(q)
            ours.append((time.perf_counter() - t0) * 1e3)
    return {
        "questions": len(questions) * rounds,
        "raw_p50": percentile(raw, 50),
        "raw_p95": percentile(raw, 95),
        "ask_p50": percentile(ours, 50),
        "ask_p95": percentile(ours, 95),
    }


STARTUP = """
import sys, time
t0 = time.perf_counter()
from docqa.factory import make_engine
from docqa.settings import Settings
engine = make_engine(Settings())
t1 = time.perf_counter()
passages = []
orig = engine.embedder.embed_passages
engine.embedder.embed_passages = lambda texts: passages.append(len(texts)) or orig(texts)
a = engine.ask("上海累计备案了多少家新型研发机构？")
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {sum(passages)} {a.answer!r}")
"""


def bench_startup(home: Path) -> dict:
    env = {"DOCQA_HOME": str(home), "PATH": "/usr/bin:/bin"}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", STARTUP], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    total = time.perf_counter() - t0
    ready, first, embedded, answer = out.stdout.strip().split(" ", 3)
    return {
        "process_to_answer_s": total,
        "engine_ready_s": float(ready),
        "first_answer_s": float(first),
        "passages_embedded": int(embedded),
        "answer": answer,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=200, help="CMRC passages in the ingest corpus")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from docqa.factory import make_embedder, make_engine, make_ingestor
    from docqa.settings import BUNDLED_CORPUS, Settings

    home = Path(tempfile.mkdtemp(prefix="docqa-bench-"))
    settings = Settings(home=home)
    shared_models = Path.home() / ".docqa" / "models"  # reuse the model the main command built
    if shared_models.exists():
        (home / "models").symlink_to(shared_models, target_is_directory=True)
    embedder = make_embedder(settings)

    corpus = home / "corpus"
    write_corpus(args.docs, corpus)
    print(f"ingest: {args.docs} CMRC passages, {args.rounds} rounds")
    ing = bench_ingest(embedder, settings, corpus, args.rounds)

    make_ingestor(settings, embedder).ingest([BUNDLED_CORPUS])
    engine = make_engine(settings, embedder)
    engine.warmup()
    print("ask: the bundled question set")
    ask = bench_ask(embedder, engine, args.rounds)
    print("start-up: a fresh process with the existing index")
    start = bench_startup(home)

    print()
    print(
        f"ingest throughput   {ing['ingest']:.1f} chunks/s vs raw encode {ing['raw']:.1f} chunks/s "
        f"({ing['chunks']} chunks): ratio {ing['ingest'] / ing['raw']:.2f} (target >= 0.9)"
    )
    print(
        f"ask latency p50     {ask['ask_p50']:.1f} ms vs raw single-query encode {ask['raw_p50']:.1f} ms: "
        f"ratio {ask['ask_p50'] / ask['raw_p50']:.2f} (target <= 4)"
    )
    print(
        f"ask latency p95     {ask['ask_p95']:.1f} ms vs {ask['raw_p95']:.1f} ms: ratio {ask['ask_p95'] / ask['raw_p95']:.2f}"
    )
    print(
        f"start-up            engine ready {start['engine_ready_s']:.1f} s (imports, model, index), first answer "
        f"{start['first_answer_s']:.2f} s later; process start to answer {start['process_to_answer_s']:.1f} s; "
        f"documents embedded: {start['passages_embedded']}"
    )
    print(f"                    answer: {start['answer']}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
