/* neuralake catalog site: theme, copy buttons and Pagefind search. No external requests. */
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

  /* ---- search ---- */
  var pf = null, loading = null, seq = 0, shown = 0, current = [], words = [];
  function pagefind() {
    if (!loading) {
      loading = import(new URL("pagefind/pagefind.js", rootUrl()).href).then(function (m) {
        pf = m;
        return Promise.resolve(m.options({ excerptLength: 24, noWorker: true })).then(function () { m.init(); return m; });
      });
    }
    return loading;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  /* Pagefind excerpts are HTML with <mark>; rebuild them as text + <mark> nodes only. */
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
  function renderResult(data) {
    var li = el("li");
    var a = el("a", "r-title", data.meta.title || data.url);
    a.href = resultHref(data.url);
    li.appendChild(a);
    var parts = [];
    if (data.meta.catalog) parts.push(data.meta.catalog);
    if (data.meta.database) parts.push("database " + data.meta.database);
    if (data.meta.type) parts.push(data.meta.type);
    var col = matchingColumn(data.meta);
    var meta = el("p", "r-meta", parts.join(" · "));
    if (col) { meta.appendChild(document.createTextNode(" · column ")); meta.appendChild(el("code", null, col)); }
    li.appendChild(meta);
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
  function showMore() {
    var list = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var mySeq = seq;
    var batch = current.slice(shown, shown + 10);
    shown += batch.length;
    /* fetch the batch in parallel, render in order as soon as each one arrives */
    var pending = batch.map(function (r) { return r.data(); });
    var chain = Promise.resolve();
    pending.forEach(function (p) {
      chain = chain.then(function () { return p; }).then(function (d) {
        if (mySeq === seq) list.appendChild(renderResult(d));
      });
    });
    return chain.then(function () { if (mySeq === seq) more.hidden = shown >= current.length; });
  }
  function runSearch() {
    var input = document.getElementById("q");
    var panel = document.getElementById("search-panel");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    var q = input.value.trim();
    var filters = activeFilters();
    var mySeq = ++seq;
    if (!q && !Object.keys(filters).length) {
      panel.hidden = true; list.textContent = ""; status.textContent = "";
      document.getElementById("search-more").hidden = true;
      return;
    }
    panel.hidden = false;
    words = q.toLowerCase().split(/\s+/).filter(Boolean);
    pagefind().then(function (m) {
      return m.search(q || null, { filters: filters });
    }).then(function (res) {
      if (mySeq !== seq || !res) return;
      current = res.results; shown = 0; list.textContent = "";
      status.textContent = current.length ? current.length + " table" + (current.length === 1 ? "" : "s") + " found"
        : "No tables match" + (q ? " “" + q + "”" : "") + ".";
      return showMore();
    }).catch(function (err) {
      if (mySeq !== seq) return;
      status.textContent = "Search is unavailable (" + err.message + "). Serve the site over HTTP.";
    });
  }
  function loadFilters() {
    pagefind().then(function (m) { return m.filters(); }).then(function (all) {
      document.querySelectorAll("select[data-filter]").forEach(function (s) {
        if (s.options.length > 1) return;
        var values = all[s.getAttribute("data-filter")] || {};
        Object.keys(values).sort().forEach(function (v) {
          var o = document.createElement("option");
          o.value = v; o.textContent = v + " (" + values[v] + ")";
          s.appendChild(o);
        });
      });
    });
  }
  function setupSearch() {
    var box = document.querySelector(".search");
    var input = document.getElementById("q");
    if (!box || !input) return;
    box.hidden = false;
    var timer = null;
    input.addEventListener("focus", function () { pagefind(); }, { once: true });
    input.addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(runSearch, 40);
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
    document.getElementById("search-more").addEventListener("click", showMore);
    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      var tag = (document.activeElement && document.activeElement.tagName) || "";
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag) || (document.activeElement && document.activeElement.isContentEditable)) return;
      e.preventDefault(); input.focus(); input.select();
    });
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; runSearch(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupTheme(); setupCopy(); setupSearch();
  });
})();
