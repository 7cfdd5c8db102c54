"""Plain-text documents typeset as laid-out PDFs, so the eval can ask the same
questions of the same text as a reader would get it from a report's PDF.

    python -m docqa.eval.typeset data/report/ --out typeset/ [--columns 2] [--scan/--no-scan] [--dpi 150]

Each ``.txt`` / ``.md`` source becomes ``<stem>.pdf``: A4, two columns (or
``--columns N``), the document title across the top of page 1 and as a running
header on every page, a page number in the footer ("— 3 —"), headings larger
and bold, body text justified at 10.5 pt with CJK line breaking, and runs of
statistic lines (a figure line such as "134个，占所有获奖项目70%" followed by
its short label line) set as a ruled table with a header row (``blocks.py``, ``layout.py``).
Unless ``--no-scan``, each also becomes ``<stem>-scan.pdf``, the same pages as
images with no text layer (``scan.py``).
The collection settings and metadata sidecars are copied beside the outputs,
so titles and refusal wording stay the same.  The same input always gives a
byte-identical PDF (reportlab's ``invariant``): eval indexes are cached by
content hash.

``docqa eval --gate`` evaluates the bundled question set over the bundled
report typeset this way (``corpus_rendering``: made once under
``$DOCQA_HOME/eval-corpora/<key>/``).  The layout rules read the text only,
never the question set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from docqa.errors import DocumentError
from docqa.eval.blocks import Block, parse, plain

SOURCES = (".txt", ".md")
CONFIG_NAME = "collection.toml"  # the collection settings DocQA reads beside a corpus
COLUMNS = 2
DPI = 150
RENDERINGS = ("pdf", "scan")  # what corpus_rendering() makes
CODE = ("typeset.py", "blocks.py", "layout.py", "scan.py")  # what shapes the renderings


def _setting(path: Path, read) -> dict:
    try:
        data = read(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as exc:  # JSON and TOML errors are ValueErrors
        raise DocumentError(f"{path}: cannot read it ({exc}); fix or remove it") from exc
    return data if isinstance(data, dict) else {}


def title_of(src: Path, blocks: list[Block]) -> str:
    """The sidecar's title, else the collection's, else the first heading, else the file name."""
    for path, read in ((src.with_name(src.name + ".meta.json"), json.loads), (src.parent / CONFIG_NAME, tomllib.loads)):
        title = _setting(path, read).get("title") if path.is_file() else None
        if isinstance(title, str) and title.strip():
            return title.strip()
    first = next((b.text for b in blocks if b.kind in ("heading", "subheading")), "")
    return plain(first) or src.stem


def typeset(src: Path, out_dir: Path, columns: int = COLUMNS) -> Path:
    """Write ``out_dir/<stem>.pdf`` (and copy the sidecars beside it); return its path."""
    from docqa.eval.layout import build_pdf

    src = Path(src)
    if src.suffix.lower() not in SOURCES:
        raise DocumentError(f"{src}: only .txt and .md files can be typeset; convert it to text first")
    try:
        text = src.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise DocumentError(f"{src}: cannot read it as UTF-8 text ({exc})") from exc
    blocks = parse(text)
    if not blocks:
        raise DocumentError(f"{src}: no text to typeset")
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / f"{src.stem}.pdf"
    build_pdf(blocks, title_of(src, blocks), pdf, columns)
    copy_sidecars(src, pdf)
    return pdf


def scan(src: Path, pdf: Path, out: Path, dpi: int = DPI) -> Path:
    """Write ``out``, a scan of the typeset ``pdf`` of ``src`` (with its sidecars)."""
    from docqa.eval.scan import scan_pdf

    out.parent.mkdir(parents=True, exist_ok=True)
    scan_pdf(pdf, out, dpi)
    copy_sidecars(src, out)
    return out


def copy_sidecars(src: Path, out: Path) -> None:
    """``<src>.meta.json`` as ``<out>.meta.json``, and the collection settings."""
    side = src.with_name(src.name + ".meta.json")
    if side.is_file():
        shutil.copyfile(side, out.with_name(out.name + ".meta.json"))
    config = src.parent / CONFIG_NAME
    if config.is_file():
        shutil.copyfile(config, out.parent / CONFIG_NAME)


def sources(paths: list[Path]) -> list[Path]:
    """The files named, and the .txt / .md files in the directories named."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix.lower() in SOURCES and not f.name.startswith("."))
        elif p.is_file():
            files.append(p)
        else:
            raise DocumentError(f"{p}: no such file or directory; check the path")
    if not files:
        raise DocumentError(f"no .txt or .md files in {', '.join(map(str, paths))}")
    stems = [f.stem for f in files]
    if len(set(stems)) < len(stems):
        twice = sorted({s for s in stems if stems.count(s) > 1})
        raise DocumentError(f"two sources would both be written as {twice[0]}.pdf; typeset them into different directories")
    return files


