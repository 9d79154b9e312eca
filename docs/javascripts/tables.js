/* Sorting and filtering for tables inside a `.filterable` block, with the view kept in the address.
 * Works with the keyboard (buttons in headings, labelled inputs) and keeps the table readable
 * without JavaScript.
 *
 * Filters: a block may hold a hidden `.table-facets` list of <select data-facet="key">, whose values
 * each row lists in its `data-facet-key` attribute (space-separated; templates/_filter_table.md.j2);
 * without one, a list is made for each column of a few distinct values, matched on the cell's text.
 * The address: the text filter is `q`, each list its key (a facet's key, or the column heading as a
 * slug), the sorted column `sort` (with `order=desc`); a second table on a page prefixes its keys
 * with `t2-`. Changes replace the address (no new history entry), and opening that address again
 * restores the view. "Download this view as CSV" saves the rows shown, in their order, from the
 * page itself (a Blob: no server, also from a file).
 *
 * Columns: a heading may carry `data-priority` (1 always shown ... 4 shown only when chosen) and
 * `data-facet` (the filter list that acts on it). A wide table first hides its least important
 * columns until it fits its column, rightmost first; "Columns" lets the reader choose, and the
 * choice is kept in the address (`cols`). A filter list is offered only while its column shows, and
 * a filter chosen through the address shows its column. On a phone each row is a card whose fields
 * are named by their headings. */
