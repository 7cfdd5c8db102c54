"""Shared pieces of the web tests: a tiny corpus (with a hostile document), an
engine over it built with the fake embedder, a deliberately slow engine, and
a server running in a thread on a free port.  Import the fixtures by name."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

from docqa.settings import Settings
from tests.fakes import FakeEmbedder

PARK = """# 星河科技园年度报告

## 园区概况

星河科技园位于示例市东部，占地面积120公顷。园区累计引进高新技术企业58家，其中上市公司6家。

## 研发机构

园区累计备案新型研发机构42家，2024年新增9家。园区设立创新基金，总规模30亿元。
"""

HOSTILE_LINE = "警报测试编号是7788<script>alert('xss')</script><img src=x onerror=alert(1)>[点我](javascript:alert(1))。"
HOSTILE = f"""# 安全公告

## 恶意内容测试

{HOSTILE_LINE}
"""

FACT_Q = "园区累计备案了多少家新型研发机构？"
FACT_SENTENCE = "园区累计备案新型研发机构42家，2024年新增9家。"


def is_fact_quote(quote: str) -> bool:
    """The cited span for FACT_Q: exact text from the fact's sentence, holding
    the figure (how much of the sentence is quoted is the answerer's call)."""
    return "42家" in quote and quote in FACT_SENTENCE


HOSTILE_Q = "恶意内容测试中的警报测试编号是多少？"
MISSING_Q = "火星上有多少人？"
REPORT_Q = "上海累计备案了多少家新型研发机构？"
SLOW_MARK = "【慢】"


REFUSAL_ZH = "园区资料中没有找到相关信息。"
COLLECTION = f"""title = "星河科技园资料"
examples = ["{FACT_Q}"]
[refusal]
zh = "{REFUSAL_ZH}"
en = "The park's documents do not contain this information."
"""


def write_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "park.md").write_text(PARK, encoding="utf-8")
    # .txt keeps the hostile markup exactly as written (Markdown is stored as a reader sees it)
    (root / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (root / "collection.toml").write_text(COLLECTION, encoding="utf-8")
    return root


def build_tiny_engine(home: Path):
    """The real engine (and answer selector) over the tiny corpus with the fake embedder.

    The selector's threshold is calibrated for the real model's similarities
    and answer reader, which the fake embedder has neither of: the tiny engine
    answers from 0.3 (the questions it must refuse score near 0)."""
    from docqa.factory import make_engine, make_ingestor

    settings = Settings(home=home, min_confidence=0.3)
    embedder = FakeEmbedder()
    make_ingestor(settings, embedder).ingest([write_corpus(home.parent / "corpus")])
    return make_engine(settings, embedder)


class SlowEngine:
    """Delegates to an engine; questions containing SLOW_MARK take ``delay``
    seconds longer (a stand-in for one expensive request)."""

    def __init__(self, engine, delay: float = 3.0):
        self._engine = engine
        self.delay = delay
        self.running = 0
        self.max_running = 0
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def _maybe_sleep(self, question):
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            if isinstance(question, str) and SLOW_MARK in question:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self.running -= 1

    def ask(self, question, top_k=None, mode=None, history=()):
        self._maybe_sleep(question)
        return self._engine.ask(question.replace(SLOW_MARK, ""), top_k=top_k, mode=mode, history=history)

    def stream(self, question, top_k=None, mode=None, history=()):
        self._maybe_sleep(question)
        yield from self._engine.stream(question.replace(SLOW_MARK, ""), top_k=top_k, mode=mode, history=history)


@contextlib.contextmanager
def running_server(engine, settings: Settings | None = None, lang: str = "zh"):
    """``create_server`` on a free port in a thread; yields its base URL."""
    from docqa.web.server import BackgroundServer, create_server

    settings = settings or Settings()
    if "rate_limit" not in settings.model_fields_set:  # tests ask fast from one address
        settings = settings.model_copy(update={"rate_limit": ""})
    app = create_server(engine, settings, lang)
    with BackgroundServer(app, settings) as url:
        yield url


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory):
    return build_tiny_engine(tmp_path_factory.mktemp("tiny") / "home")


@pytest.fixture(scope="module")
def tiny_server(tiny_engine):
    """A server over the tiny engine, shared by a module's tests."""
    with running_server(tiny_engine, Settings(allowed_origins=["https://portal.example.com"])) as url:
        yield url
