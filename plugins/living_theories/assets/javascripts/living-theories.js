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

  // A node's words, with a space where Mermaid broke a line (textContent would run
  // "respect" and "where" together).
  function words(node) {
    var parts = [];
    var walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) parts.push(walk.currentNode.nodeValue);
    return parts.join(" ").replace(/\s+/g, " ").trim();
  }

  function attachLinks(container, links) {
    container.querySelectorAll("g.node").forEach(function (node) {
      var match = /flowchart-(n\d+)-\d+$/.exec(node.id || "");
      var link = match && links[match[1]];
      if (!link) return;
      node.setAttribute("role", "link");
      node.setAttribute("tabindex", "0");
      node.setAttribute("aria-label", "Open: " + words(node));
      node.style.cursor = "pointer";
      var go = function () { window.location.href = link.href; };
      node.addEventListener("click", go);
      node.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    });
  }

  // Diagrams are drawn at their natural size, their text at the page's size, and scroll
  // sideways in their box when wider than the column: never shrunk to fit. A CMOC too wide
  // for the column (on a phone, or a version page's many boxes) is laid out top-down
  // instead, when its diagram allows it (data-lt-narrow).
  var NARROW = window.matchMedia("(max-width: 640px)");
  var figures = [];  // {div, source, links, narrow}: to redraw on a palette or width change
  var counter = 0;

  function isDark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function configure(mermaid, wrap, titleMargin) {
    var narrow = NARROW.matches;
    mermaid.initialize({
      startOnLoad: false, securityLevel: "strict", theme: isDark() ? "dark" : "default",
      fontSize: 16,
      flowchart: { htmlLabels: true, useMaxWidth: false, wrappingWidth: wrap,
                   nodeSpacing: narrow ? 20 : 30, rankSpacing: narrow ? 30 : 40,
                   subGraphTitleMargin: { top: 4, bottom: titleMargin } }
    });
  }

  // Mermaid keeps room for a one-line box title only: a title that wraps would overlap the
  // box's first node. Measure the tallest title, to draw again with room for it.
  function titleOverflow(div) {
    var extra = 0;
    div.querySelectorAll("g.cluster-label").forEach(function (g) {
      extra = Math.max(extra, g.getBoundingClientRect().height - 26);
    });
    return Math.ceil(extra);
  }

  async function drawOnce(mermaid, figure, source, wrap) {
    configure(mermaid, wrap, 8);  // (with a phone's tighter spacing, even one line needs it)
    var out = await mermaid.render("lt-diagram-" + (counter++), source);
    figure.div.innerHTML = out.svg;
    var extra = titleOverflow(figure.div);
    if (extra > 0) {
      configure(mermaid, wrap, extra + 8);
      out = await mermaid.render("lt-diagram-" + (counter++), source);
      figure.div.innerHTML = out.svg;
    }
    var svg = figure.div.querySelector("svg");
    return svg ? svg.getBoundingClientRect().width <= figure.div.clientWidth : true;
  }

  // Left to right first (the realist reading order), with narrower text if need be; a
  // diagram still too wide, if it allows, top-down; what is still too wide scrolls sideways.
  async function draw(mermaid, figure) {
    var wraps = NARROW.matches ? [150] : [200, 150];
    var tries = wraps.map(function (w) { return ["LR", w]; });
    if (figure.narrow) {
      tries = tries.concat(wraps.map(function (w) { return [figure.narrow, w]; }));
    }
    for (var i = 0; i < tries.length; i++) {
      var direction = tries[i][0];
      var source = direction === "LR" ? figure.source : figure.source.replace(
        /^(\s*)(flowchart|direction) LR$/gm, "$1$2 " + direction);
      if (await drawOnce(mermaid, figure, source, tries[i][1])) break;
    }
    figure.div.setAttribute("data-lt-theme", isDark() ? "dark" : "default");
    figure.div.setAttribute("data-lt-direction", direction);
    attachLinks(figure.div, figure.links);
  }

  async function renderAll() {
    var blocks = document.querySelectorAll("pre.lt-mermaid:not([data-lt-done])");
    if (!blocks.length) return finished();
    var mermaid = await loadMermaid();
    for (var i = 0; i < blocks.length; i++) {
      var pre = blocks[i];
      pre.setAttribute("data-lt-done", "1");
      var figure = { source: pre.textContent, links: linksAfter(pre),
                     narrow: pre.getAttribute("data-lt-narrow") };
      var div = document.createElement("div");
      div.className = "lt-diagram";
      div.setAttribute("tabindex", "0");  // its own scrolling, by keyboard too
      // drawn while in the page, so that its text can be measured
      pre.parentNode.insertBefore(div, pre);
      figure.div = div;
      try {
        await draw(mermaid, figure);
        pre.remove();
        figures.push(figure);
      } catch (err) {
        div.remove();
        pre.classList.add("lt-mermaid-error");
        console.error("Living Theories: a diagram could not be drawn:", err);
      }
    }
    finished();
  }

  // Material's palette switch changes the body's colour scheme: draw again in its colours.
  var redrawing = Promise.resolve();
  function redrawAll() {
    redrawing = redrawing.then(async function () {
      if (!figures.length) return;
      document.documentElement.removeAttribute("data-lt-diagrams");
      var mermaid = await loadMermaid();
      for (var i = 0; i < figures.length; i++) {
        try { await draw(mermaid, figures[i]); } catch (err) {
          console.error("Living Theories: a diagram could not be redrawn:", err);
        }
      }
      finished();
    });
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
    new MutationObserver(redrawAll).observe(document.body, {
      attributes: true, attributeFilter: ["data-md-color-scheme"] });
    NARROW.addEventListener("change", redrawAll);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
