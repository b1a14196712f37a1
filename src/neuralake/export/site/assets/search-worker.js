/* neuralake catalog site: runs Pagefind off the page's main thread. Pagefind cannot interrupt its
   WebAssembly ranking (seconds for a word on tens of thousands of tables), so the page terminates
   this worker to cancel a search nobody waits for any more and starts a fresh one.

   Words on many pages never reach Pagefind: search/common/<key>.json (built by
   neuralake.export.site.common) lists the pages of each such word by field, over Pagefind's page
   numbers. A query made only of those words (or prefixes of them) is ranked here; otherwise
   Pagefind searches the other words and its results are kept if they hold every common word. */
"use strict";
var ready = null, results = [], root = null, common = null, pages = null, hashes = null;
var FIELDS = 5, NONE = 255;
function load(url) {
  if (!ready) {
    root = new URL("../", url).href;
    ready = import(url).then(function (m) {
      return Promise.resolve(m.options({ excerptLength: 24, noWorker: true }))
        .then(function () { return m.init(); }).then(function () { return m; });
    });
    common = getJson("search/common/index.json").then(function (ix) { return ix || { n: 0, keys: [] }; });
  }
  return ready;
}
function getJson(rel) {
  return fetch(new URL(rel, root).href).then(function (r) { return r.ok ? r.json() : null; })
    .catch(function () { return null; });
}
function gunzip(response) {
  return new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
}
/* Pagefind's files are "pagefind_dcd" + CBOR (ints, strings, arrays), gzipped; decoding the page
   list here maps result ids to page numbers without another download (HTTP cache). */
