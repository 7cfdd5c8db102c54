"""DocQA at scale, as ratios to a naive pipeline measured in the same run.

    python bench/bench_scale.py [--real-only | --index-only] [--passages 150] [--questions 100]
                                [--rounds 3] [--sizes 10000,100000,1000000] [--out results.json]

1. Real model (``bench_real_model``): the first ``--passages`` unique CMRC 2018 dev
   passages, one .txt file each, against the naive pipeline a user would assemble on the
   same passages: a recursive character splitter (500 characters, overlap 50), the same
   sentence-transformers model from DocQA's models folder (torch, normalised vectors) and
   a FAISS ``IndexFlatIP``.
   - Ingest: source characters / wall second (models loaded before timing).  DocQA runs
     its ingest in-process through ``make_ingestor(...).ingest([folder])`` into a fresh
     index; naive = split + encode every chunk + add to FAISS.  Target >= 1.5x naive.
   - Retrieval: p50/p95 of ``timings_ms["embed"] + timings_ms["search"]`` of
     ``Engine.ask`` on the passages' CMRC questions, against the naive query (encode one
     question + FAISS top 5).  Target p50 <= 0.8x naive.  With the default int8 ONNX
     question encoder and, as a second row, with ``DOCQA_ENCODER=torch``.
   - ``ask``: p50/p95 of the whole ``Engine.ask`` against the same naive query (reported).
2. Index layer (``bench_index_layer``, ``bench/scale_index.py``): a fake embedder's
   vectors and synthetic chunks at ``--sizes``: seconds to append 10k chunks (÷ to an
   empty index), load time and RSS in a fresh process, ``ask`` p50/p95 without the
   encoder, dense recall@10 against exact search.

Rounds alternate naive and DocQA (questions interleave one by one); the median over
rounds is reported.  The machine is shared: only the ratios are meaningful.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docqa.eval.metrics import percentile  # noqa: E402  (after the path set-up above)

CMRC = ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"
MODELS = Path(os.environ.get("DOCQA_TEST_MODELS", Path.home() / ".docqa" / "models"))  # shared with bench_api
SEPARATORS = ("\n\n", "\n", "。", "！", "？", "；", "，", "")


def split(text: str, size: int = 500, overlap: int = 50, separators: tuple[str, ...] = SEPARATORS) -> list[str]:
    """A recursive character splitter (LangChain's algorithm; separators stay at the end of their piece)."""
    sep = next(s for s in separators if s == "" or s in text)
    rest = separators[separators.index(sep) + 1 :]
    parts = text.split(sep) if sep else list(text)
    pieces = [p + sep for p in parts[:-1]] + parts[-1:] if sep else parts
    chunks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if "".join(current).strip():
            chunks.append("".join(current).strip())

    for piece in filter(None, pieces):
        if len(piece) > size and rest:
            flush()
            current.clear()
            chunks.extend(split(piece, size, overlap, rest))
            continue
        total = sum(map(len, current))
        if current and total + len(piece) > size:
            flush()
            while current and (total > overlap or total + len(piece) > size):
                total -= len(current.pop(0))
        current.append(piece)
    flush()
    return chunks


class Naive:
    """What a user would assemble: splitter + sentence-transformers + FAISS IndexFlatIP."""

    def __init__(self, model_dir: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        prompts = self.model.prompts or {}
        self.passage = "passage" if "passage" in prompts else None
        self.query_prompt = "query" if "query" in prompts else None
        self.index: Any = None

    def ingest(self, texts: list[str]) -> int:
        import faiss

        chunks = [c for t in texts for c in split(t)]
        vecs = self.model.encode(chunks, prompt_name=self.passage, normalize_embeddings=True, show_progress_bar=False)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(vecs)
        return len(chunks)

    def query(self, question: str) -> None:
        vec = self.model.encode([question], prompt_name=self.query_prompt, normalize_embeddings=True, show_progress_bar=False)
        self.index.search(vec, 5)


def write_corpus(n_passages: int, n_questions: int, target: Path) -> tuple[list[str], list[str]]:
    """The first unique CMRC dev contexts, one .txt file each; their questions."""
    data = json.loads(CMRC.read_text(encoding="utf-8"))
    seen: dict[str, list[str]] = {}
    for p in (p for art in data["data"] for p in art["paragraphs"]):
        if p["context"] not in seen and len(seen) < n_passages:
            seen[p["context"]] = [qa["question"] for qa in p["qas"]]
    target.mkdir(parents=True)
    for i, text in enumerate(seen):
        (target / f"{i:04d}.txt").write_text(text, encoding="utf-8")
    return list(seen), [q for qs in seen.values() for q in qs][:n_questions]


def ms(fn: Any, *a: Any) -> float:
    t0 = time.perf_counter()
    fn(*a)
    return (time.perf_counter() - t0) * 1e3


def bench_real_model(args: argparse.Namespace) -> dict:
    """The real-model figures (see the module docstring); model loads and ONNX build excluded."""
    from docqa.api import Settings, make_embedder, make_engine, make_ingestor

    home = Path(tempfile.mkdtemp(prefix="docqa-bench-scale-"))
    MODELS.mkdir(parents=True, exist_ok=True)
    (home / "models").symlink_to(MODELS, target_is_directory=True)
    settings = Settings(home=home, encoder="onnx")
    embedder = make_embedder(settings)  # builds the model folder and the ONNX encoder on first use
    torch_settings = settings.model_copy(update={"encoder": "torch"})
    torch_embedder = make_embedder(torch_settings)
    model_dir = next(p.parent for p in MODELS.glob("*/modules.json") if settings.model in p.parent.name)
    naive = Naive(model_dir)
    texts, questions = write_corpus(args.passages, args.questions, home / "corpus")
    chars = sum(map(len, texts))
    print(f"real model: {len(texts)} passages ({chars} chars), {len(questions)} questions, {args.rounds} rounds; {model_dir}")

    naive_cps: list[float] = []
    docqa_cps: list[float] = []
    chunks: dict[str, int] = {}
    index_dir = home / "index"
    for r in range(args.rounds):
        shutil.rmtree(index_dir, ignore_errors=True)
        t: dict[str, float] = {}
        for who in ("naive", "docqa") if r % 2 == 0 else ("docqa", "naive"):
            t0 = time.perf_counter()
            if who == "naive":
                chunks["naive"] = naive.ingest(texts)
            else:
                chunks["docqa"] = make_ingestor(settings, embedder, index_dir=index_dir).ingest([home / "corpus"]).chunks
            t[who] = chars / (time.perf_counter() - t0)
        naive_cps.append(t["naive"])
        docqa_cps.append(t["docqa"])
        print(f"  ingest round {r + 1}: naive {t['naive']:.0f} chars/s, docqa {t['docqa']:.0f} chars/s", flush=True)

    engines = {"onnx": make_engine(settings, embedder, index_dir)}
    engines["torch"] = make_engine(torch_settings, torch_embedder, index_dir)
    for engine in engines.values():
        engine.warmup()
    naive.query("预热 warm-up")
    keys = ("naive", "retrieval_onnx", "retrieval_torch", "ask_onnx", "ask_torch")
    rounds: dict[str, list[dict[str, float]]] = {k: [] for k in keys}
    for r in range(args.rounds):
        times: dict[str, list[float]] = {k: [] for k in rounds}
        for q in questions:
            times["naive"].append(ms(naive.query, q))
            for name, engine in engines.items():
                t0 = time.perf_counter()
                answer = engine.ask(q)
                times[f"ask_{name}"].append((time.perf_counter() - t0) * 1e3)
                times[f"retrieval_{name}"].append(answer.timings_ms["embed"] + answer.timings_ms["search"])
        for k, v in times.items():
            rounds[k].append({"p50": percentile(v, 50) or 0.0, "p95": percentile(v, 95) or 0.0})
        print(
            f"  query round {r + 1}: naive p50 {rounds['naive'][-1]['p50']:.1f} ms, docqa retrieval p50 "
            f"{rounds['retrieval_onnx'][-1]['p50']:.1f} ms (torch {rounds['retrieval_torch'][-1]['p50']:.1f}), "
            f"ask p50 {rounds['ask_onnx'][-1]['p50']:.1f} ms",
            flush=True,
        )
    shutil.rmtree(home, ignore_errors=True)
    med = {k: {p: statistics.median(x[p] for x in v) for p in ("p50", "p95")} for k, v in rounds.items()}
    return {
        "passages": len(texts),
        "chars": chars,
        "questions": len(questions),
        "rounds": args.rounds,
        "chunks": chunks,
        "ingest_chars_per_s": {"naive": statistics.median(naive_cps), "docqa": statistics.median(docqa_cps)},
        "query_ms": med,
    }


def bench_index_layer(args: argparse.Namespace) -> dict:
    """The index layer alone with a fake embedder at ``args.sizes`` chunks
    (``bench/scale_index.py``): append, load, RSS, search, recall."""
    from bench.scale_index import bench

    return bench(args.sizes, args.index_questions)


def report_index(result: dict) -> None:
    empty = result["append_empty_s"]
    print(f"\nindex layer (fake embedder; appending 10k chunks to an empty index: {empty:.2f} s)")
    heads = ("append 10k", 12), ("÷ empty", 9), ("load s", 8), ("RSS MB", 8), ("p50 ms", 8), ("p95 ms", 8), ("recall@10", 10)
    print(f"{'chunks':>9}" + "".join(f"{h:>{w}}" for h, w in heads) + "  segments")
    for size, r in result["sizes"].items():
        segs = ", ".join(f"{n}×{rows} {kind}" for (rows, kind), n in Counter(map(tuple, r["segments"])).items())
        print(
            f"{int(size):>9,}{r['append_s']:>11.2f}s{r['append_ratio']:>9.2f}{r['load_s']:>8.2f}{r['rss_mb']:>8.0f}"
            f"{r['search_p50_ms']:>8.1f}{r['search_p95_ms']:>8.1f}{r['recall_at_10']:>10.3f}  {segs}"
        )
    print("targets at 1M: append <= 2x empty, RSS <= 2,500 MB, p95 <= 100 ms (encoder excluded), recall@10 >= 0.95")


ROWS = (  # (label, key in query_ms, target as a ratio to the naive query, or None)
    ("retrieval p50 ms (onnx)", "retrieval_onnx", "p50", 0.8),
    ("retrieval p95 ms (onnx)", "retrieval_onnx", "p95", None),
    ("retrieval p50 ms (torch)", "retrieval_torch", "p50", None),
    ("retrieval p95 ms (torch)", "retrieval_torch", "p95", None),
    ("ask p50 ms (onnx)", "ask_onnx", "p50", None),
    ("ask p95 ms (onnx)", "ask_onnx", "p95", None),
    ("ask p50 ms (torch)", "ask_torch", "p50", None),
)


def report(real: dict) -> None:
    ing, q = real["ingest_chars_per_s"], real["query_ms"]
    ratio = ing["docqa"] / ing["naive"]
    verdict = ">= 1.5 " + ("met" if ratio >= 1.5 else "NOT met")
    print(f"\n{'figure (naive: its query)':<28}{'DocQA':>10}{'naive':>10}{'ratio':>8}  target")
    print(f"{'ingest chars/s':<28}{ing['docqa']:>10.0f}{ing['naive']:>10.0f}{ratio:>8.2f}  {verdict}")
    for label, key, p, target in ROWS:
        ratio = q[key][p] / q["naive"][p]
        verdict = f"<= {target} {'met' if ratio <= target else 'NOT met'}" if target else ""
        print(f"{label:<28}{q[key][p]:>10.1f}{q['naive'][p]:>10.1f}{ratio:>8.2f}  {verdict}")
    print(f"chunks: DocQA {real['chunks']['docqa']} (its own chunker), naive {real['chunks']['naive']} (500/50 splitter)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--real-only", action="store_true", help="only the real-model section")
    only.add_argument("--index-only", action="store_true", help="only the index-layer section")
    ap.add_argument("--passages", type=int, default=150, help="unique CMRC dev passages in the corpus")
    ap.add_argument("--questions", type=int, default=100, help="CMRC questions of those passages")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--index-questions", type=int, default=200, help="questions per size in the index-layer section")
    ap.add_argument("--out", type=Path, help="write the results as JSON here (default: print only)")
    args = ap.parse_args()

    results: dict[str, dict] = {}
    if not args.index_only:
        results["real_model"] = bench_real_model(args)
        report(results["real_model"])
    if not args.real_only:
        results["index_layer"] = bench_index_layer(args)
        report_index(results["index_layer"])
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
