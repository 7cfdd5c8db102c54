"""The backend of the admin pages: checking and storing uploaded documents
(uploads.py), the audit log of administrative actions (audit.py) and the
background jobs that ingest, delete and re-ingest (jobs.py).  No web code:
docqa/web builds the endpoints on top of these."""

from docqa.admin.audit import AUDIT_FILE, AuditEntry, AuditLog, AuditLogError
from docqa.admin.jobs import JOB_KINDS, Job, JobRunner, Progress, RunnerClosed
from docqa.admin.uploads import (
    ACCEPTED,
    StoredUpload,
    StoreFailed,
    TooLarge,
    UploadLimits,
    check_docx,
    check_extension,
    check_name_matches,
    safe_name,
    sniff,
    store_upload,
)

__all__ = [
    "ACCEPTED",
    "AUDIT_FILE",
    "JOB_KINDS",
    "AuditEntry",
    "AuditLog",
    "AuditLogError",
    "Job",
    "JobRunner",
    "Progress",
    "RunnerClosed",
    "StoreFailed",
    "StoredUpload",
    "TooLarge",
    "UploadLimits",
    "check_docx",
    "check_extension",
    "check_name_matches",
    "safe_name",
    "sniff",
    "store_upload",
]
