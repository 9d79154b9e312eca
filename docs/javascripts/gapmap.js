/* The evidence gap map (templates/gapmap.md.j2): one view at a time, filters that recount every
 * cell, one Tab stop per map with the arrow keys moving between cells, and a cell's reviews in a
 * dialog. The filters are kept in the address (?view=sources&source=bm), so a view can be shared.
 * Without JavaScript the page shows both views with every cell's list below its map. */
(function () {
  "use strict";

  function words(el, name) {
    var value = el.getAttribute("data-" + name) || "";
    return value ? value.split(" ") : [];
  }

  // The dialog a cell opens its reviews in (only the script opens cells, so only it makes one).
  function makeDialog(root) {
    var dialog = document.createElement("dialog");
    dialog.className = "gap-dialog";
    dialog.setAttribute("aria-labelledby", "gap-dialog-title");
    var head = document.createElement("div");
    head.className = "gap-dialog__head";
    var title = document.createElement("h2");
    title.id = "gap-dialog-title";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "gap-dialog__close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "\u00d7";
    head.appendChild(title);
    head.appendChild(close);
    var body = document.createElement("div");
    body.className = "gap-dialog__body md-typeset";
    dialog.appendChild(head);
    dialog.appendChild(body);
    root.appendChild(dialog);
    return dialog;
  }

  function setup(root) {
    var tools = root.querySelector(".gapmap-tools");
    var selects = {};
    root.querySelectorAll("[data-gap-filter]").forEach(function (s) { selects[s.getAttribute("data-gap-filter")] = s; });
    // The lists that filter the reviews inside each cell (the others act on rows, cells or the view).
    var facets = Array.prototype.map.call(root.querySelectorAll("[data-gap-facet]"), function (s) {
      return s.getAttribute("data-gap-filter");
    });
    var views = Array.prototype.slice.call(root.querySelectorAll(".gapmap-view"));
    var dialog = makeDialog(root);
    var count = root.querySelector(".gapmap-count");
    var most = {};
    views.forEach(function (view, i) { most[view.getAttribute("data-view")] = parseFloat((root.getAttribute("data-most") || "").split(" ")[i]) || 1; });
    root.classList.add("gapmap--js");
    tools.hidden = false;
    tools.open = window.matchMedia("(min-width: 45em)").matches || window.location.search.length > 1;

    // The address holds the chosen values; an unknown value is ignored rather than trusted.
    var params = new URLSearchParams(window.location.search);
    Object.keys(selects).forEach(function (key) {
      var value = params.get(key);
      if (value && Array.prototype.some.call(selects[key].options, function (o) { return o.value === value; })) {
        selects[key].value = value;
      }
    });

    function chosen(key) { return selects[key] ? selects[key].value : ""; }

    function matches(li) {
      return facets.every(function (key) { var want = chosen(key); return !want || words(li, key).indexOf(want) >= 0; });
    }

    function apply() {
      var viewKey = chosen("view") || "outcomes";
      var category = chosen("category"), certainty = chosen("certainty");
      var reviews = {}, cells = 0;
      views.forEach(function (view) {
        var key = view.getAttribute("data-view");
        view.hidden = key !== viewKey;
        view.querySelectorAll("tbody[data-category]").forEach(function (body) {
          body.hidden = !!category && body.getAttribute("data-category") !== category;
        });
        view.querySelectorAll("a.gap-cell").forEach(function (a) {
          var panel = document.getElementById(a.getAttribute("data-panel"));
          var td = a.parentNode;
          var items = panel ? panel.querySelectorAll("li[data-review]") : [];
          var n = 0;
          Array.prototype.forEach.call(items, function (li) {
            var ok = matches(li);
            if (!li.classList.contains("gap-more")) li.hidden = !ok;
            if (ok) {
              n += 1;
              if (key === viewKey && !td.parentNode.parentNode.hidden) reviews[li.getAttribute("data-review")] = true;
            }
          });
          var shown = n > 0 && (!certainty || td.getAttribute("data-certainty") === certainty);
          a.hidden = !shown;
          td.classList.toggle("gap-filtered", !shown);
          if (!shown) return;
          if (key === viewKey && !td.parentNode.parentNode.hidden) cells += 1;
          var bubble = a.querySelector(".gap-bubble");
          bubble.textContent = String(n);
          bubble.style.setProperty("--gap-size", Math.sqrt(n / most[key]).toFixed(2));
          var label = a.getAttribute("aria-label").replace(/: \d+ reviews?,/, ": " + n + (n === 1 ? " review," : " reviews,"));
          a.setAttribute("aria-label", label);
        });
        roving(view.querySelector("table.gapmap-grid"), false);
      });
      var filtered = Object.keys(selects).some(function (k) { return k !== "view" && chosen(k); });
      count.textContent = (filtered ? "Filtered: " : "") + Object.keys(reviews).length + " reviews in " + cells + " cells.";
      var next = new URLSearchParams(window.location.search);
      Object.keys(selects).forEach(function (k) {
        var value = chosen(k);
        if (value && !(k === "view" && value === "outcomes")) next.set(k, value); else next.delete(k);
      });
      var query = next.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
    }

    // The grid's focus targets, row by row: the condition's link, then each cell's link (or the
    // empty cell itself, so a gap is announced too). Only one of them is in the Tab order.
    function grid(table) {
      var rows = [];
      table.querySelectorAll("tbody:not([hidden]) tr:not(.gapmap-group)").forEach(function (tr) {
        var row = [tr.querySelector("th a")];
        tr.querySelectorAll("td").forEach(function (td) {
          var a = td.querySelector("a.gap-cell");
          row.push(a && !a.hidden ? a : td);
        });
        rows.push(row);
      });
      return rows;
    }

    function roving(table, keep) {
      var rows = grid(table);
      var current = keep ? table.querySelector("[tabindex='0']") : null;
      table.querySelectorAll("a, td").forEach(function (el) { el.setAttribute("tabindex", "-1"); });
      table.querySelectorAll("td").forEach(function (td) {
        if (!td.querySelector("a.gap-cell:not([hidden])")) {
          var th = td.closest("tr").querySelector("th");
          var col = table.tHead.rows[0].cells[td.cellIndex];
          td.setAttribute("aria-label", th.textContent.trim() + ", " + col.textContent.trim() + ": no meta-analysis");
        } else {
          td.removeAttribute("tabindex");
          td.removeAttribute("aria-label");
        }
      });
      var first = rows.length ? rows[0][0] : null;
      var target = current && rows.some(function (r) { return r.indexOf(current) >= 0; }) ? current : first;
      if (target) target.setAttribute("tabindex", "0");
    }

    function move(table, from, key) {
      var rows = grid(table), r = -1, c = -1;
      rows.forEach(function (row, i) { var j = row.indexOf(from); if (j >= 0) { r = i; c = j; } });
      if (r < 0) return null;
      if (key === "ArrowRight") c = Math.min(c + 1, rows[r].length - 1);
      else if (key === "ArrowLeft") c = Math.max(c - 1, 0);
      else if (key === "ArrowDown") r = Math.min(r + 1, rows.length - 1);
      else if (key === "ArrowUp") r = Math.max(r - 1, 0);
      else if (key === "Home") c = 0;
      else if (key === "End") c = rows[r].length - 1;
      else if (key === "PageDown") r = Math.min(r + 5, rows.length - 1);
      else if (key === "PageUp") r = Math.max(r - 5, 0);
      else return null;
      return rows[r][Math.min(c, rows[r].length - 1)];
    }

    // The map is one Tab stop, so its skip link has nothing to skip (the lists it leads to are hidden).
    root.querySelectorAll(".gapmap-skip").forEach(function (a) { a.hidden = true; });
    root.querySelectorAll("table.gapmap-grid").forEach(function (table) {
      table.addEventListener("keydown", function (event) {
        var next = move(table, document.activeElement, event.key);
        if (!next) return;
        event.preventDefault();
        table.querySelectorAll("[tabindex='0']").forEach(function (el) { el.setAttribute("tabindex", "-1"); });
        next.setAttribute("tabindex", "0");
        next.focus();
      });
      table.addEventListener("focusin", function (event) {
        var el = event.target;
        if (el.getAttribute("tabindex") === "0") return;
        table.querySelectorAll("[tabindex='0']").forEach(function (x) { x.setAttribute("tabindex", "-1"); });
        el.setAttribute("tabindex", "0");
      });
    });

    function open(a) {
      var panel = document.getElementById(a.getAttribute("data-panel"));
      if (!panel || !dialog || typeof dialog.showModal !== "function") return false;
      var body = dialog.querySelector(".gap-dialog__body");
      body.replaceChildren();
      dialog.querySelector("h2").textContent = panel.querySelector("h4").textContent.replace(/¶$/, "").trim();
      Array.prototype.forEach.call(panel.children, function (child) {
        if (child.tagName === "H4") return;
        var copy = child.cloneNode(true);
        copy.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
        copy.querySelectorAll(".gap-more, .headerlink").forEach(function (el) { el.remove(); });
        body.appendChild(copy);
      });
      var items = panel.querySelectorAll("li[data-review]");
      var n = Array.prototype.filter.call(items, matches).length, total = items.length;
      var line = body.querySelector(".gap-n");
      if (line && n !== total) line.textContent = n + " of " + total + " reviews match the filters";
      dialog.returnTo = a;
      dialog.showModal();
      dialog.querySelector(".gap-dialog__close").focus();
      return true;
    }

    root.addEventListener("click", function (event) {
      var a = event.target.closest("a.gap-cell");
      if (a && open(a)) event.preventDefault();
    });
    if (dialog) {
      dialog.querySelector(".gap-dialog__close").addEventListener("click", function () { dialog.close(); });
      dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
      dialog.addEventListener("close", function () { if (dialog.returnTo) dialog.returnTo.focus(); });
    }
    Object.keys(selects).forEach(function (key) { selects[key].addEventListener("change", apply); });
    root.querySelector(".gapmap-reset").addEventListener("click", function () {
      Object.keys(selects).forEach(function (key) { if (key !== "view") selects[key].value = ""; });
      apply();
    });
    apply();
    // An address naming a cell (#gap-outcomes-sepsis-function) opens it.
    var named = window.location.hash && root.querySelector("a.gap-cell[data-panel='" + window.location.hash.slice(1).replace(/[^a-z0-9-]/g, "") + "']");
    if (named) {
      var view = named.closest(".gapmap-view").getAttribute("data-view");
      if (selects.view && selects.view.value !== view) { selects.view.value = view; apply(); }
      open(named);
    }
  }

  function init() { document.querySelectorAll(".gapmap").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
