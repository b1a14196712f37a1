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

import json
import re
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

    def catalog(self, name: str) -> int:
        self.catalogs.append(name)
        return len(self.catalogs) - 1

    def add(self, name: str, database: str, href: str, type_: str, deprecated: bool,
            catalog: int) -> None:  # fmt: skip
        self.rows.append((name, database, href, type_, int(deprecated), catalog))

    def _rank(self, i: int, token: str, key: str) -> tuple[int, int, int, str, str]:
        name, db = self.rows[i][0], self.rows[i][1]
        return (0 if token == key else 1, self.rows[i][4], len(name), name, db)

    def write(self, site: Path) -> int:
        """Write the shards under ``site``; returns the number of files written."""
        folder = site / DIR
        folder.mkdir(parents=True)
        roots: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for i, row in enumerate(self.rows):
            for tok in tokens(row[0]):
                roots[tok[:ROOT]].append((tok, i))
        files = 0
        for key in sorted(roots):
            shards: dict[str, dict[str, object]] = {}
            self._emit(key, roots[key], shards)
            for k, shard in shards.items():
                if k == key:
                    shard["split"] = sorted(s for s, v in shards.items() if v.get("more"))
                self._dump(folder / shard_file(k), shard)
                files += 1
        self._dump(site / INDEX, {"catalogs": self.catalogs, "roots": sorted(roots)})
        return files + 1

    def _emit(self, key: str, pairs: list[tuple[str, int]],
              shards: dict[str, dict[str, object]]) -> None:  # fmt: skip
        best: dict[int, tuple[int, int, int, str, str]] = {}
        for tok, i in pairs:
            rank = self._rank(i, tok, key)
            if i not in best or rank < best[i]:
                best[i] = rank
        order = sorted(best, key=lambda i: best[i])
        shard: dict[str, object] = {"k": key}
        deeper = [(t, i) for t, i in pairs if len(t) > len(key)]
        if len(order) > LIMIT and deeper:
            shard["more"] = 1
            order = order[:LIMIT]
            children: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for tok, i in deeper:
                children[tok[: len(key) + 1]].append((tok, i))
            for child in sorted(children):
                self._emit(child, children[child], shards)
        elif len(order) > LIMIT:
            shard["more"] = 1
            order = order[:LIMIT]
        shard["t"] = [list(self.rows[i]) for i in order]
        shards[key] = shard

    @staticmethod
    def _dump(path: Path, value: object) -> None:
        path.write_text(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
