"""The site's full-text search index: every word of every table page, sharded by prefix.

Each table page has a :class:`SearchDoc` (its name, columns, owner, tags and plain text, made
from the page's facts, never parsed back out of HTML). Every *word key* of it (a lower-cased run
of letters and digits, compound names like ``t12345_id`` or ``team-042`` kept whole as well as
split, a plural ``s``/``es``/``ies`` folded: :func:`word_key`) is filed with the best *field* it
occurs in (name, column, owner/tag, text; every field of a deprecated table counts as
:data:`DEPRECATED`). The browser (``assets/search-worker.js``) ranks pages by the sum of the
fields of the query's words, then by page order, and fetches only the shards of those words.

Files under ``search/`` (JSON, gzip-compressed with a fixed header, so builds are reproducible):

- ``terms.json.gz``: ``{"n": pages, "chunk": C, "catalogs": [...], "roots": [...],
  "split": [...]}``, loaded once when search starts.
- ``terms/<key>.json.gz`` (:func:`~.names.shard_file` naming), one per node of a prefix tree
  whose roots are the keys' first two characters. A node holds ``"w"``, the sets of its keys,
  unless they exceed :data:`LIMIT` bytes; then it is *split*: ``"w"`` keeps only the key equal
  to the node's prefix, ``"u"`` is the union of every key beneath it (what a typed prefix
  matches), and each next character gets a child node. ``terms.json.gz`` lists the split
  nodes, so the browser walks to the node of any typed word without a request and fetches
  that one file.
- ``docs/<i>.json.gz``: the records of pages ``i*C`` to ``i*C+C-1`` (what a result shows).
- ``filters.json.gz``: ``{"database"|"type"|"tag": {value: [pages, set]}}``.

The two single files sit outside the node folder, where no key's node can take their name.

A set (per field: ``[name, column, label, text, deprecated]``) is ``"b:"`` + base64 of a bitset
over page numbers or ``"d:"`` + base64 of delta varints, whichever is shorter.

Hand-written because no library fits at this scale: Pagefind 1.5 needed 6.4 GB and about 160 s
of CPU to index 100,000 tables, cannot update an index, and its WebAssembly ranking of a word on
30% of the pages took seconds; in-browser libraries (Lunr, MiniSearch, FlexSearch) load the whole
index, tens of megabytes at that size, before the first answer.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from neuralake.export.site.names import shard_file

TERMS = "search/terms"
DOCS = "search/docs"
INDEX = "search/terms.json.gz"
FILTERS_FILE = "search/filters.json.gz"
NAME, COLUMN, LABEL, TEXT, DEPRECATED = range(5)
FIELDS = 5
#: Pages per ``docs`` file: a result page of 10 usually needs one or two of them.
CHUNK = 32
#: Encoded bytes of a node's sets above which it is split by one more character.
LIMIT = 24_000
ROOT = 2
FILTERS = ("database", "type", "tag")
#: What reading a damaged or foreign index raises (it is then written whole instead).
_UNREADABLE = (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, zlib.error)
_TERM = re.compile(r"[^\W_]+(?:[_-][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)  # one per page is kept until the index is written
class SearchDoc:
    """What the index knows of one table page; ``text`` is its description, deprecation note
    and column docs as plain text."""

    name: str
    database: str
    type: str
    catalog: str
    deprecated: bool
    owner: str | None
    tags: tuple[str, ...]
    columns: tuple[str, ...]
    text: str

    def record(self, url: str, catalog: int) -> list[object]:
        """The JSON form in ``docs/`` (``catalog`` is an index into ``terms.json.gz``'s list)."""
        return [url, self.name, self.database, self.type, catalog, int(self.deprecated),
                self.owner or "", list(self.tags), list(self.columns), self.text]  # fmt: skip

    @classmethod
    def from_record(cls, record: list[object], catalogs: list[str]) -> tuple[str, SearchDoc]:
        url, name, db, type_, cat, dep, owner, tags, cols, text = record
        doc = cls(str(name), str(db), str(type_), catalogs[int(cat)], bool(dep),  # type: ignore[call-overload]
                  str(owner) or None, tuple(tags), tuple(cols), str(text))  # type: ignore[arg-type]  # fmt: skip
        return str(url), doc

    def digest_text(self) -> str:
        """Everything indexed, as one string (hashed to tell whether the index must change)."""
        return json.dumps(astuple(self), ensure_ascii=False)


@lru_cache(maxsize=1 << 16)  # a catalog's vocabulary is small; pages repeat it
def word_key(word: str) -> str:
    """Lower-case ``word`` and fold a plural ending (``Warehouses`` → ``warehouse``).

    ``assets/search-worker.js`` applies the same rule to what is typed.
    """
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("sses"):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 16)
def _term_keys(term: str) -> tuple[str, ...]:
    low = term.lower()
    if "_" not in low and "-" not in low:
        return (word_key(low),)
    return (word_key(low), *dict.fromkeys(word_key(p) for p in _PART.findall(low)))


