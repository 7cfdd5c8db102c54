"""The documented ``@gradio/client`` (JavaScript) example, run with Node
against a live server.  Skipped when node/npm are missing or the package
cannot be installed (it comes from the npm registry into a temp directory)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from docqa.settings import Settings
from tests.test_web_support import FACT_Q, running_server, tiny_engine  # noqa: F401

# The same program as in docs/ui.md.
ASK_MJS = r"""
import { Client } from "@gradio/client";

const [url = "http://127.0.0.1:7860/", question = "上海累计备案了多少家新型研发机构？"] = process.argv.slice(2);
const client = await Client.connect(url);
try {
  const result = await client.predict("/ask", { question, top_k: 5, mode: "extractive" });
  const answer = result.data[0]; // the answer contract
  console.log(answer.refused ? `(no answer) ${answer.answer}` : answer.answer);
  for (const c of answer.citations) {
    console.log(`[${c.n}] ${c.title} › ${c.section}: ${c.quote}`);
  }
} catch (err) {
  console.error(`DocQA refused the request: ${err.message}`); // e.g. an empty question
  process.exitCode = 1;
}
"""

# A follow-up: the earlier turns go in ``history`` (a bad one is an error).
FOLLOW_UP_MJS = r"""
import { Client } from "@gradio/client";

const [url, question, history] = process.argv.slice(2);
const client = await Client.connect(url);
try {
  const result = await client.predict("/ask", { question, history: JSON.parse(history) });
  console.log(JSON.stringify(result.data[0]));
} catch (err) {
  console.error(`DocQA refused the request: ${err.message}`);
  process.exitCode = 1;
}
"""


@pytest.fixture(scope="module")
def js_client(tmp_path_factory):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("needs node and npm")
    d = tmp_path_factory.mktemp("jsclient")
    (d / "package.json").write_text('{"name": "docqa-js-example", "private": true, "type": "module"}')
    try:
        r = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "@gradio/client"], cwd=d, capture_output=True, text=True, timeout=180
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm install @gradio/client timed out")
    if r.returncode != 0:
        pytest.skip(f"npm install @gradio/client failed: {r.stderr.strip()[-300:]}")
    (d / "ask.mjs").write_text(ASK_MJS, encoding="utf-8")
    (d / "follow_up.mjs").write_text(FOLLOW_UP_MJS, encoding="utf-8")
    return d


def test_gradio_js_client_example(js_client, tiny_engine):
    with running_server(tiny_engine, Settings()) as url:
        ok = subprocess.run(["node", "ask.mjs", url + "/", FACT_Q], cwd=js_client, capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert "42家" in ok.stdout and "[1] 星河科技园年度报告" in ok.stdout
        bad = subprocess.run(["node", "ask.mjs", url + "/", ""], cwd=js_client, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and "question is empty" in bad.stderr


def test_gradio_js_client_sends_the_conversation(js_client, tiny_engine):
    import json

    from tests.test_web_app import FIRST_Q, FOLLOW_UP_Q, with_rewriter

    history = [{"role": "user", "content": FIRST_Q}, {"role": "assistant", "content": "占地面积120公顷。[1]"}]
    with running_server(with_rewriter(tiny_engine), Settings()) as url:
        ok = subprocess.run(
            ["node", "follow_up.mjs", url + "/", FOLLOW_UP_Q, json.dumps(history, ensure_ascii=False)],
            cwd=js_client,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ok.returncode == 0, ok.stderr
        answer = json.loads(ok.stdout)
        assert answer["question"] == FOLLOW_UP_Q and answer["resolved_question"] == "星河科技园累计引进了多少家高新技术企业？"
        assert "58家" in answer["answer"]
        bad = subprocess.run(
            ["node", "follow_up.mjs", url + "/", FOLLOW_UP_Q, '[{"role": "system", "content": "x"}]'],
            cwd=js_client,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 1 and 'history[0].role must be "user" or "assistant"' in bad.stderr
