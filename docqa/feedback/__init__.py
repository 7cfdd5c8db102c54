"""Users' 👍 / 👎 on answers: the record, the SQLite store beside the index, and
the export of disliked answers as eval questions.  The HTTP endpoint is in
docqa/web/feedback_api.py, the ``docqa feedback`` commands in commands.py."""

from docqa.feedback.records import Counts, Feedback, FeedbackStats
from docqa.feedback.store import FILE_NAME, FeedbackStore

__all__ = ["FILE_NAME", "Counts", "Feedback", "FeedbackStats", "FeedbackStore"]
