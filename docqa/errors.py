"""The exceptions DocQA raises. Each message says what went wrong and how to fix it.

The CLI prints ``str(error)`` as one line on stderr and exits non-zero; the UI
shows it with ``gr.Error``; the HTTP API returns it with a 4xx/5xx status.
"""

from __future__ import annotations


class DocQAError(Exception):
    """Base class: a problem the user can fix."""

    exit_code = 1
    http_status = 500


class IndexNotFound(DocQAError):
    exit_code = 3
    http_status = 503


class IndexCorrupt(DocQAError):
    exit_code = 3
    http_status = 500


class ModelMismatch(DocQAError):
    exit_code = 3
    http_status = 500


class ModelUnavailable(DocQAError):
    exit_code = 4
    http_status = 500


class DocumentError(DocQAError):
    """A document could not be read: missing, unsupported, empty or corrupt."""

    exit_code = 2
    http_status = 400


class UnsupportedFile(DocumentError):
    pass


class EmptyDocument(DocumentError):
    pass


class CorruptDocument(DocumentError):
    pass


class BadRequest(DocQAError):
    """Bad parameters: an empty question, an absurd top-k, …"""

    exit_code = 2
    http_status = 422


class NotFound(DocQAError):
    """What was asked for is not in the index (a document, a page)."""

    exit_code = 2
    http_status = 404


class LLMError(DocQAError):
    """The configured LLM backend failed (unreachable, timed out, refused)."""

    exit_code = 5
    http_status = 502


class TemplateError(DocQAError):
    exit_code = 2


class FeedbackStoreError(DocQAError):
    """The feedback database cannot be read or written (damaged, locked, no permission)."""

    exit_code = 3
    http_status = 503


class AuditLogError(DocQAError):
    """The admin audit log cannot be read or written (damaged, locked, no permission)."""

    exit_code = 3
    http_status = 503


class StoreFailed(DocQAError):
    """A checked upload could not be written into the documents folder."""

    exit_code = 3
    http_status = 503


class RunnerClosed(DocQAError):
    """A background job was submitted after the server began to stop."""

    http_status = 503


class TooLarge(DocQAError):
    """An upload beyond the size limit."""

    exit_code = 2
    http_status = 413


class Unauthorized(DocQAError):
    """An admin request without the right token."""

    http_status = 401


class TooManyQuestions(DocQAError):
    """A client over its rate limit; ``retry_after``: seconds until it may ask again."""

    http_status = 429

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(DocQAError):
    """Every answer slot and every place in the queue is taken: try again shortly."""

    http_status = 503
    retry_after = 2  # seconds, sent as Retry-After
