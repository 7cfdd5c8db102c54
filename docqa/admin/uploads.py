"""Checking a file an administrator uploads before it joins a collection's
documents: a safe file name, the type decided by the content (and agreeing
with the name), a size limit enforced while reading, Word files free of zip
bombs.  ``store_upload`` does all of it and leaves either the finished file
or nothing in the destination folder.

The ingest pipeline still reads the stored file by its extension
(``docqa.ingest.loaders.KINDS``); the checks here make sure that extension is
true before the file gets there."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from docqa.errors import BadRequest, CorruptDocument, EmptyDocument, StoreFailed, TooLarge, UnsupportedFile
from docqa.settings import Settings

MB = 1024 * 1024
BLOCK = MB  # read and written in blocks of this size
HEAD = 4096  # bytes the type is decided from
PDF_WINDOW = 1024  # "%PDF-" must start within these first bytes (as PDF readers allow)
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # UTF-8; file systems allow 255 bytes per name
TEMP_PREFIX = ".upload-"  # hidden: ingest skips dot files, and safe names never start with a dot

# Word files: limits that no real document reaches and every zip bomb does.
MAX_DOCX_MEMBERS = 2000
MAX_DOCX_RATIO = 100  # uncompressed / compressed size of one member …
RATIO_MIN_SIZE = MB  # … checked for members larger than this
MIN_UNPACKED = 100 * MB  # unpacked limit: 10 × the upload limit, at least this

KINDS = ("txt", "md", "html", "pdf", "docx")
# Extension -> the content types a file so named may have.
EXTENSIONS: Mapping[str, tuple[str, ...]] = {
    ".txt": ("txt",),
    ".text": ("txt",),
    ".md": ("md", "txt"),
    ".markdown": ("md", "txt"),
    ".html": ("html", "txt"),
    ".htm": ("html", "txt"),
    ".pdf": ("pdf",),
    ".docx": ("docx",),
}
ACCEPTED = ", ".join(sorted(EXTENSIONS))
KIND_NAMES = {"pdf": "a PDF", "docx": "a Word document", "html": "an HTML page", "md": "Markdown", "txt": "plain text"}
KIND_EXTENSION = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "md": ".md", "txt": ".txt"}
# What to do with files people often try to upload instead.
EXTENSION_HINTS = {
    ".doc": "open it in Word and save it as .docx",
    ".rtf": "open it in Word and save it as .docx",
    ".odt": "save it as .docx from LibreOffice",
    ".pages": "export it as .docx or .pdf from Pages",
    ".zip": "unpack it and upload the documents in it one by one",
}
# Leading bytes of formats DocQA cannot read, and what to do about them.
MAGIC_HINTS = (
    (
        b"\xd0\xcf\x11\xe0",
        "an old Office file (.doc/.xls) or a password-protected document; save it as .docx without a password",
    ),
    (b"{\\rtf", "an RTF file; open it in Word and save it as .docx"),
    (b"\x89PNG", "an image; DocQA reads text documents — put the image in a PDF"),
    (b"\xff\xd8\xff", "an image; DocQA reads text documents — put the image in a PDF"),
)

_BIDI_CONTROLS = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A whole HTML document: a doctype or <html> first (after an XML declaration or comments).
_HTML_DOCUMENT = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
# HTML elements that plain text and Markdown rarely start with.
_HTML_TAG = re.compile(r"<(?:head|body|p|div|table|h[1-6]|title|meta|article|section)[\s>/]", re.I)
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")  # tab, newlines, form feed, ESC allowed
MAX_CONTROL_SHARE = 0.01  # more control characters than this: binary, not text


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(settings.max_upload_mb * MB)

    @property
    def max_unpacked(self) -> int:
        """What a Word file may unpack to: 10 × the upload limit, at least 100 MB."""
        return unpacked_limit(self.max_bytes)


@dataclass(frozen=True)
class StoredUpload:
    path: Path  # dest_dir / name
    name: str  # the safe file name
    kind: str  # one of KINDS, by content
    size: int  # bytes
    sha256: str  # hex


def unpacked_limit(max_bytes: int) -> int:
    return max(10 * max_bytes, MIN_UNPACKED)


def describe_size(n: int) -> str:
    if n >= MB and n % MB == 0:
        return f"{n // MB} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n} bytes"


def safe_name(name: str) -> str:
    """The last path component of ``name`` (``/`` and ``\\`` both separate),
    in NFC, without control characters, leading dots or trailing dots and
    spaces, at most 120 characters / 240 UTF-8 bytes with the extension kept."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    base = "".join(c for c in base if unicodedata.category(c) != "Cc" and c not in _BIDI_CONTROLS)
    base = base.strip().lstrip(".").strip().rstrip(". ")
    if not base:
        raise BadRequest(f"file name {name!r} has no usable name in it; give a plain file name such as report.pdf")
    stem, dot, ext = base.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = base, ""
    suffix = f".{ext}" if ext else ""
    while len(stem + suffix) > MAX_NAME_CHARS or len((stem + suffix).encode()) > MAX_NAME_BYTES:
        if not stem:
            raise BadRequest(f"file name {name!r} is too long; give a plain file name such as report.pdf")
        stem = stem[:-1]
    stem = stem.rstrip(". ")
    if not stem:
        raise BadRequest(f"file name {name!r} has no name before the extension; give a plain file name such as report.pdf")
    return stem + suffix


