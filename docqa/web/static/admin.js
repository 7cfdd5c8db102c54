/* DocQA admin page: list, upload, delete and re-ingest the documents of each
 * collection, follow the ingest jobs, read the audit log.  The token stays in
 * this tab's sessionStorage and goes with every request as a Bearer token. */
(function () {
  "use strict";
  var LABELS = {
    zh: {
      title: "DocQA 文档管理", token: "管理令牌", login: "进入", collection: "文档集",
      newCollection: "新文档集名称", add: "新建", upload: "上传并收录", jobs: "任务", docs: "文档",
      audit: "操作记录", colTitle: "标题", colFile: "文件", colChunks: "片段", remove: "删除", reingest: "重新收录",
      confirmRemove: "从文档集中删除「{t}」？", queued: "排队中", running: "处理中", done: "完成", failed: "失败",
      empty: "（没有文档）", badToken: "令牌不正确。", network: "无法连接 DocQA 服务器。",
    },
    en: {
      title: "DocQA documents", token: "Admin token", login: "Enter", collection: "Collection",
      newCollection: "new collection name", add: "Create", upload: "Upload and ingest", jobs: "Jobs", docs: "Documents",
      audit: "Audit log", colTitle: "Title", colFile: "File", colChunks: "Chunks", remove: "Delete", reingest: "Re-ingest",
      confirmRemove: "Remove “{t}” from the collection?", queued: "queued", running: "running", done: "done", failed: "failed",
      empty: "(no documents)", badToken: "Wrong token.", network: "Cannot reach the DocQA server.",
    },
  };
  var params = new URLSearchParams(window.location.search);
  var lang = params.get("lang") === "en" ? "en" : "zh";
  var t = LABELS[lang];
  var KEY = "docqa:admin-token";
  var $ = function (id) { return document.getElementById(id); };
  var text = { "adm-title": "title", "adm-token-label": "token", "adm-login-btn": "login", "adm-collection-label": "collection",
    "adm-add-collection": "add", "adm-upload-btn": "upload", "adm-jobs-title": "jobs", "adm-docs-title": "docs",
    "adm-audit-title": "audit", "adm-col-title": "colTitle", "adm-col-file": "colFile", "adm-col-chunks": "colChunks" };
  Object.keys(text).forEach(function (id) { $(id).textContent = t[text[id]]; });
  $("adm-new-collection").placeholder = t.newCollection;
  document.documentElement.lang = lang;
  document.title = t.title;

  var token = "";
  try { token = window.sessionStorage.getItem(KEY) || ""; } catch (e) { token = ""; }
  var watching = {};

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }
  function showError(message) { $("adm-error").textContent = message || ""; }
  function collection() { return $("adm-collection").value || "default"; }

  function call(method, url, body) {
    var headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/octet-stream";
    return fetch(url, { method: method, headers: headers, body: body }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (data) {
        if (resp.status === 401) throw new Error(t.badToken);
        if (!resp.ok) throw new Error(data && data.error ? data.error : "HTTP " + resp.status);
        return data;
      });
    }, function () { throw new Error(t.network); });
  }

  function loadCollections(selected) {
    return call("GET", "api/admin/collections").then(function (data) {
      var select = $("adm-collection");
      select.textContent = "";
      data.collections.forEach(function (c) {
        var option = el("option", null, c.name + " (" + c.documents + ")");
        option.value = c.name;
        select.appendChild(option);
      });
      if (selected && !data.collections.some(function (c) { return c.name === selected; })) {
        var fresh = el("option", null, selected + " (0)");
        fresh.value = selected;
        select.appendChild(fresh);
      }
      if (selected) select.value = selected;
    });
  }

  function loadDocuments() {
    return call("GET", "api/admin/documents?collection=" + encodeURIComponent(collection())).then(function (data) {
      var body = $("adm-docs");
      body.textContent = "";
      if (!data.documents.length) {
        var row = el("tr");
        var cell = el("td", null, t.empty);
        cell.colSpan = 4;
        row.appendChild(cell);
        body.appendChild(row);
      }
      data.documents.forEach(function (d) {
        var row = el("tr");
        row.appendChild(el("td", null, d.title));
        row.appendChild(el("td", null, d.name));
        row.appendChild(el("td", null, String(d.chunks)));
        var actions = el("td");
        var again = el("button", "adm-secondary", t.reingest);
        again.type = "button";
        again.addEventListener("click", function () { documentJob("POST", "api/admin/documents/reingest", d.id); });
        var remove = el("button", "adm-secondary", t.remove);
        remove.type = "button";
        remove.addEventListener("click", function () {
          if (window.confirm(t.confirmRemove.replace("{t}", d.title || d.name))) documentJob("DELETE", "api/admin/documents", d.id);
        });
        actions.appendChild(again);
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(remove);
        row.appendChild(actions);
        body.appendChild(row);
      });
    });
  }

  function loadAudit() {
    return call("GET", "api/admin/audit?limit=50").then(function (data) {
      var body = $("adm-audit");
      body.textContent = "";
      data.entries.forEach(function (e) {
        var row = el("tr");
        [e.at, e.actor, e.action, e.collection, e.target, e.outcome, e.detail].forEach(function (v) {
          row.appendChild(el("td", null, v || ""));
        });
        body.appendChild(row);
      });
    });
  }

  function refresh() {
    showError("");
    return Promise.all([loadDocuments(), loadAudit()]).catch(function (err) { showError(err.message); });
  }

  function showJob(job) {
    var item = watching[job.id];
    if (!item) {
      item = el("li");
      item.setAttribute("data-job", job.id);
      $("adm-jobs").insertBefore(item, $("adm-jobs").firstChild);
      watching[job.id] = item;
    }
    item.textContent = "";
    item.appendChild(el("span", null, job.kind + " · " + job.collection + " · " + job.target + " — "));
    var state = el("span", "adm-" + job.state, t[job.state] || job.state);
    state.setAttribute("data-state", job.state);
    item.appendChild(state);
    if (job.state === "running" && job.total) {
      var bar = el("progress");
      bar.max = job.total;
      bar.value = job.done;
      item.appendChild(bar);
    }
    if (job.result || job.error) item.appendChild(el("div", job.error ? "adm-failed" : null, job.result || job.error));
  }

  function follow(job) {
    showJob(job);
    if (job.state === "done" || job.state === "failed") {
      loadCollections(collection()).then(refresh);
      return;
    }
    window.setTimeout(function () {
      call("GET", "api/admin/jobs/" + encodeURIComponent(job.id)).then(function (data) { follow(data.job); }, function (err) {
        showError(err.message);
      });
    }, 500);
  }

  function documentJob(method, url, doc) {
    call(method, url + "?collection=" + encodeURIComponent(collection()) + "&doc=" + encodeURIComponent(doc))
      .then(function (data) { follow(data.job); }, function (err) { showError(err.message); });
  }

  $("adm-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = $("adm-token").value.trim();
    start();
  });

  $("adm-collection").addEventListener("change", refresh);
  $("adm-add-collection").addEventListener("click", function () {
    var name = $("adm-new-collection").value.trim();
    if (!name) return;
    $("adm-new-collection").value = "";
    loadCollections(name).then(refresh);
  });

  $("adm-upload").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var files = Array.prototype.slice.call($("adm-files").files);
    showError("");
    files.forEach(function (file) {
      var url = "api/admin/documents?collection=" + encodeURIComponent(collection()) + "&name=" + encodeURIComponent(file.name);
      call("POST", url, file).then(function (data) { follow(data.job); }, function (err) {
        showError(file.name + ": " + err.message);
        loadAudit().catch(function () {});
      });
    });
    $("adm-files").value = "";
  });

  function start() {
    if (!token) return;
    loadCollections(params.get("collection") || "default").then(function () {
      try { window.sessionStorage.setItem(KEY, token); } catch (e) { /* not kept: asked again next time */ }
      $("adm-login").hidden = true;
      $("adm-main").hidden = false;
      return refresh();
    }, function (err) { showError(err.message); });
  }
  start();
})();
