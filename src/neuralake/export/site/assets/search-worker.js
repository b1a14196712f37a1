/* neuralake catalog site: runs Pagefind off the page's main thread. Pagefind cannot interrupt its
   WebAssembly ranking (seconds for a word on tens of thousands of tables), so the page terminates
   this worker to cancel a search nobody waits for any more and starts a fresh one. */
"use strict";
var ready = null, results = [];
function load(url) {
  if (!ready) {
    ready = import(url).then(function (m) {
      return Promise.resolve(m.options({ excerptLength: 24, noWorker: true }))
        .then(function () { return m.init(); }).then(function () { return m; });
    });
  }
  return ready;
}
function plain(d) { return { url: d.url, excerpt: d.excerpt, meta: d.meta }; }
self.onmessage = function (e) {
  var msg = e.data;
  load(msg.pagefind).then(function (m) {
    if (msg.op === "init") return {};
    if (msg.op === "filters") return m.filters().then(function (f) { return { filters: f }; });
    if (msg.op === "search") {
      return m.search(msg.q, { filters: msg.filters }).then(function (res) {
        results = (res && res.results) || [];
        return { count: results.length };
      });
    }
    return Promise.all(results.slice(msg.from, msg.to).map(function (r) { return r.data(); }))
      .then(function (ds) { return { data: ds.map(plain) }; });
  }).then(function (out) {
    out.id = msg.id;
    self.postMessage(out);
  }, function (err) {
    self.postMessage({ id: msg.id, error: String((err && err.message) || err) });
  });
};