(function () {
  "use strict";

  function clean(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  function cellText(row, i) {
    var cell = row.cells[i];
    return cell ? clean(cell.textContent) : "";
  }

  // What a cell sorts by: the number a template gives in data-sort, or else its text.
  function sortKey(row, i) {
    var cell = row.cells[i];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : clean(cell.textContent);
  }

  function number(text) {
    var t = text.replace(/\u2212/g, "-"); // pages print negative numbers with a minus sign
    return /^-?(\d|\.\d)/.test(t) ? parseFloat(t) : NaN;
  }

  function compare(a, b) {
    var na = number(a), nb = number(b);
    if (!isNaN(na) && !isNaN(nb)) return na - nb;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function missing(key) {
    return key === "" || key === "–";
  }

  function slug(text) {
    return text.normalize("NFKD").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, ""); // I² -> i2
  }

  // A CSV field: quoted when it holds a quote, comma or line break; a field a spreadsheet would
  // run as a formula (=, +, -, @) starts with an apostrophe instead.
  function csvField(text) {
    if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function download(name, text) {
    var url = URL.createObjectURL(new Blob(["\ufeff" + text], { type: "text/csv;charset=utf-8" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function setAddress(params) {
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    if (url === location.pathname + location.search + location.hash) return;
    try {
      history.replaceState(history.state, "", url);
    } catch (e) {
      // a browser that refuses to change a file's address: the view still works, unsaved
    }
  }

  function enhance(table, index) {
    if (table.dataset.enhanced) return;
    table.dataset.enhanced = "1";
    var head = table.tHead ? table.tHead.rows[0] : null;
    var body = table.tBodies[0];
    if (!head || !body) return;
    var block = table.closest(".filterable");
    var noun = (block && block.dataset.noun) || "rows";
    var prefix = index ? "t" + (index + 1) + "-" : "";
    var rows = Array.prototype.slice.call(body.rows);
    var names = Array.prototype.map.call(head.cells, function (c) { return clean(c.textContent); });

    var tools = document.createElement("div");
    tools.className = "table-tools";
    tools.setAttribute("role", "search");
    tools.setAttribute("aria-label", "Filter the table");
    var search = document.createElement("input");
    search.type = "search";
    search.placeholder = "Filter " + noun;
    search.setAttribute("aria-label", "Filter the table by any text");
    search.id = "table-filter-" + index;
    tools.appendChild(search);

    // Each filter list: its address key, its <select>, and whether a row passes its value.
    var filters = [];
    var facets = block ? block.querySelector(".table-facets") : null;
    var declared = facets ? facets.querySelectorAll("select[data-facet]") : [];
    Array.prototype.forEach.call(declared, function (sel) {
      var attribute = "data-facet-" + sel.dataset.facet;
      tools.appendChild(sel);
      filters.push({
        key: sel.dataset.facet,
        select: sel,
        passes: function (row, value) {
          return (row.getAttribute(attribute) || "").split(" ").indexOf(value) !== -1;
        },
      });
    });
    if (facets) facets.remove();
    if (!declared.length) {
      names.forEach(function (name, i) {
        var values = {};
        rows.forEach(function (r) {
          cellText(r, i).split(/,\s*/).forEach(function (v) { if (v) values[v] = true; });
        });
        var keys = Object.keys(values);
        if (keys.length < 2 || keys.length > 60 || /^(review|studies|effects)$/i.test(name)) return;
        var sel = document.createElement("select");
        sel.setAttribute("aria-label", "Filter by " + name);
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
        filters.push({
          key: slug(name),
          select: sel,
          passes: function (row, value) { return cellText(row, i).split(/,\s*/).indexOf(value) !== -1; },
        });
      });
    }

    // Columns: which are shown (chosen by the reader, or else by priority and width).
    var priority = Array.prototype.map.call(head.cells, function (c) { return parseInt(c.getAttribute("data-priority") || "1", 10); });
    var facetOf = Array.prototype.map.call(head.cells, function (c) { return c.getAttribute("data-facet") || ""; });
    var chosenColumns = null; // null: by priority and width; else an array of booleans
    var columns = document.createElement("details");
    columns.className = "table-columns";
    var columnsSummary = document.createElement("summary");
    columns.appendChild(columnsSummary);
    var boxes = names.map(function (name, i) {
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.addEventListener("change", function () {
        chosenColumns = boxes.map(function (b) { return b.checked; });
        showColumns();
        remember();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + name));
      columns.appendChild(label);
      return box;
    });
    if (priority.some(function (p) { return p > 1; })) tools.appendChild(columns);

    var count = document.createElement("span");
    count.className = "count";
    count.setAttribute("aria-live", "polite");
    tools.appendChild(count);

    var save = document.createElement("button");
    save.type = "button";
    save.className = "md-button table-download";
    save.textContent = "Download this view as CSV";
    tools.appendChild(save);

    // Above the table's horizontal scroll box (the theme's wrapper), so that on a phone the filters
    // stay on screen instead of scrolling sideways with a wide table.
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    anchor.parentNode.insertBefore(tools, anchor);

    var showing = names.map(function () { return true; });
    function setColumn(i, on) {
      boxes[i].checked = on;
      if (showing[i] === on) return;
      showing[i] = on;
      head.cells[i].classList.toggle("col-hidden", !on);
      rows.forEach(function (r) { if (r.cells[i]) r.cells[i].classList.toggle("col-hidden", !on); });
    }

    function filterOn(i) {
      return filters.some(function (f) { return f.key === facetOf[i] && f.select.value; });
    }

    // By default: every column of priority 1 to 3, then the least important hidden (rightmost
    // first) while the table is wider than the page's column. A column whose filter is set shows.
    function showColumns() {
      var want = names.map(function (_, i) {
        return chosenColumns ? chosenColumns[i] || filterOn(i) : priority[i] <= 3 || filterOn(i);
      });
      want.forEach(function (on, i) { setColumn(i, on); });
      var phone = window.matchMedia("(max-width: 44.9375em)").matches;
      var room = (table.closest(".md-typeset__scrollwrap") || table.parentNode).clientWidth;
      if (!chosenColumns) {
        var order = names.map(function (_, i) { return i; }).filter(function (i) { return priority[i] > 1; });
        order.sort(function (a, b) { return priority[b] - priority[a] || b - a; });
        for (var k = 0; k < order.length; k++) {
          var i = order[k];
          if (phone ? priority[i] < 3 : table.scrollWidth <= room + 1) break;
          if (filterOn(i) || !want[i]) continue;
          setColumn(i, false);
        }
      }
      var wrap = table.closest(".md-typeset__scrollwrap");
      if (wrap) {
        wrap.classList.remove("table-scrolls");
        wrap.classList.toggle("table-scrolls", !phone && table.scrollWidth > room + 1);
      }
      var shown = boxes.filter(function (b) { return b.checked; }).length;
      columnsSummary.textContent = "Columns (" + shown + " of " + names.length + ")";
      filters.forEach(function (f) {
        var i = facetOf.indexOf(f.key);
        f.select.hidden = i !== -1 && !boxes[i].checked;
      });
    }

    // Card labels on a phone: each cell named by its heading.
    rows.forEach(function (r) {
      Array.prototype.forEach.call(r.cells, function (c, i) { if (names[i]) c.setAttribute("data-label", names[i]); });
    });

    var sorted = null; // {column, descending}
    var sortKeys = names.map(slug);

    function remember() {
      var params = new URLSearchParams(location.search);
      ["q", "sort", "order"].concat(filters.map(function (f) { return f.key; })).forEach(function (k) {
        params.delete(prefix + k);
      });
      var q = search.value.trim();
      if (q) params.set(prefix + "q", q);
      filters.forEach(function (f) { if (f.select.value) params.set(prefix + f.key, f.select.value); });
      params.delete(prefix + "cols");
      if (chosenColumns) {
        params.set(prefix + "cols", sortKeys.filter(function (_, i) { return chosenColumns[i]; }).join(" "));
      }
      if (sorted) {
        params.set(prefix + "sort", sortKeys[sorted.column]);
        if (sorted.descending) params.set(prefix + "order", "desc");
      }
      setAddress(params);
    }

    function apply() {
      var q = search.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (r) {
        var ok = !q || r.textContent.toLowerCase().indexOf(q) !== -1;
        filters.forEach(function (f) {
          if (ok && f.select.value) ok = f.passes(r, f.select.value);
        });
        r.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }

    // Text narrows the rows only; a list may also show the column it filters on.
    function typed() {
      apply();
      remember();
    }

    function changed() {
      apply();
      showColumns();
      remember();
    }

    function sortBy(i, descending) {
      sorted = { column: i, descending: descending };
      Array.prototype.forEach.call(head.cells, function (o) { o.setAttribute("aria-sort", "none"); });
      head.cells[i].setAttribute("aria-sort", descending ? "descending" : "ascending");
      // Empty cells last whichever the direction; equal keys keep their order (a stable sort).
      var keyed = rows.map(function (r, n) { return { row: r, key: sortKey(r, i), n: n }; });
      keyed.sort(function (a, b) {
        var ma = missing(a.key), mb = missing(b.key);
        if (ma || mb) return ma === mb ? a.n - b.n : ma ? 1 : -1;
        var c = compare(a.key, b.key);
        return (descending ? -c : c) || a.n - b.n;
      });
      rows = keyed.map(function (k) { return k.row; });
      rows.forEach(function (r) { body.appendChild(r); });
    }

    Array.prototype.forEach.call(head.cells, function (th, i) {
      var button = document.createElement("button");
      button.className = "sort";
      button.type = "button";
      button.textContent = th.textContent;
      button.setAttribute("aria-label", "Sort by " + names[i]);
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        sortBy(i, th.getAttribute("aria-sort") === "ascending");
        remember();
      });
    });

    save.addEventListener("click", function () {
      var lines = [names.map(csvField).join(",")];
      rows.forEach(function (r) {
        if (r.hidden) return;
        lines.push(names.map(function (_, i) { return csvField(cellText(r, i)); }).join(","));
      });
      download(slug(noun) + "-view.csv", lines.join("\r\n") + "\r\n");
    });

    // The view the address names, if any: values no list offers are ignored.
    var params = new URLSearchParams(location.search);
    search.value = params.get(prefix + "q") || "";
    filters.forEach(function (f) {
      var wanted = params.get(prefix + f.key);
      if (wanted !== null) f.select.value = wanted;
      if (f.select.value !== (wanted || "")) f.select.value = "";
    });
    var cols = params.get(prefix + "cols");
    if (cols !== null) {
      var keep = cols.split(" ");
      chosenColumns = sortKeys.map(function (k) { return keep.indexOf(k) !== -1; });
    }
    var narrowing = null;
    window.addEventListener("resize", function () { clearTimeout(narrowing); narrowing = setTimeout(showColumns, 150); });
    var column = sortKeys.indexOf(params.get(prefix + "sort") || "");
    if (column !== -1) sortBy(column, params.get(prefix + "order") === "desc");
    search.addEventListener("input", typed);
    filters.forEach(function (f) { f.select.addEventListener("change", changed); });
    changed();
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
