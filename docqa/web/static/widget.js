/* DocQA portal widget loader.  Paste into any page:
 *   <script src="http://DOCQA-HOST:7860/widget.js" data-lang="zh" async></script>
 * It adds a floating chat bubble; clicking it opens DocQA's compact chat
 * (/widget) in an iframe.  Optional attributes: data-lang="zh|en",
 * data-position="right|left", data-label="…" (the bubble's tooltip),
 * data-collection="NAME" (answer from that collection; default: the default one). */
(function () {
  "use strict";
  if (window.__docqaWidgetLoaded) return;
  window.__docqaWidgetLoaded = true;

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    script = all[all.length - 1];
  }
  if (!script) return;
  var base = script.src.replace(/widget\.js(\?.*)?$/, "");
  var origin = new URL(base).origin;
  var lang = script.getAttribute("data-lang") === "en" ? "en" : "zh";
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";
  var label = script.getAttribute("data-label") || (lang === "en" ? "Ask DocQA" : "文档问答");
  var collection = script.getAttribute("data-collection") || "";
  var Z = "2147483000";

  function css(node, styles) {
    for (var k in styles) node.style.setProperty(k, styles[k]);
  }

  var button = document.createElement("button");
  button.type = "button";
  button.id = "docqa-bubble";
  button.title = label;
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-expanded", "false");
  css(button, {
    position: "fixed", bottom: "20px", width: "56px", height: "56px", "border-radius": "50%",
    border: "0", padding: "0", cursor: "pointer", background: "#0f766e", color: "#fff",
    "box-shadow": "0 4px 14px rgba(0,0,0,.25)", "z-index": Z, display: "flex",
    "align-items": "center", "justify-content": "center",
  });
  button.style.setProperty(side, "20px");
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  svg.setAttribute("aria-hidden", "true");
  var path = document.createElementNS(NS, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  svg.appendChild(path);
  button.appendChild(svg);

  var panel = document.createElement("div");
  panel.id = "docqa-panel";
  css(panel, {
    position: "fixed", bottom: "88px", width: "min(380px, calc(100vw - 32px))",
    height: "min(600px, calc(100vh - 112px))", "border-radius": "12px", overflow: "hidden",
    "box-shadow": "0 8px 30px rgba(0,0,0,.25)", background: "#fff", "z-index": Z, display: "none",
  });
  panel.style.setProperty(side, "20px");

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "docqa-frame";
      frame.title = label;
      frame.src = base + "widget?embed=bubble&lang=" + encodeURIComponent(lang) +
        (collection ? "&collection=" + encodeURIComponent(collection) : "");
      css(frame, { width: "100%", height: "100%", border: "0", display: "block" });
      panel.appendChild(frame);
    }
    panel.style.display = "block";
    button.setAttribute("aria-expanded", "true");
  }
  function close() {
    panel.style.display = "none";
    button.setAttribute("aria-expanded", "false");
  }
  button.addEventListener("click", function () {
    if (panel.style.display === "none") open();
    else close();
  });
  window.addEventListener("message", function (ev) {
    if (ev.origin === origin && ev.data && ev.data.type === "docqa:close") close();
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") close();
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
