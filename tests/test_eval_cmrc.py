"""CMRC 2018 as an eval corpus and question set, on a tiny SQuAD-format file."""

from __future__ import annotations

import json
import sys

import pytest

from docqa.errors import DocumentError
from docqa.eval import cmrc
from docqa.settings import REPO_ROOT
from tests.fakes import use_embedder

TINY = {
    "version": "v1.0",
    "data": [
        {
            "id": "DEV_0",
            "title": "广茂铁路",
            "paragraphs": [
                {
                    "id": "DEV_0",
                    "context": "广茂铁路是中国广东省内的一条铁路。线路全长364.6公里，由三茂铁路股份有限公司管理运营。",
                    "qas": [
                        {"id": "DEV_0_QUERY_0", "question": "广茂铁路全长多少公里？",
                         "answers": [{"text": "364.6公里", "answer_start": 21}, {"text": "364.6公里", "answer_start": 21},
                                     {"text": "364.6", "answer_start": 21}]},
                        {"id": "DEV_0_QUERY_1", "question": "谁管理运营广茂铁路？",
                         "answers": [{"text": "三茂铁路股份有限公司", "answer_start": 999}]},
                    ],
                }
            ],
        },
        {
            "id": "DEV_1",
            "title": "锣鼓经",
            "paragraphs": [
                {
                    "id": "DEV_1",
                    "context": "锣鼓经是传统器乐及戏曲里面常用的打击乐记谱方法。常用的节奏型称为「锣鼓点」。",
                    "qas": [{"id": "DEV_1_QUERY_0", "question": "锣鼓经常用的节奏型称为什么？",
                             "answers": [{"text": "锣鼓点", "answer_start": 35}]}],
                }
            ],
        },
    ],
}  # fmt: skip


@pytest.fixture
def tiny_cmrc(tmp_path):
    p = tmp_path / "cmrc_tiny.json"
    p.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    return p


def test_default_path_is_beside_the_repository_not_the_cwd():
    assert cmrc.DEFAULT_PATH == REPO_ROOT.parent / "shared" / "benchmarks" / "cmrc2018" / "cmrc2018_dev.json"


@pytest.mark.parametrize(
    "context, answer, start, expected",
    [
        ("第一句。这是答案所在的句子，很长很长。下一句", "答案", 6, "这是答案所在的句子，很长很长。"),
        ("第一句。这是答案。下一句", "是答案。", 5, "这是答案。"),  # the answer ends the sentence
        ("第一句。这是答案。下一句", "答案", 99, "这是答案。"),  # a wrong offset: found by search
        ("第一句。", "不在", 0, "不在"),  # not in the context: the answer itself
        ("一" * 40 + "答案" + "二" * 40, "答案", 40, "一" * 20 + "答案" + "二" * 20),  # at most 20 either side
    ],
)
def test_evidence_is_the_answer_in_its_sentence(context, answer, start, expected):
    assert cmrc.evidence_for(context, answer, start) == expected


def test_questions_have_one_fact_of_distinct_gold_answers():
    qs = cmrc.questions_from(TINY)
    assert [q.id for q in qs] == ["DEV_0_QUERY_0", "DEV_0_QUERY_1", "DEV_1_QUERY_0"]
    assert qs[0].answers == [["364.6公里", "364.6"]]
    assert qs[0].evidence == ["线路全长364.6公里，由三茂铁路股份有限公司管理运营。"]
    assert qs[1].evidence == ["线路全长364.6公里，由三茂铁路股份有限公司管理运营。"]  # found by search
    assert all(q.answerable and q.type == "cmrc" for q in qs)


def test_load_writes_the_corpus_once_under_docqa_home(settings, tiny_cmrc):
    bench = cmrc.load(settings, tiny_cmrc)
    assert bench.corpus_dir.parent == settings.home / "eval-corpora"
    assert bench.passages == 2 and len(bench.questions) == 3
    assert (bench.corpus_dir / "DEV_1.txt").read_text(encoding="utf-8") == TINY["data"][1]["paragraphs"][0]["context"]
    assert json.loads((bench.corpus_dir / "DEV_1.txt.meta.json").read_text(encoding="utf-8")) == {"title": "锣鼓经"}
    mtime = (bench.corpus_dir / "DEV_0.txt").stat().st_mtime_ns
    again = cmrc.load(settings, tiny_cmrc)
    assert again.corpus_dir == bench.corpus_dir
    assert (bench.corpus_dir / "DEV_0.txt").stat().st_mtime_ns == mtime  # reused, not rewritten
    assert not list(bench.corpus_dir.parent.glob(".tmp-*"))


def test_missing_or_malformed_benchmark_says_what_to_do(settings, tmp_path):
    with pytest.raises(DocumentError, match="CMRC 2018 dev set not found; pass its location with --benchmark-path"):
        cmrc.load(settings, tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"paragraphs": [{"context": "x"}]}]}', encoding="utf-8")
    with pytest.raises(DocumentError, match="not a SQuAD-format CMRC 2018 file"):
        cmrc.load(settings, bad)


def test_benchmark_run_through_the_cli(monkeypatch, capsys, fake_embedder, tiny_cmrc, tmp_path):
    from docqa.eval.__main__ import main

    use_embedder(monkeypatch, fake_embedder)
    out = tmp_path / "out"
    argv = ["docqa eval", "--benchmark", "cmrc2018", "--benchmark-path", str(tiny_cmrc), "--limit", "2",
            "--out", str(out), "--no-progress"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    main()
    stdout = capsys.readouterr().out
    assert stdout.startswith("cmrc2018: 2 questions over cmrc2018 (2 passages);")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["questions"] == 2 and set(summary["by_type"]) == {"cmrc"}
    assert summary["config"]["questions"]["total"] == 3 and summary["config"]["questions"]["limit"] == 2
    assert summary["config"]["corpus"]["documents"] == 2
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    titles = {p["title"] for r in rows for p in r["passages"]}
    assert titles <= {"广茂铁路", "锣鼓经"} and titles  # the sidecars gave the passages their article titles


def test_other_questions_asked_of_the_benchmark_corpus(monkeypatch, capsys, fake_embedder, tiny_cmrc, tmp_path):
    """``--questions`` with ``--benchmark`` asks a file's questions (an English
    translation of some, say) of the benchmark's corpus."""
    from docqa.eval.__main__ import main

    use_embedder(monkeypatch, fake_embedder)
    qfile = tmp_path / "english.jsonl"
    row = {"id": "DEV_0_QUERY_0", "question": "How long is the Guangmao Railway?", "answers": [["364.6公里"]],
           "evidence": ["广茂铁路"], "answerable": True, "type": "cmrc", "source": "DEV_0.txt"}  # fmt: skip
    qfile.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["docqa eval", "--benchmark", "cmrc2018", "--benchmark-path", str(tiny_cmrc), "--questions", str(qfile),
            "--out", str(out), "--no-progress"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    main()
    assert capsys.readouterr().out.startswith("english: 1 questions over cmrc2018 (2 passages);")
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in rows] == ["How long is the Guangmao Railway?"]
