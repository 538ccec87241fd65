/* Living Theories: renders the CMOC diagrams (Mermaid, served from this site) and makes their
   nodes link to CMOC pages. Mermaid runs in its safe "strict" mode; links come from the plain
   list of links MkDocs wrote after each diagram, never from diagram text. */
(function () {
  "use strict";
  var script = document.currentScript;
  var MERMAID = script ? new URL("mermaid-11.17.2.min.js", script.src).href : null;

  function loadMermaid() {
    if (window.mermaid) return Promise.resolve(window.mermaid);
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = MERMAID;
      s.onload = function () { resolve(window.mermaid); };
      s.onerror = function () { reject(new Error("could not load " + MERMAID)); };
      document.head.appendChild(s);
    });
  }

  function linksAfter(pre) {
    var links = {};
    var next = pre.nextElementSibling;
    if (next && next.classList.contains("lt-diagram-links")) {
      next.querySelectorAll("a").forEach(function (a) {
        links[a.textContent.trim()] = { href: a.getAttribute("href") };
      });
    }
    return links;
  }

  function attachLinks(container, links) {
    container.querySelectorAll("g.node").forEach(function (node) {
      var match = /flowchart-(n\d+)-\d+$/.exec(node.id || "");
      var link = match && links[match[1]];
      if (!link) return;
      var label = (node.textContent || "").trim();
      node.setAttribute("role", "link");
      node.setAttribute("tabindex", "0");
      node.setAttribute("aria-label", "Open: " + label);
      node.style.cursor = "pointer";
      var go = function () { window.location.href = link.href; };
      node.addEventListener("click", go);
      node.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    });
  }

  async function renderAll() {
    var blocks = document.querySelectorAll("pre.lt-mermaid:not([data-lt-done])");
    if (!blocks.length) return finished();
    var mermaid = await loadMermaid();
    var dark = document.body.getAttribute("data-md-color-scheme") === "slate";
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict",
                         theme: dark ? "dark" : "default", flowchart: { htmlLabels: true } });
    for (var i = 0; i < blocks.length; i++) {
      var pre = blocks[i];
      pre.setAttribute("data-lt-done", "1");
      var links = linksAfter(pre);
      try {
        var out = await mermaid.render("lt-diagram-" + i, pre.textContent);
        var div = document.createElement("div");
        div.className = "lt-diagram";
        div.innerHTML = out.svg;
        pre.replaceWith(div);
        attachLinks(div, links);
      } catch (err) {
        pre.classList.add("lt-mermaid-error");
        console.error("Living Theories: a diagram could not be drawn:", err);
      }
    }
    finished();
  }

  // Marks the page once every diagram is drawn (or has failed), for tests and print.
  function finished() {
    document.documentElement.setAttribute("data-lt-diagrams", "done");
  }

  // Printed consultation packs show each link's full address after its text.
  function markPrintedLinks() {
    document.querySelectorAll(".lt-pack a[href]").forEach(function (a) {
      a.setAttribute("data-lt-url", a.href);
    });
  }

  function start() {
    markPrintedLinks();
    renderAll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