function cbor(bytes) {
  var pos = 0, text = new TextDecoder();
  function item() {
    var head = bytes[pos++], major = head >> 5, info = head & 31, arg = info;
    if (info >= 24) {
      var size = 1 << (info - 24); arg = 0;
      for (var i = 0; i < size; i++) arg = arg * 256 + bytes[pos++];
    }
    if (major === 0) return arg;
    if (major === 1) return -1 - arg;
    if (major === 2 || major === 3) { var s = bytes.subarray(pos, pos + arg); pos += arg; return major === 3 ? text.decode(s) : s; }
    if (major === 4) { var out = []; for (var j = 0; j < arg; j++) out.push(item()); return out; }
    throw new Error("unsupported CBOR");
  }
  pos = 12;  /* "pagefind_dcd" */
  return item();
}
function pageList() {
  if (!pages) {
    pages = getJson("pagefind/pagefind-entry.json").then(function (entry) {
      var lang = entry.languages[Object.keys(entry.languages)[0]];
      return fetch(new URL("pagefind/pagefind." + lang.hash + ".pf_meta", root).href);
    }).then(gunzip).then(function (buf) {
      var list = cbor(new Uint8Array(buf))[1];
      hashes = {};
      list.forEach(function (p, i) { hashes[p[0]] = i; });
      return list;
    });
  }
  return pages;
}
function fragment(pn) {
  return pageList().then(function (list) {
    return fetch(new URL("pagefind/fragment/" + list[pn][0] + ".pf_fragment", root).href);
  }).then(gunzip).then(function (buf) {
    return JSON.parse(new TextDecoder().decode(new Uint8Array(buf).subarray(12)));
  });
}
/* Same rule as common.word_key in Python. */
function wordKey(w) {
  if (w.length > 4 && /ies$/.test(w)) return w.slice(0, -3) + "y";
  if (w.length > 4 && /sses$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && /s$/.test(w) && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}
function keyFile(key) {
  if (/^[a-z0-9_-]+$/.test(key)) return "search/common/" + key + ".json";
  var hex = "";
  new TextEncoder().encode(key).forEach(function (b) { hex += (b < 16 ? "0" : "") + b.toString(16); });
  return "search/common/~" + hex + ".json";
}
/* A word is common if its key is; a prefix of common keys stands for all of them (Pagefind would
   scan them all); anything else, including compound names like t12345_id, goes to Pagefind. */
function plan(q, ix) {
  var out = { common: [], rest: [] };
  q.toLowerCase().split(/\s+/).filter(Boolean).forEach(function (w) {
    if (!/^[\p{L}\p{N}]+$/u.test(w)) { out.rest.push(w); return; }
    var k = wordKey(w);
    var keys = ix.keys.indexOf(k) >= 0 ? [k] : (w.length >= 2 ? ix.keys.filter(function (c) { return c.indexOf(w) === 0; }) : []);
    if (keys.length) out.common.push({ word: w, keys: keys }); else out.rest.push(w);
  });
  return out;
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
/* Best field of each page for one word (NONE where the word is not on the page). */
function wordFields(entry, n) {
  return Promise.all(entry.keys.map(function (k) { return getJson(keyFile(k)); })).then(function (files) {
    var into = new Uint8Array(n).fill(NONE);
    files.forEach(function (f) {
      if (f) for (var field = 0; field < FIELDS; field++) decodeSet(f.c[field], n, field, into);
    });
    return into;
  });
}
function pagefindResult(r) { return { data: function () { return r.data().then(plain); } }; }
function commonResult(pn, words) {
  return { data: function () { return fragment(pn).then(function (d) { return { url: d.url, excerpt: excerpt(d.content, words), meta: d.meta }; }); } };
}
/* Pagefind-like excerpt: about 24 words from the first that a query word begins. */
function excerpt(content, words) {
  var ws = String(content || "").split(/\s+/), first = 0;
  function hit(t) {
    var low = t.toLowerCase().replace(/^[^\p{L}\p{N}]+/u, "");
    return words.some(function (w) { return low.indexOf(w) === 0; });
  }
  for (var i = 0; i < ws.length; i++) if (hit(ws[i])) { first = i; break; }
  var from = Math.max(0, first - 6);
  return ws.slice(from, from + 24).map(function (t) {
    var safe = t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return hit(t) ? "<mark>" + safe + "</mark>" : safe;
  }).join(" ");
}
function search(m, q, filters) {
  return common.then(function (ix) {
    var p = q ? plan(q, ix) : { common: [], rest: [] };
    if (!p.common.length) return m.search(q, { filters: filters }).then(function (res) {
      return ((res && res.results) || []).map(pagefindResult);
    });
    var n = ix.n, words = p.common.map(function (c) { return c.word; });
    var sets = Promise.all(p.common.map(function (c) { return wordFields(c, n); }));
    if (p.rest.length || Object.keys(filters || {}).length) {
      var rest = p.rest.length ? p.rest.join(" ") : null;
      return Promise.all([sets, m.search(rest, { filters: filters }), pageList()]).then(function (got) {
        /* pages holding every common word, by the fields those words are in, then Pagefind's order */
        var kept = [];
        ((got[1] && got[1].results) || []).forEach(function (r, i) {
          var pn = hashes[r.id], s = 0;
          for (var j = 0; j < got[0].length && s >= 0 && pn !== undefined; j++) s = got[0][j][pn] === NONE ? -1 : s + got[0][j][pn];
          if (pn !== undefined && s >= 0) kept.push({ r: r, s: s, i: i });
        });
        kept.sort(function (a, b) { return (a.s - b.s) || (a.i - b.i); });
        return kept.map(function (k) { return pagefindResult(k.r); });
      });
    }
    pageList();  /* start loading the page list while the sets decode */
    return sets.then(function (all) {
      var hits = [], score = [];
      for (var pn = 0; pn < n; pn++) {
        var s = 0;
        for (var j = 0; j < all.length && s >= 0; j++) s = all[j][pn] === NONE ? -1 : s + all[j][pn];
        if (s >= 0) { hits.push(pn); score[pn] = s; }
      }
      /* field (name, column, owner/tag, text, deprecated) summed over the words, then URL order */
      hits.sort(function (a, b) { return (score[a] - score[b]) || (a - b); });
      return hits.map(function (pn) { return commonResult(pn, words); });
    });
  });
}
function plain(d) { return { url: d.url, excerpt: d.excerpt, meta: d.meta }; }
self.onmessage = function (e) {
  var msg = e.data;
  load(msg.pagefind).then(function (m) {
    if (msg.op === "init") return {};
    if (msg.op === "filters") return m.filters().then(function (f) { return { filters: f }; });
    if (msg.op === "search") {
      return search(m, msg.q, msg.filters).then(function (res) {
        results = res;
        return { count: results.length };
      });
    }
    return Promise.all(results.slice(msg.from, msg.to).map(function (r) { return r.data(); }))
      .then(function (ds) { return { data: ds }; });
  }).then(function (out) {
    out.id = msg.id;
    self.postMessage(out);
  }, function (err) {
    self.postMessage({ id: msg.id, error: String((err && err.message) || err) });
  });
};
