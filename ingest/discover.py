"""Turn the paths a user names into the files to ingest."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docqa.collection import CONFIG_NAME
from docqa.errors import DocumentError
from docqa.ingest.loaders import KINDS, kind_of


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    roots: list[Path] = field(default_factory=list)  # directories named (documents under them are synced)
    unsupported: list[Path] = field(default_factory=list)  # skipped inside directories
    settings: list[Path] = field(default_factory=list)  # collection.toml at the top of a directory named


def discover(paths: Sequence[str | Path]) -> Discovery:
    """Files named directly must exist and be supported; directories are walked
    recursively (hidden entries skipped) and unsupported files in them counted."""
    if not paths:
        raise DocumentError("no paths given; name files or directories to ingest")
    found = Discovery()
    seen: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise DocumentError(f"{p}: no such file or directory; check the path")
        if p.is_dir():
            found.roots.append(p.resolve())
            if (p / CONFIG_NAME).is_file():
                found.settings.append(p / CONFIG_NAME)
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    f = Path(dirpath) / name
                    if name.startswith(".") or name.endswith(".meta.json") or name == CONFIG_NAME:
                        continue
                    if f.suffix.lower() not in KINDS:
                        found.unsupported.append(f)
                        continue
                    r = f.resolve()
                    if r not in seen:
                        seen.add(r)
                        found.files.append(f)
        else:
            kind_of(p)  # raises UnsupportedFile
            r = p.resolve()
            if r not in seen:
                seen.add(r)
                found.files.append(p)
    return found
