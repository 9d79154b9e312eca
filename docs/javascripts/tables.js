/* Sorting and filtering for tables inside a `.filterable` block.
 * Works with the keyboard (buttons in headings, labelled inputs) and keeps the table readable
 * without JavaScript. */
(function () {
  "use strict";

  function cellText(row, i) {
    var cell = row.cells[i];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    if (!isNaN(na) && !isNaN(nb) && /^[\d.\-−]/.test(a) && /^[\d.\-−]/.test(b)) return na - nb;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function enhance(table, index) {
    if (table.dataset.enhanced) return;
    table.dataset.enhanced = "1";
    var head = table.tHead ? table.tHead.rows[0] : null;
    var body = table.tBodies[0];
    if (!head || !body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var names = Array.prototype.map.call(head.cells, function (c) { return c.textContent.trim(); });

    var tools = document.createElement("div");
    tools.className = "table-tools";
    tools.setAttribute("role", "search");
    tools.setAttribute("aria-label", "Filter the table");
    var search = document.createElement("input");
    search.type = "search";
    search.placeholder = "Filter reviews";
    search.setAttribute("aria-label", "Filter the table by any text");
    search.id = "table-filter-" + index;
    tools.appendChild(search);

    var selects = [];
    names.forEach(function (name, i) {
      var values = {};
      rows.forEach(function (r) {
        cellText(r, i).split(/,\s*/).forEach(function (v) { if (v) values[v] = true; });
      });
      var keys = Object.keys(values);
      if (keys.length < 2 || keys.length > 60 || /^(review|studies|effects)$/i.test(name)) return;
      var sel = document.createElement("select");
      sel.setAttribute("aria-label", "Filter by " + name);
      sel.dataset.column = String(i);
      var all = document.createElement("option");
      all.value = "";
      all.textContent = name + ": all";
      sel.appendChild(all);
      keys.sort(compare).forEach(function (k) {
        var o = document.createElement("option");
        o.value = k;
        o.textContent = k;
        sel.appendChild(o);
      });
      tools.appendChild(sel);
      selects.push(sel);
    });
    var count = document.createElement("span");
    count.className = "count";
    count.setAttribute("aria-live", "polite");
    tools.appendChild(count);
    // Above the table's horizontal scroll box (the theme's wrapper), so that on a phone the filters
    // stay on screen instead of scrolling sideways with a wide table.
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    anchor.parentNode.insertBefore(tools, anchor);

    function apply() {
      var q = search.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (r) {
        var ok = !q || r.textContent.toLowerCase().indexOf(q) !== -1;
        selects.forEach(function (s) {
          if (ok && s.value) {
            var parts = cellText(r, +s.dataset.column).split(/,\s*/);
            ok = parts.indexOf(s.value) !== -1;
          }
        });
        r.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    search.addEventListener("input", apply);
    selects.forEach(function (s) { s.addEventListener("change", apply); });
    apply();

    Array.prototype.forEach.call(head.cells, function (th, i) {
      var button = document.createElement("button");
      button.className = "sort";
      button.type = "button";
      button.textContent = th.textContent;
      button.setAttribute("aria-label", "Sort by " + th.textContent.trim());
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.cells, function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (a, b) { var c = compare(cellText(a, i), cellText(b, i)); return asc ? c : -c; });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  // "Skip to content" moves the keyboard focus to the page's heading itself, so that the next Tab
  // goes on from there whatever the browser does with the focus after an in-page link.
  window.addEventListener("click", function (ev) {
    var link = ev.target instanceof Element ? ev.target.closest("a.md-skip") : null;
    var target = link ? document.getElementById(decodeURIComponent(link.hash.slice(1))) : null;
    if (!target) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }, true);

  // A box that scrolls sideways (a wide table, or on a phone a chart kept at its drawn size) can be
  // scrolled from the keyboard only if it takes the focus: while it overflows it gets tabindex=0, as
  // the theme does for code blocks (axe-core: scrollable-region-focusable).
  function markScrollable() {
    document.querySelectorAll(".md-typeset__scrollwrap, figure.chart").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
      else if (box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
    });
  }
  var pending = 0;
  function markSoon() {
    clearTimeout(pending);
    pending = setTimeout(markScrollable, 100);
  }
  window.addEventListener("resize", markSoon);
  document.addEventListener("load", function (ev) { if (ev.target.tagName === "IMG") markSoon(); }, true);

  function init() {
    document.querySelectorAll(".filterable table").forEach(enhance);
    markScrollable();
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
