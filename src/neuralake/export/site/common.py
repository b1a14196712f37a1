"""Build-time answers for words on many table pages, so Pagefind never ranks them.

Pagefind 1.5 scores a query word by scanning the postings of every indexed word it prefixes, so
a word on tens of thousands of pages takes seconds inside its WebAssembly ``search()``. The
builder therefore counts, for every *word key* (a lower-cased run of letters and digits of the
indexed text, compound names split on ``_``/``-``, a plural ``s``/``es``/``ies`` folded), the
table pages it is on. Keys on more than :func:`threshold` pages are *common*; for each one
``search/common/<key>.json`` holds the pages it is on as sets over Pagefind's page numbers (the
pages sorted by URL, checked against the bundle), one set per field it occurs in best::

    {"k": "warehouse", "n": 29683, "c": [name, column, owner/tag, text, deprecated]}

Each set is ``"b:"`` + base64 of a bitset or ``"d:"`` + base64 of delta varints, whichever is
shorter. ``search/common/index.json`` lists the common keys. The search worker answers common
words and prefixes of them from these files (intersecting them with Pagefind's results for the
other words) and sends Pagefind only the rest, so Pagefind's index stays whole: excerpts, titles
and streaming during rendering are unchanged.

Hand-written because no library does it: Pagefind has no stop-word or precomputed-term option.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import logging
import re
from array import array
from functools import lru_cache
from pathlib import Path

from neuralake.export.site.names import shard_file
from neuralake.export.site.stable import SIGNATURE, read_file

logger = logging.getLogger("neuralake")

DIR = "search/common"
MIN_PAGES = 500
FRACTION = 0.02
NAME, COLUMN, LABEL, TEXT, DEPRECATED = range(5)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_WEIGHT = re.compile(r'data-pagefind-weight="([0-9.]+)"')
_WORD = re.compile(r"[^\W_]+")
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "col", "source"})


def threshold(pages: int) -> int:
    """A key on more pages than this is common: ``max(500, 2% of pages)``.

    Pagefind answers a word on a few hundred pages in well under a second (``team-042``, 660
    pages of 100,000: 164 ms); the cost grows with the pages a word is on.
    """
    return max(MIN_PAGES, int(pages * FRACTION))


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


def _field(weight: float) -> int:
    # The weights table.html gives (pages.WEIGHTS): name 10, column 6, owner and tags 4.
    if weight >= 10:
        return NAME
    if weight >= 6:
        return COLUMN
    if weight >= 4:
        return LABEL
    return TEXT


def page_keys(part: str) -> dict[str, int]:
    """Every word key of a page's search document (``pages.search_document``) with its best
    field."""
    deprecated = 'data-pagefind-meta="deprecated:yes"' in part
    keys: dict[str, int] = {}
    stack: list[tuple[str, float, bool]] = [("", 1.0, False)]
    pos = 0
    for m in _TAG.finditer(part):
        _, weight, ignored = stack[-1]
        if not ignored and m.start() > pos:
            field = DEPRECATED if deprecated else _field(weight)
            text = part[pos : m.start()]
            for word in _WORD.findall(html.unescape(text) if "&" in text else text):
                k = word_key(word)
                if keys.get(k, 99) > field:
                    keys[k] = field
        pos = m.end()
        closing, name, attrs = m[1], m[2].lower(), m[3]
        if closing:
            while len(stack) > 1 and stack.pop()[0] != name:
                pass
        elif name not in _VOID and not attrs.endswith("/"):
            w = _WEIGHT.search(attrs)
            stack.append((name, float(w[1]) if w else weight,
                          ignored or "data-pagefind-ignore" in attrs))  # fmt: skip
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


def bundle_urls(bundle: Path, sample: list[int]) -> tuple[int, list[str]] | None:
    """Page count and URLs of the pages numbered ``sample`` of a bundle (``None``: unreadable)."""
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        (lang,) = entry["languages"].values()
        pages = read_file(bundle / f"pagefind.{lang['hash']}.pf_meta")[1]
        urls = []
        for i in sample:
            raw = gzip.decompress((bundle / "fragment" / f"{pages[i][0]}.pf_fragment").read_bytes())
            urls.append(json.loads(raw[len(SIGNATURE) :])["url"])
        return len(pages), urls
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


class CommonWords:
    """Collects the word keys of every indexed page, then writes ``search/common``."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._pages: dict[str, array[int]] = {}
        self._fields: dict[str, array[int]] = {}

    def add(self, url: str, keys: dict[str, int]) -> None:
        """Record one page's :func:`page_keys` (computed where the page was rendered); ``url``
        as given to Pagefind (``/cat/db/t.html``)."""
        ordinal = len(self.urls)
        self.urls.append(url)
        for k, field in keys.items():
            if k not in self._pages:
                self._pages[k] = array("I")
                self._fields[k] = array("B")
            self._pages[k].append(ordinal)
            self._fields[k].append(field)

    def common(self) -> list[str]:
        limit = threshold(len(self.urls))
        return sorted(k for k, pages in self._pages.items() if len(pages) > limit)

    def write(self, site: Path) -> int:
        """Write the files under ``site`` (after Pagefind wrote ``site/pagefind``).

        Pagefind numbers pages in URL order; if the bundle disagrees, no word is listed as
        common and the browser sends every word to Pagefind. Returns the number of files.
        """
        folder = site / DIR
        folder.mkdir(parents=True, exist_ok=True)
        order = sorted(range(len(self.urls)), key=self.urls.__getitem__)
        number = [0] * len(order)
        for pn, ordinal in enumerate(order):
            number[ordinal] = pn
        keys = self.common() if self._matches_bundle(site / "pagefind", order) else []
        for k in keys:
            self._dump(folder / shard_file(k), self._entry(k, number))
        self._dump(folder / "index.json", {"n": len(self.urls), "keys": keys})
        return len(keys) + 1

    def _matches_bundle(self, bundle: Path, order: list[int]) -> bool:
        if not order:
            return True
        sample = sorted({0, len(order) // 2, len(order) - 1})
        ok = bundle_urls(bundle, sample) == (len(order), [self.urls[order[i]] for i in sample])
        if not ok:
            logger.warning("Pagefind's page order is not the URL order; common words disabled")
        return ok

    def _entry(self, k: str, number: list[int]) -> dict[str, object]:
        by_field: list[list[int]] = [[] for _ in range(5)]
        for ordinal, field in zip(self._pages[k], self._fields[k], strict=True):
            by_field[field].append(number[ordinal])
        size = len(self.urls)
        sets = [encode_set(sorted(members), size) for members in by_field]
        return {"k": k, "n": len(self._pages[k]), "c": sets}

    @staticmethod
    def _dump(path: Path, value: object) -> None:
        path.write_text(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