def terms(text: str) -> Iterator[str]:
    """The word keys of ``text``: each word, and each compound word whole and by its parts."""
    for m in _TERM.finditer(text):
        yield from _term_keys(m[0])


def page_keys(doc: SearchDoc) -> dict[str, int]:
    """Every word key of a page with the best field it occurs in."""
    keys: dict[str, int] = {}

    def put(texts: Iterable[str], field: int) -> None:
        for text in texts:
            for k in terms(text):
                if keys.get(k, 99) > field:
                    keys[k] = field

    put((doc.name,), NAME)
    put(doc.columns, COLUMN)
    put((doc.owner or "", *doc.tags), LABEL)
    put((doc.text,), TEXT)
    if doc.deprecated:
        return dict.fromkeys(keys, DEPRECATED)
    return keys


def encode_set(members: list[int], size: int) -> str:
    """Sorted page numbers as ``b:`` bitset or ``d:`` delta varints (base64), the shorter."""
    deltas = bytearray()
    last = -1
    for m in members:
        d = m - last - 1
        last = m
        while d >= 0x80:
            deltas.append(d & 0x7F | 0x80)
            d >>= 7
        deltas.append(d)
    if len(deltas) <= (size + 7) // 8:
        return "d:" + base64.b64encode(bytes(deltas)).decode("ascii")
    bits = bytearray((size + 7) // 8)
    for m in members:
        bits[m >> 3] |= 1 << (m & 7)
    return "b:" + base64.b64encode(bytes(bits)).decode("ascii")


def _encode_bits(bits: int, size: int) -> str:
    """A set held as an integer bitmask, encoded as :func:`encode_set` encodes its members."""
    nbytes = (size + 7) // 8
    if bits.bit_count() > nbytes:  # a varint takes at least one byte per member
        return "b:" + base64.b64encode(bits.to_bytes(nbytes, "little")).decode("ascii")
    return encode_set(_members(bits), size)


def _members(bits: int) -> list[int]:
    text = bin(bits)[:1:-1]  # bit i at index i
    out, at = [], text.find("1")
    while at >= 0:
        out.append(at)
        at = text.find("1", at + 1)
    return out


def decode_set(text: str, size: int) -> list[int]:
    """The sorted page numbers of an :func:`encode_set` string over ``size`` pages."""
    raw = base64.b64decode(text[2:], validate=True)
    if text.startswith("b:") and len(raw) == (size + 7) // 8:
        return _members(int.from_bytes(raw, "little"))
    if not text.startswith("d:"):
        raise ValueError(f"not a page set: {text[:12]!r}")
    out, at, d, shift = [], -1, 0, 0
    for b in raw:
        d |= (b & 0x7F) << shift
        if b & 0x80:
            shift += 7
            continue
        at += d + 1
        out.append(at)
        d = shift = 0
    if shift or (out and out[-1] >= size):
        raise ValueError("a page set runs past the pages")
    return out


def _bitmask(members: Iterable[int]) -> int:
    raw = bytearray()
    for m in members:
        byte = m >> 3
        if byte >= len(raw):
            raw.extend(bytes(byte + 1 - len(raw)))
        raw[byte] |= 1 << (m & 7)
    return int.from_bytes(raw, "little")


def _best(unions: list[int]) -> list[int]:
    """Per-field unions → each page only in its best (lowest) field."""
    seen, out = 0, []
    for u in unions:
        out.append(u & ~seen)
        seen |= u
    return out


def _dump(path: Path, value: object) -> None:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.unlink(missing_ok=True)  # never write into a hard link to the last build's file
    path.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0))