def extension(name: str) -> str:
    return Path(name).suffix.lower()


def check_extension(name: str) -> str:
    """The extension of ``name`` if DocQA accepts it, else ``UnsupportedFile``."""
    ext = extension(name)
    if ext in EXTENSIONS:
        return ext
    hint = EXTENSION_HINTS.get(ext)
    what = f"{ext} files" if ext else "files without an extension"
    raise UnsupportedFile(
        f"{name}: DocQA does not read {what}; " + (f"{hint}, or upload " if hint else "upload ") + f"one of {ACCEPTED}"
    )


def sniff(head: bytes, name: str) -> str:
    """The type of a document from its first bytes: "pdf", "docx", "html",
    "md" or "txt".  ``name`` only decides between Markdown and plain text, and
    whether scattered HTML tags in a .txt/.md file make it HTML (they don't)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"  # a ZIP: check_docx looks inside
    text = _decode_text(head)
    if text is None and b"%PDF-" in head[: PDF_WINDOW + 5]:
        return "pdf"  # junk before the header, as PDF readers allow (a text file merely mentioning %PDF- stays text)
    if text is None:
        for magic, hint in MAGIC_HINTS:
            if head.startswith(magic):
                raise UnsupportedFile(f"{name} is {hint}; DocQA reads txt, md, html, pdf and docx")
        raise UnsupportedFile(
            f"{name} is neither text (UTF-8 or GB18030) nor a PDF or Word document by its content; "
            "DocQA reads txt, md, html, pdf and docx — convert it to one of them, or re-save text as UTF-8"
        )
    ext = extension(name)
    textual_name = ext in EXTENSIONS and "html" not in EXTENSIONS[ext]
    if _HTML_DOCUMENT.match(text) or (not textual_name and _HTML_TAG.search(text[:PDF_WINDOW])):
        return "html"
    if ext in (".md", ".markdown"):
        return "md"
    return "txt"


def _decode_text(head: bytes) -> str | None:
    """The text ``head`` starts with (UTF-8 with or without a BOM, UTF-16 with a
    BOM, GB18030), or None for binary content.  A character cut at the end of
    the head is not held against it."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in head:
        return None
    else:
        encodings = ("utf-8-sig", "gb18030")
    for enc in encodings:
        try:
            text = codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        if len(_TEXT_CONTROLS.findall(text)) > MAX_CONTROL_SHARE * max(len(text), 1):
            return None
        return text
    return None


def check_name_matches(kind: str, name: str) -> None:
    """The extension of ``name`` must fit content of type ``kind``."""
    ext = check_extension(name)
    if kind in EXTENSIONS[ext]:
        return
    stem = name[: -len(ext)] if ext else name
    proper = stem + KIND_EXTENSION[kind]
    raise UnsupportedFile(
        f"{name} is {KIND_NAMES[kind]} by its content but named {ext}; rename it to {proper} and upload it again"
    )


