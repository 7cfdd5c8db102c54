/* DocQA compact chat (the page at /widget).  Talks to POST api/ask and
 * POST api/feedback on its own server.  Document text is untrusted: everything
 * from the server is put into the page with textContent / createTextNode,
 * never as HTML.
 *
 * The conversation (each question and its answer) is sent with every question
 * (the last MAX_TURNS turns: the questions and the answers' text) and kept per
 * browser tab in sessionStorage, so reloading the widget restores it; the
 * 「新对话」 button starts over. */
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
      nearest: "最接近问题的段落（未能确认其中有答案）",
      error: "出错了：",
      network: "无法连接 DocQA 服务器。",
      tooMany: "提问太频繁了，请 {s} 秒后再试。",
      busy: "服务器正忙，请稍后再试。",
      close: "关闭",
      newChat: "新对话",
      newChatHint: "清空对话，开始新的对话",
      understoodAs: "理解为：",
      up: "有帮助",
      down: "没有帮助",
      comment: "哪里不对？（可选）",
      sendFeedback: "发送",
      recorded: "已记录，谢谢",
      feedbackFailed: "反馈未能发送：",
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
      nearest: "Passages closest to the question (not confirmed to answer it)",
      error: "Error: ",
      network: "Cannot reach the DocQA server.",
      tooMany: "Too many questions in a short time; please try again in {s} s.",
      busy: "The server is busy; please try again in a moment.",
      close: "Close",
      newChat: "New conversation",
      newChatHint: "Clear the conversation and start a new one",
      understoodAs: "Understood as: ",
      up: "Helpful",
      down: "Not helpful",
      comment: "What is wrong? (optional)",
      sendFeedback: "Send",
      recorded: "Thanks, recorded",
      feedbackFailed: "Feedback not sent: ",
    },
  };

  var MAX_TURNS = 12; // turns sent with a question (the server reads no more)
  var MAX_TURN_CHARS = 8000; // the server's limit for one turn
  var MAX_KEPT = 30; // answers kept in sessionStorage (and shown again on reload)
  var MAX_COMMENT = 1000;

  var params = new URLSearchParams(window.location.search);
  var lang = params.get("lang") || document.documentElement.getAttribute("data-lang") || "zh";
  if (!LABELS[lang]) lang = "zh";
  var t = LABELS[lang];
  var embedded = params.get("embed") === "bubble";
  var collection = params.get("collection") || ""; // the default collection when empty
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
  var resetBtn = document.getElementById("dqw-reset");

  /* One conversation per tab, per server path (root path included), per
     collection and per embedding (the inline iframe and the bubble on one
     portal page are two conversations). */
  var storeKey = "docqa:conversation:" + window.location.pathname + ":" +
    collection + ":" + (embedded ? "bubble" : "frame");
  var conversation = []; // {question, answer (the contract), rating}, oldest first
  var epoch = 0; // bumped by 「新对话」: answers to older questions are dropped

  function loadConversation() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(storeKey) || "[]");
      return Array.isArray(kept) ? kept.filter(function (x) {
        return x && typeof x.question === "string" && x.answer && typeof x.answer.answer === "string";
      }) : [];
    } catch (e) {
      return []; // storage blocked or unreadable: a conversation that is not kept
    }
  }

  function saveConversation() {
    try {
      if (conversation.length) {
        window.sessionStorage.setItem(storeKey, JSON.stringify(conversation.slice(-MAX_KEPT)));
      } else {
        window.sessionStorage.removeItem(storeKey);
      }
    } catch (e) {
      /* storage blocked or full: the conversation still works in this page */
    }
  }

  /* The earlier turns sent with a question: questions as asked, answers' text. */
  function historyTurns() {
    var turns = [];
    conversation.forEach(function (x) {
      turns.push({ role: "user", content: x.question.slice(0, MAX_TURN_CHARS) });
      turns.push({ role: "assistant", content: x.answer.answer.slice(0, MAX_TURN_CHARS) });
    });
    return turns.slice(-MAX_TURNS);
  }

  document.documentElement.lang = lang;
  document.getElementById("dqw-title").textContent = t.title;
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  send.textContent = t.send;
  resetBtn.textContent = t.newChat;
  resetBtn.title = t.newChatHint;
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

  /* Where a citation or a passage is: its document, section and page. */
  function where(x) {
    var bits = [x.title || x.doc.split(/[\\/]/).pop()];
    if (x.section) bits.push(x.section.replace(/ > /g, " › "));
    if (x.page) bits.push(t.page.replace("{page}", String(x.page)));
    return bits.join(" · ");
  }

  function sourceNode(c, passages) {
    var node = el("div", "dqw-source");
    var head = el("div", "dqw-source-head");
    head.appendChild(el("b", null, "[" + c.n + "] "));
    head.appendChild(document.createTextNode(where(c)));
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
        "&boxes=" + encodeURIComponent(byPage[page].join(";")) +
        (collection ? "&collection=" + encodeURIComponent(collection) : "");
      details.appendChild(img);
    });
    return details;
  }

  /* Under a refusal: the retrieved passages closest to the question, as
     retrieved (nothing highlighted) — where to read on, not an answer. */
  var NEAREST = 2;
  function nearestNode(answer) {
    var passages = (answer.passages || []).slice(0, NEAREST);
    if (!passages.length) return null;
    var details = el("details", "dqw-sources dqw-nearest");
    details.appendChild(el("summary", null, t.nearest + " (" + passages.length + ")"));
    passages.forEach(function (p) {
      var node = el("div", "dqw-source");
      node.appendChild(el("div", "dqw-source-head", where(p)));
      node.appendChild(el("div", "dqw-passage", p.text));
      details.appendChild(node);
    });
    return details;
  }

  function showAnswer(node, entry) {
    var answer = entry.answer;
    node.textContent = "";
    node.classList.remove("dqw-pending");
    if (answer.refused) {
      node.classList.add("dqw-refused");
      node.appendChild(document.createTextNode(answer.answer));
      node.appendChild(el("div", "dqw-hint", t.refusedHint));
    } else {
      var numbers = answer.citations.map(function (c) {
        return c.n;
      });
      var text = el("div", "dqw-answer");
      answerNodes(text, answer.answer, numbers);
      node.appendChild(text);
      if (answer.notice) node.appendChild(el("div", "dqw-hint", answer.notice));
    }
    var resolved = answer.resolved_question;
    if (resolved && resolved !== answer.question) node.appendChild(el("div", "dqw-resolved", t.understoodAs + resolved));
    if (!answer.refused && answer.citations.length) {
      var details = el("details", "dqw-sources");
      details.appendChild(el("summary", null, t.sources + " (" + answer.citations.length + ")"));
      answer.citations.forEach(function (c) {
        details.appendChild(sourceNode(c, answer.passages));
      });
      node.appendChild(details);
    }
    var nearest = answer.refused ? nearestNode(answer) : null;
    if (nearest) node.appendChild(nearest);
    node.appendChild(feedbackNode(entry));
    scrollDown();
  }

  /* Thumb icons as inline SVG (emoji fonts are missing on many intranet machines). */
  var THUMB_UP = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
  var THUMB_DOWN = "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 " +
    "4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z";

  function icon(d) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "14");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  /* 👍 / 👎 under an answer.  👍 is sent at once; 👎 opens a comment field
     (optional) with its own send button.  Once recorded, the buttons are
     disabled and say so. */
  function feedbackNode(entry) {
    var box = el("div", "dqw-feedback");
    var up = el("button", "dqw-rate dqw-up");
    var down = el("button", "dqw-rate dqw-down");
    up.appendChild(icon(THUMB_UP));
    down.appendChild(icon(THUMB_DOWN));
    var status = el("span", "dqw-feedback-status");
    status.setAttribute("role", "status");
    [[up, t.up], [down, t.down]].forEach(function (pair) {
      pair[0].type = "button";
      pair[0].title = pair[1];
      pair[0].setAttribute("aria-label", pair[1]);
      pair[0].setAttribute("aria-pressed", "false");
      box.appendChild(pair[0]);
    });
    down.setAttribute("aria-expanded", "false");
    box.appendChild(status);
    var commentBox = null;

    function recorded(rating) {
      up.disabled = true;
      down.disabled = true;
      (rating === "up" ? up : down).setAttribute("aria-pressed", "true");
      status.className = "dqw-feedback-status";
      status.textContent = t.recorded;
      if (commentBox) commentBox.remove();
      commentBox = null;
    }

    function submit(rating, comment, controls) {
      controls.forEach(function (c) { c.disabled = true; });
      status.textContent = "";
      var body = {
        rating: rating,
        question: entry.answer.question,
        resolved_question: entry.answer.resolved_question || entry.answer.question,
        answer: entry.answer.answer,
        citations: entry.answer.citations,
        mode: entry.answer.mode,
      };
      if (comment) body.comment = comment.slice(0, MAX_COMMENT);
      if (collection) body.collection = collection;
      postJSON("api/feedback", body)
        .then(function () {
          entry.rating = rating;
          saveConversation();
          recorded(rating);
        })
        .catch(function (err) {
          controls.forEach(function (c) { c.disabled = false; });
          status.className = "dqw-feedback-status dqw-feedback-error";
          status.textContent = t.feedbackFailed + errorText(err);
        });
    }

    if (entry.rating) {
      recorded(entry.rating);
      return box;
    }
    up.addEventListener("click", function () {
      submit("up", "", [up, down]);
    });
    down.addEventListener("click", function () {
      if (commentBox) {
        commentBox.querySelector("input").focus();
        return;
      }
      down.setAttribute("aria-expanded", "true");
      commentBox = el("div", "dqw-comment");
      var field = el("input", "dqw-comment-input");
      field.type = "text";
      field.maxLength = MAX_COMMENT;
      field.placeholder = t.comment;
      field.setAttribute("aria-label", t.comment);
      var go = el("button", "dqw-comment-send", t.sendFeedback);
      go.type = "button";
      function sendDown() {
        submit("down", field.value.trim(), [up, down, field, go]);
      }
      go.addEventListener("click", sendDown);
      field.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.isComposing) {
          ev.preventDefault();
          sendDown();
        }
      });
      commentBox.appendChild(field);
      commentBox.appendChild(go);
      box.appendChild(commentBox);
      field.focus();
      scrollDown();
    });
    return box;
  }

  function showError(node, message) {
    node.textContent = t.error + message;
    node.className = "dqw-msg dqw-error";
    node.setAttribute("role", "alert");
  }

  function errorText(err) {
    return err && err.message && err.message !== "Failed to fetch" ? err.message : t.network;
  }

  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    }).then(function (resp) {
      return resp.json().catch(function () {
        return null;
      }).then(function (body) {
        if (resp.status === 429) {
          throw new Error(t.tooMany.replace("{s}", resp.headers.get("Retry-After") || "60"));
        }
        if (resp.status === 503 && resp.headers.get("Retry-After")) throw new Error(t.busy);
        if (!resp.ok) throw new Error(body && body.error ? body.error : "HTTP " + resp.status);
        return body;
      });
    });
  }

  function ask(question) {
    bubble("dqw-user", question);
    var pending = bubble("dqw-bot dqw-pending", "…");
    var asked = epoch;
    send.disabled = true;
    var request = { question: question, history: historyTurns() };
    if (collection) request.collection = collection;
    postJSON("api/ask", request)
      .then(function (answer) {
        if (asked !== epoch) return; // the conversation was reset meanwhile
        var entry = { question: question, answer: answer, rating: null };
        conversation.push(entry);
        saveConversation();
        showAnswer(pending, entry);
      })
      .catch(function (err) {
        if (asked === epoch) showError(pending, errorText(err));
      })
      .then(function () {
        if (asked !== epoch) return;
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

  function greet() {
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
  }

  /* 「新对话」: forget the conversation (here and in sessionStorage). */
  resetBtn.addEventListener("click", function () {
    epoch += 1;
    conversation = [];
    saveConversation();
    log.textContent = "";
    send.disabled = false;
    input.value = "";
    greet();
    input.focus();
  });

  greet();
  conversation = loadConversation();
  conversation.forEach(function (entry) {
    bubble("dqw-user", entry.question);
    showAnswer(bubble("dqw-bot", ""), entry);
  });
  input.focus();
})();
