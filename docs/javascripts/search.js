/* The header's search button (overrides/partials/pagefind.html). Pagefind's search dialog (its
 * component UI) and index live in pagefind/ at the site root, written by `build.py build`; none of
 * it is fetched with the page. The first use of the button, or "/" anywhere outside a text field,
 * loads the dialog's script and style sheet, then the dialog fetches only the parts of the index a
 * query needs. Keys typed while it loads are kept and become the query.
 *
 * Without an index (the live preview of `build.py serve`, or a copy of site/ opened from disk) the
 * button opens a short note saying so instead of failing silently.
 *
 * Ranking and filters: Pagefind's defaults, with the hidden metadata of condition and EV source
 * pages (evidence_map/searchterms.py) boosted: a page's own names and abbreviations ("names") twice
 * as much as a title, the words that belong to it ("related": outcomes, synonyms) a little more than
 * a title but less than names. So "SCI" ranks the spinal cord injury page above the reviews that
 * mention it, "SCr" the kidney pages above Screening (Pagefind matches word starts), and "AT" the
 * adipose tissue page above the page whose related words say "attachment". The dialog offers the
 * filters those pages carry. Both are in window.SiteSearch, which tests/test_search_field.py uses.
 * Those words are metadata, never part of a page's indexed text, so no excerpt shows them. Pages a
 * visitor names by a task ("submit", "new review") carry it as "keywords" (overrides/main.html).
 *
 * Two things Pagefind does not: a word of one letter ("a" in "add a review") is dropped from the
 * query, since Pagefind matches word starts and "a" starts almost every page's words; and a query
 * that names a measure or a quality rating ("SMD", "AMSTAR low", "risk of bias high") gets a link
 * above the results to the table that lists what matches, filtered through its address
 * (assets/search-shortcuts.json, written by evidence_map/publishing/shortcuts.py). */
