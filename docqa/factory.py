"""Assemble the engine and the ingestor from settings (the only place that
knows which concrete collaborators DocQA uses)."""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from docqa.answer.analyser import QuestionAnalyser
from docqa.answer.base import Answerer
from docqa.answer.extractive import ExtractiveAnswerer
from docqa.answer.profile import Profile, load_profile
from docqa.answer.second_opinion import SecondOpinion
from docqa.conversation.base import Rewriter
from docqa.conversation.entities import EntityFinder
from docqa.conversation.extractive import ExtractiveRewriter
from docqa.crosslingual import Glossary
from docqa.engine import Engine
from docqa.errors import DocQAError
from docqa.index import store
from docqa.index.embedder import Embedder, SentenceTransformerEmbedder
from docqa.index.ingestion import Ingestor, chunker_settings
from docqa.index.retriever import HybridRetriever
from docqa.index.store import IndexData, IndexSpec
from docqa.index.tokenize import Segmenter
from docqa.index.upgrade import OLD_FORMAT
from docqa.settings import DEFAULT_COLLECTION, Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from docqa.llm.client import ChatClient
    from docqa.llm.generator import LLMGenerator


def make_embedder(settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        settings.model,
        settings.models_dir,
        batch_size=settings.batch_size,
        encoder=settings.encoder,
        precision=settings.precision,
    )


def make_ingestor(settings: Settings, embedder: Embedder | None = None, index_dir: Path | None = None) -> Ingestor:
    return Ingestor(
        root=index_dir or settings.index_path,
        model_id=settings.model,
        embedder=(lambda: embedder) if embedder is not None else (lambda: make_embedder(settings)),
        segmenter=Segmenter(),
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
    )


def make_engine(
    settings: Settings,
    embedder: Embedder | None = None,
    index_dir: Path | None = None,
    second_opinion: SecondOpinion | None = None,
) -> Engine:
    """Load the index (checked against the configured model and chunker) and
    wire the engine.  Raises ``IndexNotFound`` / ``ModelMismatch`` with advice.
    ``second_opinion`` replaces the one ``DOCQA_CHECK`` configures."""
    root = index_dir or settings.index_path
    manifest = store.read_manifest(root)  # fail fast, before loading a model
    if manifest.get("format_version") == OLD_FORMAT and make_ingestor(settings, embedder, root).upgrade():
        log.info("converted the index at %s, written by an earlier DocQA, to the current format", root)
        manifest = store.read_manifest(root)
    dim = manifest.get("model", {}).get("dim")
    spec = IndexSpec(settings.model, dim, chunker_settings(settings.chunk_size, settings.chunk_overlap))
    store.check_manifest(manifest, spec, root)
    embedder = embedder or make_embedder(settings)
    spec.dim = embedder.dim
    data = store.load(root, spec)
    segmenter = Segmenter()
    retriever = make_retriever(settings, data, segmenter, root)
    profile = load_profile(embedder.model_id, settings.home)
    transformer = getattr(embedder, "transformer", None)  # the answer reader adapts it (a fake embedder has none)
    bfloat16 = bool(getattr(embedder, "bfloat16", False))
    client = make_chat_client(settings)
    second = second_opinion or make_second_opinion(settings, profile, client)
    extractive = ExtractiveAnswerer(lambda: profile.selector(transformer, bfloat16), segmenter, second)
    answerers: dict[str, Answerer] = {"extractive": extractive}
    llm = make_llm_answerer(settings, embedder, extractive, profile, data, client)
    titles = data.section_titles
    glossary = shared_glossary()
    analyser = QuestionAnalyser(segmenter, retriever.knows, titles, glossary, retriever.vocabulary)
    rewriter = ExtractiveRewriter(EntityFinder(titles, segmenter, glossary), lambda text: quoted_sections(data, text))
    rewriters: dict[str, Rewriter] = {"extractive": rewriter}
    if llm is not None:
        from docqa.llm.rewriter import LLMRewriter

        answerers["llm"] = llm
        rewriters["llm"] = LLMRewriter(llm.client, rewriter, settings.llm_prompts_dir)
    return Engine(
        embedder=embedder,
        index=data,
        retriever=retriever,
        analyser=analyser,
        answerers=answerers,
        default_mode=settings.mode,
        top_k=settings.top_k,
        max_question_chars=settings.max_question_chars,
        min_confidence=settings.min_confidence,
        rewriters=rewriters,
    )


