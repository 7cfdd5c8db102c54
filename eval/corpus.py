"""Indexes for eval corpora, kept apart from the user's index.

Each corpus gets its own index directory under ``$DOCQA_HOME/eval-indexes/``,
named by a hash of the corpus files (names, contents and metadata sidecars),
the model, the chunker settings and the source of the code that builds an
index.  A later run over the same content reuses it; any change builds a new
one.  The user's index (``settings.index_path``) is never read or written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docqa.api import IndexCorrupt, IndexNotFound, Settings, chunker_settings, discover, pipeline_sources, read_manifest
from docqa.errors import DocumentError


@dataclass
class EvalIndex:
    path: Path
    key: str
    files: list[Path]
    built: bool  # False when a cached index was reused
    seconds: float = 0.0
    unsupported: int = 0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_key(files: Sequence[Path], settings: Settings, embedder_id: str | None = None, config: Sequence[Path] = ()) -> str:
    """sha256 over the corpus content (documents, their metadata sidecars and
    the collection settings) and everything that shapes its index."""
    entries = [[f.name, _sha(f), ""] for f in config]
    for f in files:
        side = f.with_name(f.name + ".meta.json")
        entries.append([f.name, _sha(f), _sha(side) if side.is_file() else ""])
    payload = {
        "files": sorted(entries),
        "model": settings.model,
        "embedder": embedder_id or settings.model,
        "chunker": chunker_settings(settings.chunk_size, settings.chunk_overlap),
        "code": [[p.name, _sha(p)] for p in pipeline_sources() if p.is_file()],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def ensure_index(
    settings: Settings,
    paths: list[Path],
    embedder,
    rebuild: bool = False,
    on_plan: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EvalIndex:
    """The index directory for ``paths``: reused when its key matches, built otherwise."""
    from docqa.api import make_ingestor

    found = discover(paths)
    if not found.files:
        raise DocumentError(f"no supported documents under {', '.join(map(str, paths))}; name files DocQA can read")
    key = corpus_key(found.files, settings, getattr(embedder, "model_id", None), found.settings)
    root = settings.home / "eval-indexes" / key[:16]
    if not rebuild:
        try:
            read_manifest(root)
            return EvalIndex(root, key, found.files, built=False, unsupported=len(found.unsupported))
        except (IndexNotFound, IndexCorrupt):
            pass  # not built yet, or a damaged cache: build it
    report = make_ingestor(settings, embedder, index_dir=root).ingest(
        list(paths), rebuild=True, on_plan=on_plan, progress=progress
    )
    return EvalIndex(root, key, found.files, built=True, seconds=report.seconds, unsupported=len(found.unsupported))
