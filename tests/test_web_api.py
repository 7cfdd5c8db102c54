"""The JSON API (``POST /api/ask``, ``GET /healthz``), the widget routes and
the security headers, over a real server with the fake-embedder engine."""

from __future__ import annotations

import httpx
import pytest

from docqa.settings import Settings
from tests.test_web_support import (  # noqa: F401  (fixtures)
    FACT_Q,
    HOSTILE_LINE,
    HOSTILE_Q,
    MISSING_Q,
    is_fact_quote,
    running_server,
    tiny_engine,
    tiny_server,
)

CONTRACT = {
    "question",
    "resolved_question",
    "answer",
    "refused",
    "citations",
    "passages",
    "timings_ms",
    "mode",
    "notice",
    "confidence",
}


def test_healthz_reports_the_index(tiny_server):
    r = httpx.get(f"{tiny_server}/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["documents"] == 2 and body["chunks"] == 3
    assert {"model", "dim", "built_at", "generation"} <= set(body)


def test_ask_returns_the_answer_contract_with_citations(tiny_server):
    r = httpx.post(f"{tiny_server}/api/ask", json={"question": FACT_Q, "top_k": 2})
    assert r.status_code == 200, r.text
    a = r.json()
    assert set(a) == CONTRACT
    assert a["refused"] is False and "42家" in a["answer"] and "[1]" in a["answer"]
    assert len(a["passages"]) == 2
    [c] = a["citations"]
    assert is_fact_quote(c["quote"]) and c["doc"].endswith("park.md")
    p = next(p for p in a["passages"] if p["doc"] == c["doc"] and p["start"] <= c["start"] and c["end"] <= p["end"])
    assert p["text"][c["start"] - p["start"] :][: len(c["quote"])] == c["quote"]


def test_ask_returns_exactly_what_the_engine_answers(tiny_engine, tiny_server):
    """The API's JSON is ``Answer.to_dict()``, key for key (the response model
    documents the contract; it does not reshape it), and the model describes it."""
    from docqa.web.schema import AnswerContract

    for question in (FACT_Q, MISSING_Q, HOSTILE_Q):
        body = httpx.post(f"{tiny_server}/api/ask", json={"question": question, "top_k": 2}).json()
        expected = tiny_engine.ask(question, top_k=2).to_dict()
        AnswerContract.model_validate(body)  # no field the schema lacks (it forbids extras)
        assert list(body) == list(expected)
        assert set(body.pop("timings_ms")) == set(expected.pop("timings_ms"))  # times differ between two runs
        assert body == expected


def test_openapi_documents_the_request_and_the_answer_contract(tiny_server):
    spec = httpx.get(f"{tiny_server}/api/openapi.json").json()
    ask = spec["paths"]["/api/ask"]["post"]
    request = ask["requestBody"]["content"]["application/json"]["schema"]
    assert set(request["properties"]) == {"question", "top_k", "mode", "history", "collection"}
    assert request["required"] == ["question"] and request["additionalProperties"] is False
    answer_ref = ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    answer = spec["components"]["schemas"][answer_ref.rsplit("/", 1)[1]]
    assert set(answer["properties"]) == CONTRACT | {"llm", "second_opinion"}
    assert set(answer["required"]) == CONTRACT  # llm: LLM mode only
    citation = spec["components"]["schemas"]["Citation"]
    assert set(citation["properties"]) == {
        "n",
        "doc",
        "title",
        "section",
        "start",
        "end",
        "page",
        "quote",
        "boxes",
        "low_confidence",
    }
    assert "score" in spec["components"]["schemas"]["Passage"]["properties"]
    error_ref = ask["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert set(spec["components"]["schemas"][error_ref.rsplit("/", 1)[1]]["properties"]) == {"error"}


def test_abstention_is_an_answer_not_an_error(tiny_server):
    r = httpx.post(f"{tiny_server}/api/ask", json={"question": MISSING_Q})
    assert r.status_code == 200
    assert r.json()["refused"] is True and r.json()["answer"] == "园区资料中没有找到相关信息。"  # the collection's wording


def test_hostile_text_comes_back_verbatim_as_data(tiny_server):
    a = httpx.post(f"{tiny_server}/api/ask", json={"question": HOSTILE_Q}).json()
    assert "7788" in a["answer"] and all(c["quote"] in HOSTILE_LINE for c in a["citations"])
    assert any(HOSTILE_LINE in p["text"] for p in a["passages"])
    # JSON, never HTML: a browser will not render it
    assert httpx.post(f"{tiny_server}/api/ask", json={"question": HOSTILE_Q}).headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"question": ""}, 422, "question is empty"),
        ({"question": "   "}, 422, "question is empty"),
        ({"question": "问" * 10_000}, 422, "the limit is 1000"),
        ({"question": 42}, 422, "question must be a string"),
        ({"question": ["a"]}, 422, "question must be a string"),
        ({}, 422, '"question" is required'),
        ({"question": FACT_Q, "top_k": "5"}, 422, "top_k must be an integer"),
        ({"question": FACT_Q, "top_k": 0}, 422, "top_k must be an integer from 1 to"),
        ({"question": FACT_Q, "top_k": 5.5}, 422, "top_k must be an integer"),
        ({"question": FACT_Q, "top_k": True}, 422, "top_k must be an integer"),
        ({"question": FACT_Q, "mode": "poetry"}, 422, "mode must be one of"),
        ({"question": FACT_Q, "mode": "llm"}, 422, "LLM mode is not configured"),
        ({"question": FACT_Q, "k": 3}, 422, "unknown field(s) k"),
        ({"question": 42, "k": 3, "a": 1}, 422, "unknown field(s) a, k; the fields are question, top_k, mode"),
        (["question"], 422, "must be a JSON object"),
    ],
)
def test_bad_requests_get_4xx_with_a_clear_message(tiny_server, body, status, message):
    r = httpx.post(f"{tiny_server}/api/ask", json=body)
    assert r.status_code == status
    assert message in r.json()["error"]


