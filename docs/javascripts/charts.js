/* Charts for every hand (templates/_figure.md.j2).
 *
 * Fitting: an interactive chart (the heatmap) is an <object>, so its marks can be links. An <object>
 * keeps its drawn height when it narrows, so once the drawing has loaded it gets the drawing's aspect
 * ratio and scales to the column like the image charts.
 *
 * Readable or replaced: a chart scaled down until its smallest text falls under 11 px (a wide chart
 * on a phone) is replaced by the table of its numbers, with a button to show the chart anyway.
 *
 * Keyboard and touch: the marks of an interactive chart are one Tab stop; the arrow keys move to the
 * nearest mark in their direction. Focusing a mark, or tapping it, shows what hovering shows (its
 * title) in a tip under the chart; a second tap on the same mark follows its link.
 *
 * Without JavaScript every chart keeps its drawn size and its table stays one click away. */
(function () {
  "use strict";

  var MIN_TEXT = 11; // px: the smallest text a chart may show
  var svgText = {};

  function smallestFont(root) {
    var least = Infinity;
    root.querySelectorAll("text").forEach(function (t) {
      var size = parseFloat(t.getAttribute("font-size") || "");
      if (size > 0 && size < least) least = size;
    });
    return least === Infinity ? MIN_TEXT : least;
  }

  // An image chart's smallest text, read from its file (already in the browser's cache).
  function imageFont(img, done) {
    var url = img.currentSrc || img.src;
    if (svgText[url] !== undefined) return done(svgText[url]);
    if (!window.fetch || window.location.protocol === "file:") return done(MIN_TEXT);
    fetch(url).then(function (r) { return r.text(); }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "image/svg+xml");
      svgText[url] = smallestFont(doc);
      done(svgText[url]);
    }).catch(function () { done(MIN_TEXT); });
  }

  function readable(figure, drawnWidth, font) {
    var shown = figure.getBoundingClientRect().width;
    var scale = drawnWidth > 0 ? Math.min(1, shown / drawnWidth) : 1;
    return font * scale >= MIN_TEXT - 0.01;
  }

  // Swap the chart for its table, or back; the visitor's own choice is kept.
  function settle(figure, ok) {
    if (figure.hasAttribute("data-chart-forced")) ok = true;
    var table = figure.nextElementSibling;
    var note = figure.querySelector(".chart-small-note");
    figure.classList.toggle("chart--as-table", !ok);
    if (!ok && !note) {
      note = document.createElement("p");
      note.className = "chart-small-note";
      note.textContent = "On a screen this narrow the chart's text would be too small to read, so its numbers are shown as a table. ";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "md-button";
      button.textContent = "Show the chart anyway";
      button.addEventListener("click", function () {
        figure.setAttribute("data-chart-forced", "");
        settle(figure, true);
      });
      note.appendChild(button);
      figure.appendChild(note);
    }
    if (note) note.hidden = ok;
    if (table && table.matches("details.chart-data")) {
      if (!ok) { table.open = true; table.setAttribute("data-opened-for-phone", ""); }
      else if (table.hasAttribute("data-opened-for-phone")) { table.open = false; table.removeAttribute("data-opened-for-phone"); }
    }
  }

  function check(figure) {
    var object = figure.querySelector("object");
    if (object) {
      var svg = object.contentDocument && object.contentDocument.documentElement;
      if (!svg || svg.nodeName.toLowerCase() !== "svg") return;
      settle(figure, readable(figure, parseFloat(object.getAttribute("data-width")) || 0, smallestFont(svg)));
      return;
    }
    var img = figure.querySelector("img");
    if (!img || !img.complete || !img.naturalWidth) return;
    imageFont(img, function (font) { settle(figure, readable(figure, img.naturalWidth, font)); });
  }

  function fit(object) {
    var svg = object.contentDocument && object.contentDocument.documentElement;
    if (!svg || svg.nodeName.toLowerCase() !== "svg") return;
    var width = parseFloat(svg.getAttribute("width"));
    var height = parseFloat(svg.getAttribute("height"));
    if (!(width > 0 && height > 0)) return;
    if (!svg.getAttribute("viewBox")) svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    object.setAttribute("data-width", width);
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    object.style.width = width + "px";
    object.style.maxWidth = "100%";
    object.style.height = "auto";
    object.style.aspectRatio = width + " / " + height;
    var figure = object.closest("figure");
    figure.classList.add("chart--fitted");
    marks(object, figure);
    check(figure);
  }

  // The links a visitor moves between: those drawn as shapes (a cell's label is the same link again).
  function markLinks(doc) {
    return Array.prototype.filter.call(doc.querySelectorAll("a"), function (a) {
      return a.querySelector("path, rect, circle, line, polygon");
    });
  }

  function centre(el) {
    var r = el.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height, r: r };
  }

  // The nearest mark in the arrow's direction, preferring the same row (or column).
  function nearest(links, from, key) {
    var c = centre(from), best = null, score = Infinity;
    links.forEach(function (a) {
      if (a === from) return;
      var d = centre(a), dx = d.x - c.x, dy = d.y - c.y, s;
      if (key === "ArrowRight" && dx > 1) s = dx + Math.abs(dy) * 4;
      else if (key === "ArrowLeft" && dx < -1) s = -dx + Math.abs(dy) * 4;
      else if (key === "ArrowDown" && dy > 1) s = dy + Math.abs(dx) * 4;
      else if (key === "ArrowUp" && dy < -1) s = -dy + Math.abs(dx) * 4;
      else return;
      if (s < score) { score = s; best = a; }
    });
    return best;
  }

  function tipText(a) {
    var title = a.querySelector("title");
    return (title ? title.textContent : a.getAttribute("aria-label") || "").trim();
  }

  function marks(object, figure) {
    var doc = object.contentDocument;
    if (!doc || doc.documentElement.hasAttribute("data-marks-ready")) return;
    doc.documentElement.setAttribute("data-marks-ready", "");
    var links = markLinks(doc);
    if (!links.length) return;
    doc.querySelectorAll("a").forEach(function (a) { a.setAttribute("tabindex", "-1"); });
    links[0].setAttribute("tabindex", "0");

    var tip = figure.querySelector(".chart-tip");
    if (!tip) {
      tip = document.createElement("p");
      tip.className = "chart-tip";
      tip.setAttribute("role", "status");
      tip.hidden = true;
      figure.appendChild(tip);
    }
    var tapped = null;

    function show(a) {
      tip.textContent = tipText(a);
      var o = object.getBoundingClientRect(), f = figure.getBoundingClientRect(), m = centre(a);
      tip.style.left = Math.max(0, Math.min(o.left - f.left + m.r.left, f.width - 260)) + "px";
      tip.style.top = (o.top - f.top + m.r.bottom + 6) + "px";
      tip.hidden = false;
    }
    function hide() { tip.hidden = true; tapped = null; }

    doc.addEventListener("keydown", function (event) {
      var from = doc.activeElement && doc.activeElement.closest ? doc.activeElement.closest("a") : null;
      if (!from) return;
      if (event.key === "Escape") { hide(); return; }
      var to = nearest(links, from, event.key);
      if (!to) return;
      event.preventDefault();
      from.setAttribute("tabindex", "-1");
      to.setAttribute("tabindex", "0");
      to.focus();
    });
    doc.addEventListener("focusin", function (event) {
      var a = event.target.closest ? event.target.closest("a") : null;
      if (!a || links.indexOf(a) < 0) return;
      links.forEach(function (l) { l.setAttribute("tabindex", l === a ? "0" : "-1"); });
      show(a);
    });
    doc.addEventListener("focusout", function () { if (!tapped) hide(); });
    // A tap (not a mouse click) first shows the mark's numbers; a second tap on it follows the link.
    doc.addEventListener("click", function (event) {
      if (event.pointerType !== "touch") return;
      var a = event.target.closest ? event.target.closest("a") : null;
      if (!a) return;
      var mark = links.indexOf(a) >= 0 ? a : links.filter(function (l) { return tipText(l) === tipText(a); })[0] || a;
      if (tapped === mark) return;
      event.preventDefault();
      tapped = mark;
      show(mark);
    });
  }

  function init() {
    document.querySelectorAll("figure.chart--interactive object").forEach(function (object) {
      if (object.contentDocument && object.contentDocument.readyState === "complete") fit(object);
      object.addEventListener("load", function () { fit(object); });
    });
    document.querySelectorAll("figure.chart:not(.chart--interactive) img").forEach(function (img) {
      var figure = img.closest("figure");
      if (img.complete) check(figure);
      img.addEventListener("load", function () { check(figure); });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { document.querySelectorAll("figure.chart").forEach(check); }, 150);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
