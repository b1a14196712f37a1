/* neuralake catalog site: full-text search over the index in search/ (built by
   neuralake.export.site.terms, whose docstring describes the files), off the page's main thread.

   Each query word is looked up in the prefix tree of word keys (one file per word, found from
   the index's list of split nodes): the word's own key if it exists, else every key it begins. Pages holding every word rank by the
   sum of the fields the words are in (name, column, owner/tag, text, deprecated), then by page
   order; only the records of the results shown are fetched. */
"use strict";
var root = null, index = null, files = {}, results = [], words = [], latest = 0;
var FIELDS = 5, NONE = 255;
/* Same pattern as terms._TERM in Python: words, compound words joined by _ or - kept whole. */
var TERM = /[\p{L}\p{N}]+(?:[_-][\p{L}\p{N}]+)*/gu;
var PART = /[\p{L}\p{N}]+/gu;

/* A file of the index, gunzipped here unless the server already did (Content-Encoding). */
function get(rel) {
  if (!(rel in files)) {
    files[rel] = fetch(new URL(rel, root).href).then(function (r) {
      return r.ok ? r.arrayBuffer() : null;
    }).then(function (buf) {
      if (!buf) return null;
      var bytes = new Uint8Array(buf);
      if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return JSON.parse(new TextDecoder().decode(bytes));
      var stream = new Response(buf).body.pipeThrough(new DecompressionStream("gzip"));
      return new Response(stream).text().then(JSON.parse);
    }).catch(function () { return null; });
  }
  return files[rel];
}
function load(base) {
  if (!index) {
    root = base;
    index = get("search/terms.json.gz").then(function (ix) {
      if (!ix) throw new Error("the search index could not be loaded");
      ix.splitSet = {};
      ix.split.forEach(function (k) { ix.splitSet[k] = 1; });
      return ix;
    });
  }
  return index;
}
/* Same rules as terms.word_key and names.shard_file in Python. */
function wordKey(w) {
  if (w.length > 4 && /ies$/.test(w)) return w.slice(0, -3) + "y";
  if (w.length > 4 && /sses$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && /s$/.test(w) && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}
function nodeFile(key) {
  if (/^[a-z0-9_-]+$/.test(key)) return "search/terms/" + key + ".json.gz";
  var hex = "";
  new TextEncoder().encode(key).forEach(function (b) { hex += (b < 16 ? "0" : "") + b.toString(16); });
  return "search/terms/~" + hex + ".json.gz";
}
/* The sets (each [name, column, label, text, deprecated]) a key matches: its own if it exists,
   else the union of the keys it begins (a split node's "u", or the keys of a leaf). */
function lookup(ix, key) {
  var chars = Array.from(key), n = Math.min(2, chars.length), at = chars.slice(0, n).join("");
  if (ix.roots.indexOf(at) < 0) return Promise.resolve([]);
  while (ix.splitSet[at] && chars.length > n) { n++; at = chars.slice(0, n).join(""); }
  return get(nodeFile(at)).then(function (node) {
    if (!node) return [];  /* no key begins so */
    var w = node.w || {};
    if (w[key]) return [w[key]];
    if (at === key && node.u) return [node.u];
    return Object.keys(w).filter(function (k) { return k.indexOf(key) === 0; })
      .map(function (k) { return w[k]; });
  });
}
function decodeSet(text, n, field, into) {
  var raw = atob(text.slice(2)), i;
  if (text[0] === "b") {
    for (i = 0; i < n; i++) if (raw.charCodeAt(i >> 3) & (1 << (i & 7))) into[i] = Math.min(into[i], field);
    return;
  }
  var at = -1, d = 0, shift = 0;
  for (i = 0; i < raw.length; i++) {
    var b = raw.charCodeAt(i);
    d += (b & 127) * Math.pow(2, shift);
    if (b & 128) { shift += 7; continue; }
    at += d + 1; into[at] = Math.min(into[at], field); d = 0; shift = 0;
  }
}
/* Best field of each page for one query word (NONE where it is not on the page); a compound
   word that is no key is matched by its parts, all of them. */
function wordFields(ix, term) {
  var low = term.toLowerCase();
  return lookup(ix, wordKey(low)).then(function (found) {
    var parts = low.match(PART) || [];
    if (found.length || parts.length < 2) {
      var into = new Uint8Array(ix.n).fill(NONE);
      found.forEach(function (sets) {
        for (var f = 0; f < FIELDS; f++) decodeSet(sets[f], ix.n, f, into);
      });
      return [into];
    }
    return Promise.all(parts.map(function (p) { return wordFields(ix, p); }))
      .then(function (all) { return [].concat.apply([], all); });
  });
}
function filterMask(ix, filters) {
  var names = Object.keys(filters || {});
  if (!names.length) return Promise.resolve(null);
  return get("search/filters.json.gz").then(function (all) {
    var mask = new Uint8Array(ix.n);
    names.forEach(function (name, i) {
      var hit = all && all[name] && all[name][filters[name]];
      var one = new Uint8Array(ix.n).fill(NONE);
      if (hit) decodeSet(hit[1], ix.n, 0, one);
      for (var pn = 0; pn < ix.n; pn++) if (one[pn] === NONE) mask[pn] = 1;
    });
    return mask;  /* 1 = filtered out */
  });
}
function search(ix, q, filters) {
  words = (q || "").toLowerCase().split(/\s+/).filter(Boolean);
  var terms = (q || "").match(TERM) || [];
  if (words.length && !terms.length) return Promise.resolve([]);  /* punctuation only */
  return Promise.all([Promise.all(terms.map(function (t) { return wordFields(ix, t); })),
                      filterMask(ix, filters)]).then(function (got) {
    var all = [].concat.apply([], got[0]), mask = got[1], hits = [], score = [];
    for (var pn = 0; pn < ix.n; pn++) {
      if (mask && mask[pn]) continue;
      var s = 0;
      for (var j = 0; j < all.length && s >= 0; j++) s = all[j][pn] === NONE ? -1 : s + all[j][pn];
      if (s >= 0) { hits.push(pn); score[pn] = s; }
    }
    hits.sort(function (a, b) { return (score[a] - score[b]) || (a - b); });
    return hits;
  });
}
function hit(token) {
  var low = token.toLowerCase().replace(/^[^\p{L}\p{N}]+/u, "");
  return words.some(function (w) { return low.indexOf(w) === 0; });
}
/* About 24 words from the first one a query word begins, with the matches marked; the owner
   and tags lead when only they match. */
function excerpt(rec) {
  var ws = String(rec[9] || "").split(/\s+/).filter(Boolean), first = -1;
  for (var i = 0; i < ws.length; i++) if (hit(ws[i])) { first = i; break; }
  if (first < 0 && (rec[6] || rec[7].length)) {
    var labels = (rec[6] ? ["Owner", rec[6] + "."] : []).concat(rec[7].length ? ["Tags", rec[7].join(", ") + "."] : []);
    ws = labels.concat(ws); first = 0;
  }
  var from = Math.max(0, first - 6);
  return ws.slice(from, from + 24).map(function (t) {
    var safe = t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return hit(t) ? "<mark>" + safe + "</mark>" : safe;
  }).join(" ");
}
function data(ix, pn) {
  return get("search/docs/" + Math.floor(pn / ix.chunk) + ".json.gz").then(function (chunk) {
    var rec = chunk[pn % ix.chunk];
    return { url: rec[0], excerpt: excerpt(rec), meta: {
      title: rec[1], database: rec[2], type: rec[3], deprecated: rec[5] ? "yes" : "",
      catalog: ix.catalogs.length > 1 ? ix.catalogs[rec[4]] : "", columns: rec[8].join(" ") } };
  });
}
function filterCounts() {
  return get("search/filters.json.gz").then(function (all) {
    var out = {};
    Object.keys(all || {}).forEach(function (name) {
      out[name] = {};
      Object.keys(all[name]).forEach(function (v) { out[name][v] = all[name][v][0]; });
    });
    return out;
  });
}
self.onmessage = function (e) {
  var msg = e.data;
  load(msg.root).then(function (ix) {
    if (msg.op === "init") return {};
    if (msg.op === "filters") return filterCounts().then(function (f) { return { filters: f }; });
    if (msg.op === "search") {
      latest = msg.id;
      return search(ix, msg.q, msg.filters).then(function (hits) {
        if (msg.id === latest) results = hits;  /* an older search finishing late is not kept */
        hits.slice(0, 10).forEach(function (pn) { data(ix, pn); });  /* the first page, early */
        return { count: hits.length };
      });
    }
    return Promise.all(results.slice(msg.from, msg.to).map(function (pn) { return data(ix, pn); }))
      .then(function (ds) { return { data: ds }; });
  }).then(function (out) {
    out.id = msg.id;
    self.postMessage(out);
  }, function (err) {
    self.postMessage({ id: msg.id, error: String((err && err.message) || err) });
  });
};
