/* neuralake catalog site: theme, copy buttons and search. No external requests. */
(function () {
  "use strict";
  var doc = document.documentElement;
  var KEY = "neuralake-theme";
  function storedTheme() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  var t = storedTheme();
  if (t === "light" || t === "dark") doc.setAttribute("data-theme", t);

  function rootUrl() { return new URL(doc.getAttribute("data-root") || "./", document.baseURI); }

  function setupTheme() {
    var btn = document.querySelector("button.theme");
    if (!btn) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var dark = doc.getAttribute("data-theme") === "dark" ||
        (!doc.getAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
      var next = dark ? "light" : "dark";
      doc.setAttribute("data-theme", next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode */ }
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
      document.body.appendChild(ta); ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function setupCopy() {
    document.querySelectorAll("pre[data-snippet]").forEach(function (pre) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "btn copy"; btn.textContent = "Copy";
      var label = pre.getAttribute("aria-labelledby");
      var heading = label && document.getElementById(label);
      btn.setAttribute("aria-label", "Copy " + (heading ? heading.textContent : "snippet"));
      btn.addEventListener("click", function () {
        copyText(pre.textContent).then(function () { btn.textContent = "Copied"; },
          function () { btn.textContent = "Press Ctrl+C"; selectNode(pre); });
        setTimeout(function () { btn.textContent = "Copy"; }, 2000);
      });
      var head = pre.parentNode.querySelector(".snippet-head");
      if (head) head.appendChild(btn); else pre.parentNode.insertBefore(btn, pre);
    });
  }
  function selectNode(node) {
    var r = document.createRange(); r.selectNodeContents(node);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
  }

  /* ---- search ----
     Two sources, queried in parallel: the prebuilt name index (search/names.json and search/names/*.json, at most two
     small files) answers table-name queries at once and ranks names first; the full-text index
     (searched in a web worker, assets/search-worker.js) adds columns, owners, tags and
     descriptions. */
  var seq = 0, shown = 0, total = 0, words = [], seen = {}, late = [];
  var PAGE = 10;
  /* Answers of a search that a newer one replaced are dropped by sequence number (seq). */
  var worker = null, calls = {}, callId = 0;
  function spawn() {
    worker = new Worker(new URL("assets/search-worker.js", rootUrl()).href);
    worker.onmessage = function (e) {
      var c = calls[e.data.id];
      if (!c) return;
      delete calls[e.data.id];
      if (e.data.error) c.reject(new Error(e.data.error)); else c.resolve(e.data);
    };
    worker.onerror = function (e) {
      e.preventDefault();
      dropCalls(new Error(e.message || "search worker failed"));
      worker = null;
    };
    call("init").catch(function () { /* reported by the calls that follow */ });
  }
  function dropCalls(err) {
    Object.keys(calls).forEach(function (k) { calls[k].reject(err); });
    calls = {};
  }
  function call(op, args) {
    if (!worker) spawn();
    var msg = args || {};
    msg.op = op; msg.id = ++callId; msg.root = rootUrl().href;
    return new Promise(function (resolve, reject) {
      calls[msg.id] = { op: op, resolve: resolve, reject: reject };
      worker.postMessage(msg);
    });
  }
  var shards = {};
  function fetchJson(rel) {
    if (!(rel in shards)) {
      shards[rel] = fetch(new URL(rel, rootUrl()).href).then(function (r) {
        return r.ok ? r.json() : null;
      }).catch(function () { return null; });
    }
    return shards[rel];
  }
  function shardFile(key) {
    if (/^[a-z0-9_-]+$/.test(key)) return "search/names/" + key + ".json";
    var hex = "";
    new TextEncoder().encode(key).forEach(function (b) { hex += (b < 16 ? "0" : "") + b.toString(16); });
    return "search/names/~" + hex + ".json";
  }
  function nameTokens(low) {
    return [low].concat(low.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean));
  }
  /* Table names matching the query, best first (exact name, name prefix, whole words, prefixes;
     deprecated tables after current ones). */
  function nameSearch(q, filters) {
    var low = q.trim().toLowerCase();
    var ws = low.split(/\s+/).filter(Boolean);
    if (!ws.length) return Promise.resolve([]);
    var look = Array.from(ws.slice().sort(function (a, b) { return b.length - a.length; })[0]);
    if (look.length < 2) return Promise.resolve([]);
    var root = look.slice(0, 2).join("");
    return fetchJson("search/names.json").then(function (ix) {
      if (!ix || ix.roots.indexOf(root) < 0) return null;
      return fetchJson(shardFile(root));
    }).then(function (s) {
      if (!s) return null;
      var split = {};
      (s.split || []).forEach(function (k) { split[k] = 1; });
      var n = 2;
      while (split[look.slice(0, n).join("")] && look.length > n) n++;
      var key = look.slice(0, n).join("");
      return Promise.all([key === root ? s : fetchJson(shardFile(key)), fetchJson("search/names.json")]);
    }).then(function (got) {
      if (!got || !got[0]) return [];
      var cats = (got[1] && got[1].catalogs) || [];
      var hits = [];
      got[0].t.forEach(function (row) {
        var name = row[0].toLowerCase(), toks = nameTokens(name), rank = 3, exact = true;
        if (filters.database && filters.database !== row[1]) return;
        if (filters.type && filters.type !== row[3]) return;
        if (filters.tag) return;  /* tags are not in the name index: the full-text index answers */
        for (var i = 0; i < ws.length; i++) {
          var hit = false, whole = false;
          for (var j = 0; j < toks.length; j++) {
            if (toks[j].indexOf(ws[i]) === 0) { hit = true; if (toks[j] === ws[i]) whole = true; }
          }
          if (!hit) return;
          exact = exact && whole;
        }
        if (name === low || (row[1] + "." + row[0]).toLowerCase() === low) rank = 0;
        else if (name.indexOf(low) === 0) rank = 1;
        else if (exact) rank = 2;
        hits.push({ rank: rank, name: row[0], database: row[1], href: row[2], type: row[3],
                    deprecated: !!row[4], catalog: cats.length > 1 ? cats[row[5]] : "" });
      });
      hits.sort(function (a, b) {
        return (a.deprecated - b.deprecated) || (a.rank - b.rank) || (a.name.length - b.name.length) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.database < b.database ? -1 : 1);
      });
      return hits.slice(0, PAGE);
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  /* Excerpts are HTML with <mark>; rebuild them as text + <mark> nodes only. */
  function excerptNode(html) {
    var p = el("p", "r-excerpt");
    var parsed = new DOMParser().parseFromString("<body>" + (html || ""), "text/html").body;
    parsed.childNodes.forEach(function (n) {
      if (n.nodeType === 1 && n.nodeName === "MARK") p.appendChild(el("mark", null, n.textContent));
      else p.appendChild(document.createTextNode(n.textContent));
    });
    return p;
  }
  function resultHref(url) {
    return new URL(String(url || "").replace(/^\/+/, ""), rootUrl()).href;
  }
  function matchingColumn(meta) {
    var cols = (meta.columns || "").split(" ").filter(Boolean);
    for (var i = 0; i < words.length; i++) {
      for (var j = 0; j < cols.length; j++) {
        if (cols[j].toLowerCase() === words[i]) return cols[j];
      }
    }
    for (i = 0; i < words.length; i++) {
      for (j = 0; j < cols.length; j++) {
        if (words[i].length > 1 && cols[j].toLowerCase().indexOf(words[i]) !== -1) return cols[j];
      }
    }
    return null;
  }
  function resultItem(title, href, parts, deprecated) {
    var li = el("li");
    var a = el("a", "r-title", title);
    a.href = href;
    li.appendChild(a);
    if (deprecated) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "badge warn", "deprecated")); }
    li.appendChild(el("p", "r-meta", parts.join(" · ")));
    return li;
  }
  function renderName(hit) {
    var parts = [];
    if (hit.catalog) parts.push(hit.catalog);
    parts.push("database " + hit.database, hit.type, "name match");
    var li = resultItem(hit.name, resultHref(hit.href), parts, hit.deprecated);
    li.className = "r-name";
    return li;
  }
  function renderResult(data) {
    var parts = [];
    if (data.meta.catalog) parts.push(data.meta.catalog);
    if (data.meta.database) parts.push("database " + data.meta.database);
    if (data.meta.type) parts.push(data.meta.type);
    var li = resultItem(data.meta.title || data.url, resultHref(data.url), parts, !!data.meta.deprecated);
    var col = matchingColumn(data.meta);
    var meta = li.querySelector(".r-meta");
    if (col) { meta.appendChild(document.createTextNode(" · column ")); meta.appendChild(el("code", null, col)); }
    li.appendChild(excerptNode(data.excerpt));
    return li;
  }
  function activeFilters() {
    var f = {};
    document.querySelectorAll("select[data-filter]").forEach(function (s) {
      if (s.value) f[s.getAttribute("data-filter")] = s.value;
    });
    return f;
  }
  /* Load data() only for the next page of results (never for all of them); within a page,
     deprecated tables go after current ones; tables already shown as name hits are skipped. */
  function showMore() {
    var list = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var mySeq = seq;
    var from = shown;
    shown = Math.min(total, shown + PAGE);
    return (from < shown ? call("data", { from: from, to: shown }) : Promise.resolve({ data: [] })).then(function (got) {
      var ds = got.data;
      if (mySeq !== seq) return;
      function add(d) {
        var href = resultHref(d.url);
        var shownAs = seen[href];
        if (shownAs) {
          /* a table already listed as a name match gets the excerpt (description or column doc) */
          if (shownAs.nodeType === 1 && !shownAs.querySelector(".r-excerpt")) shownAs.appendChild(excerptNode(d.excerpt));
          return;
        }
        seen[href] = 1;
        list.appendChild(renderResult(d));
      }
      ds.filter(function (d) { return !d.meta.deprecated; }).forEach(add);
      /* deprecated name matches go below every current table of the first page */
      late.forEach(function (h) { var li = renderName(h); seen[resultHref(h.href)] = li; list.appendChild(li); });
      late = [];
      ds.filter(function (d) { return !!d.meta.deprecated; }).forEach(add);
      more.hidden = shown >= total;
    });
  }
  function countText(n) { return n + " table" + (n === 1 ? "" : "s") + " found"; }
  function runSearch() {
    var input = document.getElementById("q");
    var panel = document.getElementById("search-panel");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var q = input.value.trim();
    var filters = activeFilters();
    var mySeq = ++seq;
    panel.removeAttribute("data-answered");
    var main = document.getElementById("main");
    if (main.hasAttribute("data-search-page")) {
      var url = new URL(location.href);
      if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
      history.replaceState(null, "", url.href);
    }
    if (!q && !Object.keys(filters).length) {
      panel.hidden = true; main.hidden = false; list.textContent = ""; status.textContent = "";
      more.hidden = true;
      return;
    }
    /* results are their own view: they replace the page content until the query is cleared */
    panel.hidden = false; main.hidden = true;
    words = q.toLowerCase().split(/\s+/).filter(Boolean);
    var named = q ? nameSearch(q, filters) : Promise.resolve([]);
    /* one-letter queries match most of the catalog and say the least */
    var full = (q.length === 1 && !Object.keys(filters).length) ? Promise.resolve({ count: 0 })
      : call("search", { q: q || null, filters: filters });
    var nameCount = 0, fullDone = false;
    named.then(function (hits) {
      if (mySeq !== seq || fullDone) return;
      list.textContent = ""; seen = {}; total = 0; shown = 0; more.hidden = true;
      late = hits.filter(function (h) { return h.deprecated; });
      hits = hits.filter(function (h) { return !h.deprecated; });
      nameCount = hits.length;
      late.forEach(function (h) { seen[resultHref(h.href)] = 1; });
      hits.forEach(function (h) { var li = renderName(h); seen[resultHref(h.href)] = li; list.appendChild(li); });
      if (hits.length) status.textContent = "Matching table names; searching columns, owners and descriptions…";
    }).catch(function () { /* names are a head start only; the full-text search still answers */ });
    Promise.all([full, named.catch(function () { return []; })]).then(function (both) {
      var res = both[0];
      if (mySeq !== seq || !res) return;
      fullDone = true;
      if (list.children.length !== nameCount) { list.textContent = ""; seen = {}; late = []; }
      total = res.count; shown = 0;
      var n = Math.max(total, nameCount);
      status.textContent = n ? countText(n) : "No tables match" + (q ? " “" + q + "”" : "") + ".";
      panel.setAttribute("data-answered", q);  /* which query the status is about */
      return showMore();
    }).catch(function (err) {
      if (mySeq !== seq) return;
      status.textContent = "Search is unavailable (" + err.message + "). Serve the site over HTTP.";
      panel.setAttribute("data-answered", q);
    });
  }
  function loadFilters() {
    call("filters").then(function (got) {
      var all = got.filters;
      document.querySelectorAll("select[data-filter]").forEach(function (s) {
        if (s.options.length > 1) return;
        var values = all[s.getAttribute("data-filter")] || {};
        Object.keys(values).sort().forEach(function (v) {
          var o = document.createElement("option");
          o.value = v; o.textContent = v + " (" + values[v] + ")";
          s.appendChild(o);
        });
      });
    }).catch(function () { /* unavailable: the next toggle retries */ });
  }
  function setupSearch() {
    var box = document.querySelector(".search");
    var input = document.getElementById("q");
    if (!box || !input) return;
    box.hidden = false;
    var timer = null;
    input.addEventListener("focus", function () { if (!worker) spawn(); fetchJson("search/names.json"); }, { once: true });
    /* Keys typed in one burst (a paste, autofill, a fast typist) start one search; a pause
       of a frame starts it, so the wait adds little to the first results. */
    input.addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(runSearch, 16);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { input.value = ""; runSearch(); }
      if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); runSearch(); }
    });
    document.querySelectorAll("select[data-filter]").forEach(function (s) {
      s.addEventListener("change", runSearch);
    });
    var details = document.querySelector("details.filters");
    if (details) details.addEventListener("toggle", function () { if (details.open) loadFilters(); });
    document.getElementById("search-more").addEventListener("click", function () {
      showMore().catch(function () { /* a newer search replaced this one */ });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      var tag = (document.activeElement && document.activeElement.tagName) || "";
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || (document.activeElement && document.activeElement.isContentEditable)) return;
      e.preventDefault(); input.focus(); input.select();
    });
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; runSearch(); }
    else if (document.getElementById("main").hasAttribute("data-search-page")) input.focus();
  }

  function setupSort() {
    // Tables marked data-sortable get header buttons; without JS they stay plain tables.
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      var body = table.tBodies[0];
      table.querySelectorAll("thead th[data-sort]").forEach(function (th, col) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "sort"; btn.textContent = th.textContent;
        th.textContent = ""; th.appendChild(btn);
        btn.addEventListener("click", function () {
          var asc = th.getAttribute("aria-sort") !== "ascending";
          table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          var num = th.getAttribute("data-sort") === "number";
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[col].getAttribute("data-value") || "", y = b.cells[col].getAttribute("data-value") || "";
            var d = num ? Number(x) - Number(y) : x.localeCompare(y);
            return asc ? d : -d;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupTheme(); setupCopy(); setupSearch(); setupSort();
  });
})();