def make_retriever(settings: Settings, data: IndexData, segmenter: Segmenter, root: Path) -> HybridRetriever:
    """The FAISS store's retriever, or Milvus's (``DOCQA_VECTOR_STORE=milvus``:
    one Milvus collection per DocQA collection, synced to the generation now)."""
    if settings.vector_store != "milvus":
        return HybridRetriever(data, segmenter)
    from docqa.index.milvus_retriever import MilvusRetriever
    from docqa.index.milvus_store import MilvusStore, collection_name

    if importlib.util.find_spec("pymilvus") is None:
        raise DocQAError(
            "DOCQA_VECTOR_STORE=milvus needs pymilvus (and milvus-lite for a local file): pip install -e '.[milvus]'"
        )
    name = DEFAULT_COLLECTION if Path(root) == settings.index_path else Path(root).name
    token = settings.milvus_token.get_secret_value() if isinstance(settings.milvus_token, SecretStr) else settings.milvus_token
    milvus = MilvusStore(settings.milvus_path, collection_name(name), data.spec.dim, token=token or "")
    return MilvusRetriever(data, segmenter, milvus)


@functools.cache
def shared_glossary() -> Glossary:
    """The English -> Chinese glossary, one per process: it depends on no index
    (jieba's dictionary is process-wide too), and building it takes ~3 s, which
    a hot reload or a newly opened collection should not pay again."""
    return Glossary(word_freq=Segmenter().word_frequencies())


def quoted_sections(data: IndexData, answer: str) -> tuple[str, ...]:
    """The section path of the passage an earlier answer quotes (its first
    sentence, found verbatim), or () when it quotes none."""
    first = answer.strip().split("[", 1)[0][:40]
    if len(first) < 6:
        return ()
    for chunk in data.chunks.values():
        if first in chunk.text:
            return chunk.section_path
    return ()


def make_chat_client(settings: Settings) -> ChatClient | None:
    """The client of the configured LLM (``DOCQA_LLM_BASE_URL`` and
    ``DOCQA_LLM_MODEL``), else None.  Nothing is contacted here; a malformed
    URL fails now."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    from docqa.llm.client import ChatClient

    secret = settings.llm_api_key  # a plain str too when set by model_copy(update=...), which does not validate
    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return ChatClient(settings.llm_base_url, settings.llm_model, key, settings.llm_timeout, settings.llm_retries)


def make_second_opinion(settings: Settings, profile: Profile, client: ChatClient | None) -> SecondOpinion | None:
    """The LLM's second opinion on refusals when ``DOCQA_CHECK=llm`` (docs/llm.md)."""
    if settings.check == "off":
        return None
    if client is None:
        raise DocQAError("DOCQA_CHECK=llm needs an LLM; set DOCQA_LLM_BASE_URL and DOCQA_LLM_MODEL (docs/llm.md)")
    if not profile.check:
        raise DocQAError(
            f"DOCQA_CHECK=llm: the profile of {profile.model_id} has no [check] calibration; "
            "unset DOCQA_CHECK, or calibrate one (docs/llm.md, 'A second opinion')"
        )
    from docqa.llm.check import LLMChecker

    checker = LLMChecker(client, settings.llm_prompts_dir)
    second = SecondOpinion.from_table(checker.check, profile.check, profile.source or "the model profile")
    if second.llm and second.llm != client.model:
        log.warning(
            "DOCQA_CHECK=llm: the profile's [check] table was calibrated with the LLM %r, not %r; another model's "
            "opinions are on another scale, so its refusals may be off until you calibrate a [check] table for it "
            "(docs/llm.md)",
            second.llm,
            client.model,
        )
    return second


def make_llm_answerer(
    settings: Settings,
    embedder: Embedder,
    extractive: ExtractiveAnswerer,
    profile: Profile,
    data: IndexData | None = None,
    client: ChatClient | None = None,
) -> LLMGenerator | None:
    """The LLM answerer when an LLM is configured, else None."""
    client = client or make_chat_client(settings)
    if client is None:
        return None
    from docqa.llm.generator import LLMGenerator
    from docqa.llm.guard import Guard, GuardThresholds

    vectors = (lambda hit: data.unit_vectors.get(hit.row)) if data is not None else None
    guard = Guard(embedder, GuardThresholds.from_profile(profile.guard, profile.source or "the model profile"), vectors)
    generator = LLMGenerator(
        client,
        extractive,
        guard,
        prompts_dir=settings.llm_prompts_dir,
        max_passages=settings.llm_passages,
        max_passage_chars=settings.llm_passage_chars,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )
    generator.prompts("zh"), generator.prompts("en")  # a broken prompt file fails now, not mid-answer
    return generator
