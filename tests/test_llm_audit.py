"""The eval's LLM figures and the after-the-fact number audit: pure functions
over answer contracts."""

from __future__ import annotations

from docqa.eval.metrics import llm_summary
from docqa.llm.audit import main, unsupported_numbers

PASSAGE = {
    "doc": "r.txt",
    "start": 0,
    "end": 40,
    "title": "报告",
    "section": "机构",
    "text": "累计备案新型研发机构36家，2024年新增5家。",
}


def answer(text: str, quote: str = "累计备案新型研发机构36家", refused: bool = False) -> dict:
    return {"answer": text, "refused": refused, "passages": [PASSAGE],
            "citations": [{"n": 1, "doc": "r.txt", "start": 0, "end": 14, "quote": quote}]}  # fmt: skip


def test_audit_finds_numbers_no_cited_passage_holds():
    assert unsupported_numbers(answer("累计备案36家[1]。2024年新增5家[1]。")) == []
    assert unsupported_numbers(answer("累计备案37家[1]。")) == [("37", "累计备案37家[1]。")]
    assert unsupported_numbers(answer("累计备案6家[1]。")) == [("6", "累计备案6家[1]。")]  # 36 does not hold 6
    assert unsupported_numbers(answer("共有99家。")) == [("99", "共有99家。")]  # uncited
    assert unsupported_numbers(answer("没有。", refused=True)) == []
    assert unsupported_numbers(answer("累计备案新型研发机构36家。[1] 2024年新增5家；[1]")) == []  # extractive style
    assert unsupported_numbers(answer("报告提到“2024年新增5家。”[1]。")) == []  # the marker after a closing quote
    assert unsupported_numbers(answer("报告提到“2024年新增7家。”[1]。")) == [("7", "报告提到“2024年新增7家。”[1]")]


def test_audit_command(tmp_path, capsys):
    import json

    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"id": "q1", **answer("累计备案37家[1]。")}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main([str(f)]) == 1
    out = capsys.readouterr().out
    assert "q1: 37 not in the cited passages" in out and "1 answers (1 not refused); 1 with a number" in out


def test_audit_of_a_missing_or_broken_file_is_one_error_line(tmp_path, capsys):
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read" in err and "Traceback" not in err
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"answer": "x"}\nnot json\n', encoding="utf-8")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "p.jsonl:2 is not JSON" in err


def test_llm_summary_counts_what_the_guard_did():
    guard = {"changed": True, "removed": [{"text": "x", "reason": "y"}], "dropped_markers": [9], "recited": 1, "fallback": None}
    answers = [
        {"llm": {"asked": True, "tokens_per_s": 6.0, "first_token_ms": 100.0, "completion_tokens": 20, "guard": guard}},
        {"llm": {"asked": True, "tokens_per_s": 8.0, "first_token_ms": 300.0, "completion_tokens": 10,
                 "guard": {"changed": False, "removed": [], "dropped_markers": [], "recited": 0, "fallback": None}}},
        {"llm": {"asked": True, "error": "down", "completion_tokens": 0}},
        {"llm": {"asked": False}},
    ]  # fmt: skip
    s = llm_summary(answers)
    assert s == {"asked": 3, "guard_changed": 1, "guard_removed": 1, "sentences_removed": 1, "markers_dropped": 1,
                 "recited": 1, "repeated": 0, "fallbacks": 0, "unavailable": 1, "tokens_per_s": 7.0, "first_token_ms": 200.0,
                 "completion_tokens": 30}  # fmt: skip
    assert llm_summary([{"answer": "x"}]) is None