def typeset_all(paths: list[Path], out_dir: Path, columns: int = COLUMNS, scanned: bool = True, dpi: int = DPI) -> list[Path]:
    """Every source typeset into ``out_dir`` (and scanned, as ``<stem>-scan.pdf``); the paths written."""
    written = []
    for src in sources(paths):
        pdf = typeset(src, out_dir, columns)
        written.append(pdf)
        if scanned:
            written.append(scan(src, pdf, out_dir / f"{src.stem}-scan.pdf", dpi))
    return written


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def renderings_key(files: list[Path], columns: int = COLUMNS, dpi: int = DPI) -> str:
    """sha256 over the sources, their sidecars and collection settings, the options,
    this code and the versions of the libraries that draw the pages."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return ""

    entries = []
    for f in files:
        side = f.with_name(f.name + ".meta.json")
        config = f.parent / CONFIG_NAME
        entries.append([f.name, _sha(f), _sha(side) if side.is_file() else "", _sha(config) if config.is_file() else ""])
    here = Path(__file__).resolve().parent
    payload = {
        "files": sorted(entries),
        "options": {"columns": columns, "dpi": dpi},
        "code": [[name, _sha(here / name)] for name in CODE],
        "libraries": {name: installed(name) for name in ("reportlab", "pypdfium2", "pillow", "numpy")},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def corpus_rendering(paths: list[Path], root: Path, name: str, columns: int = COLUMNS, dpi: int = DPI) -> Path:
    """The corpus typeset (``name`` "pdf") or typeset and scanned ("scan") into
    ``root/<key>/<name>/``, a corpus directory with the collection settings and
    sidecars; made once and reused while the sources, the options and this code
    are unchanged."""
    if name not in RENDERINGS:
        raise ValueError(f"unknown rendering {name!r}; choose one of {', '.join(RENDERINGS)}")
    files = sources(paths)
    done = root / renderings_key(files, columns, dpi)[:16] / name
    if done.is_dir():
        return done
    pdfs = corpus_rendering(paths, root, "pdf", columns, dpi) if name == "scan" else None
    tmp = done.with_name(f".{name}.{os.getpid()}.tmp")  # written in full, then renamed
    shutil.rmtree(tmp, ignore_errors=True)
    for src in files:
        if pdfs is None:
            typeset(src, tmp, columns)
        else:
            scan(src, pdfs / f"{src.stem}.pdf", tmp / f"{src.stem}-scan.pdf", dpi)
    try:
        tmp.rename(done)
    except OSError:  # another run made it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        if not done.is_dir():
            raise
    return done


def typeset_command(
    paths: Annotated[list[Path], typer.Argument(metavar="SRC...", help=".txt / .md files, or directories of them.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    columns: Annotated[int, typer.Option("--columns", min=1, max=4, help="Text columns per page.")] = COLUMNS,
    scanned: Annotated[bool, typer.Option("--scan/--no-scan", help="Also write <stem>-scan.pdf: the pages as images.")] = True,
    dpi: Annotated[int, typer.Option("--dpi", min=50, max=600, help="Resolution of the scan.")] = DPI,
) -> None:
    """Typeset documents as multi-column PDFs (and scans of them) to evaluate with `docqa eval --corpus`."""
    from docqa.eval.layout import page_count

    for path in typeset_all(paths, out, columns, scanned, dpi):
        typer.echo(f"wrote {path} ({page_count(path)} pages)")


def main() -> None:
    """``python -m docqa.eval.typeset``: a bad input is one line on stderr and exit code 2."""
    import sys

    import click

    app = typer.Typer(add_completion=False)
    app.command()(typeset_command)
    try:
        app(prog_name="python -m docqa.eval.typeset", standalone_mode=False)
    except DocumentError as exc:
        typer.echo(f"typeset: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.ClickException as exc:  # usage errors
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
