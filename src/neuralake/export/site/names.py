"""A small prebuilt prefix index of table names, so name hits show before full-text search.

Names are what people type most, and a name match should lead even when the full-text index
(:mod:`~.terms`) finds thousands of pages with the word, so the builder also writes
``search/names/<key>.json`` shards: every table is filed under each *token* of its name (the
whole lower-cased name and its parts split on punctuation, e.g. ``revenue_type_000689`` →
``revenue_type_000689``, ``revenue``, ``type``; number-only parts are skipped) by the token's
first two characters. A shard holding more than :data:`LIMIT` tables keeps only the best
:data:`LIMIT` (exact token first, not deprecated, shortest name) and is split by one more
character, recursively; the two-character shard lists every split key beneath it, so the browser
needs at most two small requests to find the shard for what was typed.

Shard format (compact JSON, deterministic)::

    {"k": "re", "split": ["rev", "reve", ...],   # split keys under this root (root shard only)
     "more": 1,                                  # present if the shard was truncated
     "t": [[name, database, href, type, deprecated, catalog_index], ...]}

and ``search/names.json`` lists catalog names (``catalog_index`` above) and the root keys that
have a shard (so the browser never asks for a missing one). It sits outside the shard folder,
where no key's shard can take its name.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from pathlib import Path

LIMIT = 150
ROOT = 2
_SPLIT = re.compile(r"[\W_]+")
_PLAIN_KEY = re.compile(r"[a-z0-9_-]+")  # fullmatch: "$" allows a final "\n"
DIR = "search/names"
INDEX = "search/names.json"


def tokens(name: str) -> list[str]:
    """The index tokens of a table name: the whole name lower-cased, then its word parts."""
    low = name.lower()
    out = [low]
    for part in _SPLIT.split(low):
        if part and not part.isdigit() and part not in out:
            out.append(part)
    return out


def shard_file(key: str) -> str:
    """File name of the shard for ``key`` (``~`` and hex unless plain ASCII)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{key}.json"
    return "~" + key.encode("utf-8").hex() + ".json"


class NameIndex:
    """Collects ``(name, database, href, type, deprecated, catalog)`` and writes the shards."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, int, int]] = []
        self.catalogs: list[str] = []
        self.order: list[int] = []  # row numbers by rank, set by write

    def catalog(self, name: str) -> int:
        self.catalogs.append(name)
        return len(self.catalogs) - 1

    def add(self, name: str, database: str, href: str, type_: str, deprecated: bool,
            catalog: int) -> None:  # fmt: skip
        self.rows.append((name, database, href, type_, int(deprecated), catalog))

    def digest(self) -> str:
        """Hash of everything :meth:`write` writes (equal digests, equal files)."""
        raw = json.dumps([self.catalogs, self.rows], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def write(self, site: Path) -> int:
        """Write the shards under ``site``; returns the number of files written."""
        folder = site / DIR
        folder.mkdir(parents=True)
        rows = self.rows
        # Rank of each table among all: current first, then shortest name, then name, database.
        self.order = sorted(range(len(rows)),
                            key=lambda i: (rows[i][4], len(rows[i][0]), rows[i][0], rows[i][1]))  # fmt: skip
        rank = [0] * len(rows)
        for r, i in enumerate(self.order):
            rank[i] = r
        roots: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for i, row in enumerate(rows):
            for tok in tokens(row[0]):
                roots[tok[:ROOT]].append((tok, rank[i]))
        files = 0
        for key in sorted(roots):
            pairs = sorted(roots[key])  # by token: every prefix's tokens are one run of them
            shards: dict[str, dict[str, object]] = {}
            self._emit(key, [t for t, _ in pairs], [r for _, r in pairs], 0, len(pairs), shards)
            for k, shard in shards.items():
                if k == key:
                    shard["split"] = sorted(s for s, v in shards.items() if v.get("more"))
                self._dump(folder / shard_file(k), shard)
                files += 1
        self._dump(site / INDEX, {"catalogs": self.catalogs, "roots": sorted(roots)})
        return files + 1

    def _emit(self, key: str, toks: list[str], ranks: list[int], lo: int, hi: int,
              shards: dict[str, dict[str, object]]) -> None:  # fmt: skip
        """The shard of ``key`` over the tokens ``toks[lo:hi]`` (those starting with ``key``):
        tables whose token is ``key`` itself first, then the others, each by rank."""
        deeper = bisect_right(toks, key, lo, hi)  # tokens equal to key sort first
        exact = sorted(set(ranks[lo:deeper]))
        order = exact + sorted(set(ranks[deeper:hi]).difference(exact))
        shard: dict[str, object] = {"k": key}
        if len(order) > LIMIT:
            shard["more"] = 1
            order = order[:LIMIT]
            at = deeper
            while at < hi:
                child = toks[at][: len(key) + 1]
                end = bisect_left(toks, child[:-1] + chr(ord(child[-1]) + 1), at, hi)
                self._emit(child, toks, ranks, at, end, shards)
                at = end
        shard["t"] = [list(self.rows[self.order[r]]) for r in order]
        shards[key] = shard

    @staticmethod
    def _dump(path: Path, value: object) -> None:
        path.write_text(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