(function () {
  "use strict";

  var SEARCH = {
    // searchterms.TIERS, and the keywords of hand-picked pages (overrides/main.html)
    ranking: { metaWeights: { title: 5, names: 10, related: 6, mentioned: 0.2, everywhere: 0.1, keywords: 10 } },
    filters: ["Verdict", "Organ system", "EV source", "Species"], // searchterms.FILTERS
  };
  window.SiteSearch = SEARCH;

  var button = document.querySelector(".site-search__button");
  if (!button) return;
  var site = new URL(button.getAttribute("data-site-root") || "./", location.href);
  var bundle = new URL("pagefind/", site);
  var loading = null;
  var typed = null; // the keys typed since the dialog was asked for, until it opens
  var shortcuts = { fillers: [], shortcuts: [] };
  button.hidden = false;

  function fetchAsset(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
      el.onload = resolve;
      el.onerror = function () { el.remove(); reject(new Error("could not load " + (attrs.href || attrs.src))); };
      document.head.appendChild(el);
    });
  }

  function load() {
    if (!loading) {
      loading = Promise.all([
        fetchAsset("link", { rel: "stylesheet", href: bundle.href + "pagefind-component-ui.css" }),
        fetchAsset("link", { rel: "stylesheet", href: new URL("stylesheets/search.css", site).href }),
        fetchAsset("script", { src: bundle.href + "pagefind-component-ui.js" }),
        loadShortcuts(),
      ]).then(function () {
        // Result links start at the site root, which may be a sub-path (site_url).
        var instance = window.PagefindComponents.configureInstance("default", {
          bundlePath: bundle.pathname,
          baseUrl: site.pathname,
          ranking: SEARCH.ranking,
        });
        var modal = searchDialog();
        var list = modal.querySelector(".site-search__shortcuts");
        var search = instance.triggerSearch.bind(instance);
        instance.triggerSearch = function (term) {
          showShortcuts(list, term || "");
          return search(withoutLetters(term || ""));
        };
        var results = modal.querySelector("pagefind-results");
        results.resultTemplate = function (data) { return renderResult(data, results.instance); };
        return modal;
      });
      loading.catch(function () { loading = null; }); // try again on the next use
    }
    return loading;
  }

  // The shortcuts to filtered tables; without them (a file that failed to load) search works as before.
  function loadShortcuts() {
    return fetch(new URL("assets/search-shortcuts.json", site).href)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) shortcuts = data; }, function () {});
  }

  function queryWords(term) {
    return (term.toLowerCase().match(/[a-z0-9]+/g) || []).filter(function (w) {
      return shortcuts.fillers.indexOf(w) === -1;
    });
  }

  // The query without its words of one letter, unless that is all it has.
  function withoutLetters(term) {
    var kept = term.split(/\s+/).filter(function (w) { return w.length > 1; });
    return kept.length ? kept.join(" ") : term;
  }

  // The shortcuts whose words are the query's, as a set (order, case and fillers aside).
  function matching(term) {
    var words = queryWords(term).filter(function (w, i, all) { return all.indexOf(w) === i; }).sort().join(" ");
    return shortcuts.shortcuts.filter(function (s) {
      return words && s.match.some(function (m) { return m.join(" ") === words; });
    });
  }

  function showShortcuts(box, term) {
    var found = matching(term);
    var list = box.querySelector("ul");
    list.textContent = "";
    found.forEach(function (s) {
      var item = document.createElement("li");
      var url = new URL(s.url, site);
      item.appendChild(link("site-search__shortcut", url.pathname + url.search, s.label));
      list.appendChild(item);
    });
    box.hidden = !found.length;
  }

  // Pagefind's own dialog, with a row of filters above the results (added once the dialog has
  // built its parts: built beforehand, they would be set up twice).
  function searchDialog() {
    var modal = document.createElement("pagefind-modal");
    modal.className = "site-search__modal";
    document.body.appendChild(modal);
    var filters = make("div", "site-search__filters");
    SEARCH.filters.forEach(function (name) {
      var dropdown = document.createElement("pagefind-filter-dropdown");
      dropdown.setAttribute("filter", name);
      dropdown.setAttribute("sort", "alphabetical"); // Pagefind's own order of values changes at each build
      dropdown.setAttribute("hide-clear", ""); // a value is unticked in the list; the badge counts those ticked
      filters.appendChild(dropdown);
    });
    var body = modal.querySelector("pagefind-modal-body");
    body.insertBefore(filters, body.firstChild);
    var box = make("div", "site-search__shortcuts");
    box.hidden = true;
    var heading = make("p", "site-search__shortcuts-title", "The table of what you searched for");
    heading.id = "site-search-shortcuts-title";
    var list = document.createElement("ul");
    list.setAttribute("aria-labelledby", heading.id);
    box.append(heading, list);
    body.insertBefore(box, filters.nextSibling);
    // Pagefind's filter button is a combobox, which takes its accessible name only from a label,
    // not from its text (and Pagefind sets an aria-label only once a value is ticked): name it by
    // the text it shows.
    filters.querySelectorAll(".pf-dropdown-trigger").forEach(function (trigger) {
      var label = trigger.querySelector(".pf-dropdown-trigger-label");
      if (!label || trigger.hasAttribute("aria-labelledby")) return;
      label.id = trigger.id + "-label";
      trigger.setAttribute("aria-labelledby", label.id);
    });
    return modal;
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function link(className, url, text) {
    var a = make("a", className, text);
    if (/^(\/|https?:)/.test(url)) a.href = url;
    return a;
  }

  // One result, as Pagefind's built-in result template (1.5) draws it, with two changes: the kind
  // of page (condition, EV source, review; overrides/main.html) after the title, and no section
  // link for the page's own heading, which would repeat the result itself. Excerpts are Pagefind's
  // HTML: the page's text, escaped, with the matched words in <mark>.
  function renderResult(data, instance) {
    var meta = data.meta || {};
    var url = meta.url || data.url;
    var item = make("li", "pf-result");
    var card = make("div", "pf-result-card");
    var content = make("div", "pf-result-content");
    var title = make("p", "pf-result-title");
    title.appendChild(link("pf-result-link", url, meta.title || url));
    if (meta.kind) title.append(" ", make("span", "site-search__kind", meta.kind));
    content.appendChild(title);
    if (data.excerpt) {
      var excerpt = make("p", "pf-result-excerpt");
      excerpt.innerHTML = data.excerpt;
      content.appendChild(excerpt);
    }
    card.appendChild(content);
    item.appendChild(card);
    var sections = (data.sub_results || []).filter(function (sub) { return sub.title !== meta.title; });
    sections = instance.getDisplaySubResults(Object.assign({}, data, { sub_results: sections }), 3);
    if (sections.length) {
      var list = make("ul", "pf-heading-chips");
      sections.forEach(function (sub) {
        var chip = make("li", "pf-heading-chip");
        chip.appendChild(link("pf-heading-link", sub.url, sub.title));
        var text = make("p", "pf-heading-excerpt");
        text.innerHTML = sub.excerpt || "";
        chip.appendChild(text);
        list.appendChild(chip);
      });
      item.appendChild(list);
    }
    return item;
  }

  // The dialog closes at once, but Pagefind marks it closed on its "close" event, a moment later;
  // opening it again in between would do nothing.
  function closed(modal) {
    var dialog = modal.querySelector("dialog");
    if (!modal.isOpen || !dialog || dialog.open) return modal;
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(modal); }, { once: true });
    });
  }

  function open(first) {
    if (typed !== null) return;
    typed = first || "";
    load().then(closed).then(function (modal) {
      modal.open();
      var input = modal.querySelector("input[type=search]");
      if (input) {
        input.focus();
        if (typed) {
          input.value = typed;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        } else {
          input.select(); // the last query stays; typing replaces it
        }
      }
      typed = null;
    }, function () {
      typed = null;
      notice();
    });
  }

  var note = null;
  function notice() {
    if (!note) {
      note = document.createElement("dialog");
      note.className = "site-search__notice md-typeset";
      note.setAttribute("aria-labelledby", "site-search-notice-title");
      var title = document.createElement("p");
      title.id = "site-search-notice-title";
      title.className = "site-search__notice-title";
      title.textContent = "Search is not available here";
      var text = document.createElement("p");
      function code(words) { return make("code", "", words); }
      if (location.protocol === "file:") {
        text.append("Search needs the site to be served by a web server, for example ",
          code("python3 -m http.server -d site"), ", not opened from disk.");
      } else {
        text.append("The search index is made by ", code("build.py build"), " and is part of the built " +
          "site only: the live preview (", code("build.py serve"), ") has none. Build the site to search it.");
      }
      var close = document.createElement("button");
      close.type = "button";
      close.className = "md-button md-button--primary";
      close.textContent = "Close";
      close.addEventListener("click", function () { note.close(); });
      note.append(title, text, close);
      document.body.appendChild(note);
    }
    note.showModal();
  }

  function isTextField(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function printable(ev) {
    return ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey;
  }

  button.addEventListener("click", function () { open(""); });
  // Typing on the focused button starts the query with that key; "/" opens search from anywhere but
  // a text field; keys typed while the dialog loads are kept. All three are taken before the
  // theme's own shortcuts see them ("n" and "p" turn the page).
  window.addEventListener("keydown", function (ev) {
    if (!printable(ev) || isTextField(document.activeElement)) return;
    if (typed !== null) {
      typed += ev.key;
    } else if (document.activeElement === button && ev.key !== " ") {
      open(ev.key);
    } else if (ev.key === "/" && !document.querySelector("dialog[open]")) {
      open("");
    } else {
      return;
    }
    ev.preventDefault();
    ev.stopPropagation();
  }, true);
})();