def load(path: Path) -> Any:
    """Read one file of the index."""
    return json.loads(gzip.decompress(path.read_bytes()))


#: A page's ``(catalog, database, type, tags)``: what its filters and catalog index need.
Facets = tuple[str, str, str, tuple[str, ...]]


class TermIndex:
    """Collects every page's :class:`SearchDoc` in page order (filing its word keys at once),
    then writes ``search/`` whole (:meth:`write`) or updates the last build's (:meth:`update`)."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.docs: list[SearchDoc | None] = []
        self.facets: list[Facets] = []
        self.postings: dict[str, array[int]] = {}  # key -> page << 3 | field

    def add(self, url: str, doc: SearchDoc | None, facets: Facets | None = None) -> int:
        """Add a page; returns its number. ``doc`` may be filled in later with :meth:`fill`,
        and then ``facets`` must be given now."""
        page = len(self.urls)
        self.urls.append(url)
        self.docs.append(doc)
        if doc is not None:
            facets = (doc.catalog, doc.database, doc.type, doc.tags)
            self._post(page, page_keys(doc))
        if facets is None:
            raise ValueError("a page without its search document needs its facets")
        self.facets.append(facets)
        return page

    def fill(self, page: int, doc: SearchDoc) -> None:
        self.docs[page] = doc
        self._post(page, page_keys(doc))

    def _post(self, page: int, keys: dict[str, int]) -> None:
        postings = self.postings
        for k, field in keys.items():
            if k not in postings:
                postings[k] = array("I")
            postings[k].append(page << 3 | field)

    def _catalogs(self) -> list[str]:
        return list(dict.fromkeys(f[0] for f in self.facets))

    def write(self, site: Path) -> int:
        """Write the index under ``site``; returns the number of files written.

        In this process: forked writers would each copy hundreds of megabytes of it at 100,000
        tables (the memory they allocate into is the parent's), for a few seconds saved.
        """
        terms_dir, docs_dir = site / TERMS, site / DOCS
        terms_dir.mkdir(parents=True)
        docs_dir.mkdir(parents=True)
        n = len(self.docs)
        catalogs = {c: i for i, c in enumerate(self._catalogs())}
        roots: dict[str, list[str]] = defaultdict(list)
        for k in sorted(self.postings):
            roots[k[:ROOT]].append(k)
        split, files = _write_roots(self.postings, n, terms_dir, roots.items())
        records: list[list[object]] = []
        for page, (url, doc) in enumerate(zip(self.urls, self._docs(), strict=True)):
            records.append(doc.record(url, catalogs[doc.catalog]))
            if len(records) == CHUNK or page == n - 1:
                _dump(docs_dir / f"{page // CHUNK}.json.gz", records)
                records, files = [], files + 1
        self._write_filters(site)
        self._write_index(site, sorted(roots), split)
        return files + 2

    def update(self, site: Path, changed: list[int]) -> bool:
        """Bring the last build's index, linked into ``site``, up to date, when this build has
        the same pages in the same order and only the pages ``changed`` have new documents
        (filled in). Only the nodes of the roots their old and new words fall under, their
        records files, and the filters if their facets changed are written again, so the result
        equals :meth:`write`'s. Returns ``False`` (nothing written) when the old index does not
        fit.
        """
        n, catalogs = len(self.urls), self._catalogs()
        try:
            index = load(site / INDEX)
            if [index["n"], index["chunk"], index["catalogs"]] != [n, CHUNK, catalogs]:
                return False
            chunks = {p // CHUNK: load(site / DOCS / f"{p // CHUNK}.json.gz") for p in changed}
            for c, records in chunks.items():
                if [r[0] for r in records] != self.urls[c * CHUNK : c * CHUNK + CHUNK]:
                    return False
            old = {p: SearchDoc.from_record(chunks[p // CHUNK][p % CHUNK], catalogs)[1]
                   for p in changed}  # fmt: skip
            moved = {p: (page_keys(old[p]), page_keys(self._doc(p))) for p in changed}
            roots = {k[:ROOT] for before, after in moved.values() for k in (*before, *after)}
            nodes, kept = _read_roots(site / TERMS, roots)
            # Only the changed pages' keys are decoded, as bitmasks, and encoded again.
            masks: dict[str, list[int]] = {}
            for k in {k for before, after in moved.values() for k in (*before, *after)}:
                sets = kept.get(k)
                masks[k] = [0] * FIELDS if sets is None else [_mask(t, n) for t in sets]
            for p, (before, after) in moved.items():
                for k, field in before.items():
                    if not masks[k][field] >> p & 1:
                        raise ValueError(f"page {p} is not filed under {k!r}")
                    masks[k][field] ^= 1 << p
                for k, field in after.items():
                    masks[k][field] |= 1 << p
            for k, fields in masks.items():
                if any(fields):
                    kept[k] = [_encode_bits(m, n) for m in fields]
                else:
                    kept.pop(k, None)
        except _UNREADABLE:
            return False
        for path in nodes:
            path.unlink()
        keys: dict[str, list[str]] = defaultdict(list)
        for k in sorted(kept):
            keys[k[:ROOT]].append(k)
        split, _ = _write_roots({}, n, site / TERMS, keys.items(), kept)
        for c, records in chunks.items():
            for p in range(c * CHUNK, c * CHUNK + len(records)):
                if p in old:
                    doc = self._doc(p)
                    records[p - c * CHUNK] = doc.record(self.urls[p], catalogs.index(doc.catalog))
            _dump(site / DOCS / f"{c}.json.gz", records)
        if any(self.facets[p] != (d.catalog, d.database, d.type, d.tags) for p, d in old.items()):
            self._write_filters(site)
        other = [k for k in index["split"] if k[:ROOT] not in roots]  # the untouched roots'
        self._write_index(site, sorted({*index["roots"]} - roots | {*keys}), [*other, *split])
        return True

    def _write_filters(self, site: Path) -> None:
        n = len(self.facets)
        filters: dict[str, dict[str, list[int]]] = {f: defaultdict(list) for f in FILTERS}
        for page, (_, database, type_, tags) in enumerate(self.facets):
            filters["database"][database].append(page)
            filters["type"][type_].append(page)
            for tag in tags:
                filters["tag"][tag].append(page)
        _dump(site / FILTERS_FILE, {
            f: {v: [len(pages), encode_set(pages, n)] for v, pages in sorted(values.items())}
            for f, values in filters.items()})  # fmt: skip

    def _write_index(self, site: Path, roots: list[str], split: list[str]) -> None:
        _dump(site / INDEX, {"n": len(self.urls), "chunk": CHUNK, "catalogs": self._catalogs(),
                             "roots": roots, "split": sorted(split)})  # fmt: skip

    def _doc(self, page: int) -> SearchDoc:
        doc = self.docs[page]
        if doc is None:
            raise ValueError("a page has no search document")
        return doc

    def _docs(self) -> Iterator[SearchDoc]:
        return (self._doc(page) for page in range(len(self.docs)))


def _node_key(file: str) -> str | None:
    """The key of a node file (:func:`~.names.shard_file` naming), ``None`` if not a node."""
    if not file.endswith(".json.gz"):
        return None
    stem = file[: -len(".json.gz")]
    return bytes.fromhex(stem[1:]).decode("utf-8") if stem.startswith("~") else stem


def _read_roots(folder: Path, roots: set[str]) -> tuple[list[Path], dict[str, list[str]]]:
    """The node files of ``roots`` in ``folder`` and the encoded sets of every key they hold."""
    nodes, encoded = [], {}
    for file in sorted(os.listdir(folder)):
        key = _node_key(file)
        if key is None or key[:ROOT] not in roots:
            continue
        nodes.append(folder / file)
        for k, sets in load(folder / file).get("w", {}).items():
            if len(sets) != FIELDS or not all(isinstance(t, str) for t in sets):
                raise ValueError(f"node {key!r}: {k!r} does not have {FIELDS} sets")
            encoded[k] = sets
    return nodes, encoded


def _write_roots(postings: dict[str, array[int]], size: int, folder: Path,
                 roots: Iterable[tuple[str, list[str]]],
                 kept: dict[str, list[str]] | None = None) -> tuple[list[str], int]:  # fmt: skip
    """Write the nodes of ``roots`` (each with its sorted keys); returns the split nodes and the
    number of files."""
    split, files = [], 0
    for root, keys in roots:
        nodes: dict[str, dict[str, object]] = {}
        _Tree(postings, size, nodes, kept).node(root, keys)
        for key, node in nodes.items():
            _dump(folder / (shard_file(key) + ".gz"), node)
            if "u" in node:
                split.append(key)
        files += len(nodes)
    return split, files


class _Tree:
    """Builds the nodes of one root; every key's sets are encoded once. Keys in ``kept`` (an
    update's) come with their sets already encoded, and are decoded only for a union."""

    def __init__(self, postings: dict[str, array[int]], size: int,
                 nodes: dict[str, dict[str, object]],
                 kept: dict[str, list[str]] | None = None) -> None:  # fmt: skip
        self.postings = postings
        self.size = size
        self.nodes = nodes
        self.kept = kept or {}
        self.encoded: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}

    def has(self, key: str) -> bool:
        return key in self.kept or bool(self.postings.get(key))

    def fields(self, key: str) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(FIELDS)]
        for v in sorted(self.postings[key]):  # kept pages of a rebuild are added last
            out[v & 7].append(v >> 3)
        return out

    def sets(self, key: str) -> list[str]:
        if key not in self.encoded:
            found = self.kept.get(key)
            if found is None:
                found = [encode_set(s, self.size) for s in self.fields(key)]
            self.encoded[key] = found
            self.sizes[key] = len(key) + sum(map(len, found))
        return self.encoded[key]

    def node(self, prefix: str, keys: list[str], union: bool = False) -> list[int]:
        """Write the node for ``prefix`` over ``keys`` (sorted); with ``union``, return the
        per-field union of its keys as bitmasks (each page in its best field only)."""
        for k in keys:
            self.sets(k)
        size = sum(self.sizes[k] for k in keys)
        deeper = [k for k in keys if len(k) > len(prefix)]
        if size <= LIMIT or not deeper:
            self.nodes[prefix] = {"k": prefix, "w": {k: self.sets(k) for k in keys}}
            return self._union(keys, []) if union else []
        node: dict[str, object] = {"k": prefix}
        own = [prefix] if self.has(prefix) else []
        if own:
            node["w"] = {prefix: self.sets(prefix)}
        children: dict[str, list[str]] = defaultdict(list)
        for k in deeper:
            children[k[: len(prefix) + 1]].append(k)
        parts = [self.node(child, ks, union=True) for child, ks in children.items()]
        merged = self._union(own, parts)
        node["u"] = [_encode_bits(u, self.size) for u in merged]
        self.nodes[prefix] = node
        return merged

    def _union(self, keys: list[str], parts: list[list[int]]) -> list[int]:
        by_field: list[list[int]] = [[] for _ in range(FIELDS)]
        masks = [0] * FIELDS
        for k in keys:
            if k in self.kept:
                masks = [m | _mask(text, self.size) for m, text in zip(masks, self.kept[k],
                                                                      strict=True)]  # fmt: skip
                continue
            for field, members in enumerate(self.fields(k)):
                by_field[field] += members
        unions = [_bitmask(members) | m for members, m in zip(by_field, masks, strict=True)]
        for part in parts:
            unions = [a | b for a, b in zip(unions, part, strict=True)]
        return _best(unions)


def _mask(text: str, size: int) -> int:
    """An :func:`encode_set` string as an integer bitmask."""
    if text == "d:":  # most keys occur in one or two of the fields
        return 0
    if text.startswith("b:"):
        return int.from_bytes(base64.b64decode(text[2:]), "little")
    return _bitmask(decode_set(text, size))


def read_docs(site: Path) -> dict[str, SearchDoc]:
    """The search documents of a site built before, by page URL (empty if unreadable)."""
    try:
        index = load(site / INDEX)
        catalogs = list(index["catalogs"])
        out = {}
        for path in (site / DOCS).iterdir():
            for record in load(path):
                url, doc = SearchDoc.from_record(record, catalogs)
                out[url] = doc
        return out
    except _UNREADABLE:
        return {}