def check_docx(path: Path, max_unpacked: int, name: str | None = None) -> None:
    """A .docx must be a ZIP with ``word/document.xml`` whose parts unpack to a
    sane size: at most ``max_unpacked`` bytes in all, no more than 2,000 parts,
    no part over 1 MB compressed more than 100 to 1 (zip bombs).  Messages call
    the file ``name`` (default: the file's own name)."""
    name = name or Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise CorruptDocument(
            f"{name} is not a readable Word file (damaged ZIP: {exc}); open it in Word, save it again and upload the new copy"
        ) from exc
    if len(members) > MAX_DOCX_MEMBERS:
        raise CorruptDocument(
            f"{name} holds {len(members)} parts, more than the {MAX_DOCX_MEMBERS} a Word file can plausibly have; "
            "it is refused as a possible zip bomb — open it in Word, save it again, or convert it to PDF"
        )
    if not any(m.filename == "word/document.xml" for m in members):
        raise CorruptDocument(
            f"{name} is a ZIP file without word/document.xml, so not a Word document (an .xlsx, .odt or .zip renamed?); "
            "save it from Word as .docx and upload it again"
        )
    for m in members:
        if m.file_size > RATIO_MIN_SIZE and m.file_size > MAX_DOCX_RATIO * max(m.compress_size, 1):
            raise CorruptDocument(
                f"{name}: its part {m.filename} unpacks from {describe_size(m.compress_size)} to "
                f"{describe_size(m.file_size)} (more than {MAX_DOCX_RATIO} to 1); it is refused as a possible zip bomb — "
                "open it in Word, save it again, or convert it to PDF"
            )
    total = sum(m.file_size for m in members)
    if total > max_unpacked:
        raise TooLarge(
            f"{name} unpacks to {describe_size(total)}, more than the {describe_size(max_unpacked)} allowed for a Word file "
            "(10 × DOCQA_MAX_UPLOAD_MB); remove large images from it, split it, or raise the limit"
        )


def store_upload(stream: BinaryIO, name: str, dest_dir: Path, max_bytes: int) -> StoredUpload:
    """Read ``stream`` (the uploaded file called ``name``) into
    ``dest_dir/safe_name(name)`` after checking it; on any failure nothing is
    left in ``dest_dir``.  An existing file of that name is replaced (an update)."""
    clean = safe_name(name)
    check_extension(clean)  # before reading: an .exe is refused without reading it
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=dest_dir)
    except OSError as exc:
        raise _store_failed(clean, dest_dir, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size, head, digest = _copy(stream, out, clean, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise EmptyDocument(f"{clean} is empty (0 bytes); choose the file again — the upload may have been interrupted")
        kind = sniff(head, clean)
        check_name_matches(kind, clean)
        if kind == "docx":
            check_docx(tmp, unpacked_limit(max_bytes), name=clean)
        target = dest_dir / clean
        os.replace(tmp, target)
    except OSError as exc:  # the disk, not the upload: full, read-only, a folder of that name
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise _store_failed(clean, dest_dir, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return StoredUpload(path=target, name=clean, kind=kind, size=size, sha256=digest)


def _store_failed(name: str, dest_dir: Path, exc: OSError) -> StoreFailed:
    return StoreFailed(
        f"cannot store {name} in {dest_dir} ({exc.strerror or exc}); make the folder writable and free some disk space, "
        "then upload it again"
    )


def _copy(stream: BinaryIO, out: BinaryIO, name: str, max_bytes: int) -> tuple[int, bytes, str]:
    """Copy in blocks, stopping as soon as more than ``max_bytes`` arrived;
    (size, first HEAD bytes, sha256 hex)."""
    size = 0
    head = b""
    digest = hashlib.sha256()
    while block := stream.read(BLOCK):
        size += len(block)
        if size > max_bytes:
            raise TooLarge(
                f"{name} is larger than the {describe_size(max_bytes)} upload limit (DOCQA_MAX_UPLOAD_MB); "
                "split it or raise the limit"
            )
        if len(head) < HEAD:
            head += block[: HEAD - len(head)]
        digest.update(block)
        out.write(block)
    return size, head, digest.hexdigest()
