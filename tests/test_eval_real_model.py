"""A handful of bundled questions end to end with the real embedding model."""

from __future__ import annotations

import json

import pytest

from docqa.eval.questions import BUNDLED_QUESTIONS, load_questions
from docqa.eval.runner import Source, run_eval
from docqa.settings import BUNDLED_CORPUS

IDS = {"r001", "r004", "r015", "r093", "r100"}


@pytest.mark.model
def test_bundled_questions_end_to_end(settings, real_embedder, tmp_path):
    questions = [q for q in load_questions(BUNDLED_QUESTIONS) if q.id in IDS]
    assert len(questions) == len(IDS)
    result = run_eval(settings, questions, [BUNDLED_CORPUS], tmp_path / "out", Source("bundled"), Source("report"),
                      embedder=real_embedder, show_progress=False)  # fmt: skip
    s = result.summary
    assert s["questions"] == 5 and s["answerable"] + s["unanswerable"] == 5
    assert s["config"]["model"] == "multilingual-e5-small" and s["config"]["corpus"]["chunks"] > 5
    assert 0 < s["latency_ms"]["p50"] <= s["latency_ms"]["p95"]
    rows = {r["id"]: r for r in map(json.loads, result.paths["predictions"].read_text(encoding="utf-8").splitlines())}
    assert set(rows) == IDS
    # "第二批12家长三角创新联合体成立" is quoted nearly word for word by r001: its passage comes first.
    assert rows["r001"]["scores"]["rank"] == 1
    assert rows["r001"]["passages"][0]["title"] == "上海科技创新报告（节选）"
    html = result.paths["report"].read_text(encoding="utf-8")
    assert "DocQA evaluation" in html and "data:image/png;base64," in html
