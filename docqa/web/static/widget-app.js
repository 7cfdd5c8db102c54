/* DocQA compact chat (the page at /widget).  Talks to POST api/ask on its own
 * server.  Document text is untrusted: everything from the server is put into
 * the page with textContent / createTextNode, never as HTML. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      title: "文档问答",
      greeting: "你好！我根据已收录的文档回答问题，并标注出处。",
      placeholder: "输入问题…",
      send: "提问",
      sources: "来源",
      page: "第 {page} 页",
      onPage: "在页面上查看",
      lowConfidence: "部分文字由扫描件识别，置信度较低，请对照页面核实。",
      refusedHint: "可以换一种问法，或询问文档中涉及的内容。",
      error: "出错了：",
      network: "无法连接 DocQA 服务器。",
      close: "关闭",
    },
    en: {
      title: "DocQA",
      greeting: "Hi! I answer from the indexed documents and cite my sources.",
      placeholder: "Ask a question…",
      send: "Ask",
      sources: "Sources",
      page: "page {page}",
      onPage: "Show on the page",
      lowConfidence: "Part of this quote was read from a scan with low confidence: check it against the page.",
      refusedHint: "Try rephrasing, or ask about something the documents cover.",
      error: "Error: ",
      network: "Cannot reach the DocQA server.",
      close: "Close",
    },
  };

  var params = new URLSearchParams(window.location.search);
  var lang = params.get("lang") || document.documentElement.getAttribute("data-lang") || "zh";
  if (!LABELS[lang]) lang = "zh";
  var t = LABELS[lang];
  var embedded = params.get("embed") === "bubble";
  var examples = [];
  try {
    examples = JSON.parse(document.documentElement.getAttribute("data-examples") || "[]");
  } catch (e) {
    examples = [];
  }

  var log = document.getElementById("dqw-log");
  var form = document.getElementById("dqw-form");
  var input = document.getElementById("dqw-input");
  var send = document.getElementById("dqw-send");
  var closeBtn = document.getElementById("dqw-close");

  document.documentElement.lang = lang;
  document.getElementById("dqw-title").textContent = t.title;
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  send.textContent = t.send;
  if (embedded) {
    closeBtn.hidden = false;
    closeBtn.setAttribute("aria-label", t.close);
    closeBtn.addEventListener("click", function () {
      window.parent.postMessage({ type: "docqa:close" }, "*");
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(cls, text) {
    var node = el("div", "dqw-msg " + cls, text);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  /* The answer text with its [n] markers as citation badges. */
  function answerNodes(container, text, numbers) {
    var re = /\[(\d{1,3})\]/g;
    var pos = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      if (numbers.indexOf(Number(m[1])) < 0) continue;
      container.appendChild(document.createTextNode(text.slice(pos, m.index)));
      container.appendChild(el("span", "dqw-cite", "[" + m[1] + "]"));
      pos = m.index + m[0].length;
    }
    container.appendChild(document.createTextNode(text.slice(pos)));
  }

  /* The passage holding a citation's quote: same document, span inside. */
  function quotedPassage(c, passages) {
    for (var i = 0; i < passages.length; i++) {
      var p = passages[i];
      if (p.doc === c.doc && p.start <= c.start && c.end <= p.end) return p;
    }
    return null;
  }

  function sourceNode(c, passages) {
    var node = el("div", "dqw-source");
    var head = el("div", "dqw-source-head");
    head.appendChild(el("b", null, "[" + c.n + "] "));
    var where = [c.title || c.doc.split(/[\\/]/).pop()];
    if (c.section) where.push(c.section.replace(/ > /g, " › "));
    if (c.page) where.push(t.page.replace("{page}", String(c.page)));
    head.appendChild(document.createTextNode(where.join(" · ")));
    node.appendChild(head);
    var body = el("div", "dqw-passage");
    var p = quotedPassage(c, passages);
    var offset = p ? c.start - p.start : -1;
    if (p && p.text.substr(offset, c.quote.length) === c.quote) {
      body.appendChild(document.createTextNode(p.text.slice(0, offset)));
      body.appendChild(el("mark", null, c.quote));
      body.appendChild(document.createTextNode(p.text.slice(offset + c.quote.length)));
    } else {
      body.appendChild(el("mark", null, c.quote));
    }
    node.appendChild(body);
    var pages = pageNodes(c);
    if (pages) node.appendChild(pages);
    return node;
  }

  /* PDF sources: each page the quote is on, as an image with the quote's
     boxes highlighted by the server (api/page). */
  function pageNodes(c) {
    var byPage = {};
    var order = [];
    (c.boxes || []).forEach(function (b) {
      var key = String(b[0]);
      if (!byPage[key]) {
        byPage[key] = [];
        order.push(key);
      }
      byPage[key].push(b.slice(1).map(function (v) { return v.toFixed(4); }).join(","));
    });
    if (!order.length) return null;
    var details = el("details", "dqw-pages");
    details.appendChild(el("summary", null, t.onPage));
    if (c.low_confidence) details.appendChild(el("div", "dqw-hint", t.lowConfidence));
    order.forEach(function (page) {
      var img = el("img", "dqw-page");
      img.alt = t.page.replace("{page}", page);
      img.loading = "lazy";
      img.src = "api/page?doc=" + encodeURIComponent(c.doc) + "&page=" + page +
        "&boxes=" + encodeURIComponent(byPage[page].join(";"));
      details.appendChild(img);
    });
    return details;
  }

  function showAnswer(node, answer) {
    node.textContent = "";
    node.classList.remove("dqw-pending");
    if (answer.refused) {
      node.classList.add("dqw-refused");
      node.appendChild(document.createTextNode(answer.answer));
      node.appendChild(el("div", "dqw-hint", t.refusedHint));
      return;
    }
    var numbers = answer.citations.map(function (c) {
      return c.n;
    });
    var text = el("div", "dqw-answer");
    answerNodes(text, answer.answer, numbers);
    node.appendChild(text);
    if (answer.notice) node.appendChild(el("div", "dqw-hint", answer.notice));
    if (answer.citations.length) {
      var details = el("details", "dqw-sources");
      details.appendChild(el("summary", null, t.sources + " (" + answer.citations.length + ")"));
      answer.citations.forEach(function (c) {
        details.appendChild(sourceNode(c, answer.passages));
      });
      node.appendChild(details);
    }
    scrollDown();
  }

  function showError(node, message) {
    node.textContent = t.error + message;
    node.className = "dqw-msg dqw-error";
    node.setAttribute("role", "alert");
  }

  function ask(question) {
    bubble("dqw-user", question);
    var pending = bubble("dqw-bot dqw-pending", "…");
    send.disabled = true;
    fetch("api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question }),
    })
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) throw new Error(body && body.error ? body.error : "HTTP " + resp.status);
          return body;
        });
      })
      .then(function (answer) {
        showAnswer(pending, answer);
      })
      .catch(function (err) {
        showError(pending, err && err.message && err.message !== "Failed to fetch" ? err.message : t.network);
      })
      .then(function () {
        send.disabled = false;
        scrollDown();
      });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q || send.disabled) return;
    input.value = "";
    ask(q);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  var hello = bubble("dqw-bot", t.greeting);
  if (examples.length) {
    var box = el("div", "dqw-examples");
    examples.forEach(function (q) {
      var b = el("button", "dqw-example", q);
      b.type = "button";
      b.addEventListener("click", function () {
        if (!send.disabled) ask(q);
      });
      box.appendChild(b);
    });
    hello.appendChild(box);
  }
  input.focus();
})();