def test_malformed_json_and_oversized_bodies_are_rejected(tiny_server):
    r = httpx.post(f"{tiny_server}/api/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["error"]
    r = httpx.post(f"{tiny_server}/api/ask", content=b"")
    assert r.status_code == 422 and "must be a JSON object" in r.json()["error"]
    r = httpx.post(f"{tiny_server}/api/ask", content=b"x" * 70_000)
    assert r.status_code == 422 and "larger than" in r.json()["error"]
    assert httpx.get(f"{tiny_server}/api/ask").status_code in (404, 405)


def test_the_body_is_read_as_json_whatever_its_content_type(tiny_server):
    """``curl -d '{…}'`` sends no JSON Content-Type; the question is still answered."""
    body = f'{{"question": "{FACT_Q}"}}'.encode()
    for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}):
        r = httpx.post(f"{tiny_server}/api/ask", content=body, headers=headers)
        assert r.status_code == 200 and "42家" in r.json()["answer"], headers


def _preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{url}/api/ask",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )


def test_cors_allows_localhost_and_configured_origins_only(tiny_server):
    for origin in ("http://localhost:3000", "http://127.0.0.1:8000", "https://portal.example.com"):
        r = _preflight(tiny_server, origin)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin, origin
        r = httpx.post(f"{tiny_server}/api/ask", json={"question": FACT_Q}, headers={"Origin": origin})
        assert r.headers["access-control-allow-origin"] == origin
    for origin in ("https://evil.example", "http://localhost.evil.example", "null"):
        r = _preflight(tiny_server, origin)
        assert "access-control-allow-origin" not in r.headers, origin
        r = httpx.post(f"{tiny_server}/api/ask", json={"question": FACT_Q}, headers={"Origin": origin})
        assert "access-control-allow-origin" not in r.headers, origin


def test_pages_may_be_framed_by_localhost_and_configured_origins_only(tiny_server):
    for path in ("/", "/widget"):
        r = httpx.get(f"{tiny_server}{path}")
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'self' http://localhost:* http://127.0.0.1:* https://portal.example.com" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    widget_csp = httpx.get(f"{tiny_server}/widget").headers["content-security-policy"]
    assert "script-src 'self'" in widget_csp and "connect-src 'self'" in widget_csp


def test_widget_routes_serve_local_files_only(tiny_server):
    page = httpx.get(f"{tiny_server}/widget").text
    assert 'src="docqa-static/widget-app.js"' in page and "http" not in page.split("<body>")[1]
    assert "园区累计备案了多少家新型研发机构？" in page and "<title>星河科技园资料</title>" in page  # the collection's
    js = httpx.get(f"{tiny_server}/widget.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "docqa:close" in js.text
    for name in ("widget-app.js", "widget.css", "chat.css"):
        assert httpx.get(f"{tiny_server}/docqa-static/{name}").status_code == 200
    assert "swagger" not in httpx.get(f"{tiny_server}/docs").text.lower()  # no CDN-loading API docs page


def test_root_path_for_a_reverse_proxy(tiny_engine):
    """Behind a proxy that strips /docqa, routes stay where they are and
    Gradio builds its URLs under the public sub-path."""
    with running_server(tiny_engine, Settings(root_path="/docqa")) as url:
        assert httpx.get(f"{url}/healthz").json()["documents"] == 2
        assert httpx.get(f"{url}/config").json()["root"] == f"{url}/docqa"
        assert httpx.post(f"{url}/api/ask", json={"question": FACT_Q}).status_code == 200


def test_invalid_allowed_origin_is_refused(tiny_engine):
    from docqa.errors import DocQAError
    from docqa.web.server import create_server

    with pytest.raises(DocQAError, match="is not an origin"):
        create_server(tiny_engine, Settings(allowed_origins=["https://ok.example; script-src *"]))
