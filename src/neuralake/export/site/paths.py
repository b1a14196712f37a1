"""Safe, unique, relative page paths for catalogs, databases and tables.

Names are validated by neuralake, but a page path is still built only from a conservative
character set; anything else gets a hashed slug, so no name can escape the output folder. Slugs
are unique case-insensitively (for case-insensitive file systems) and never collide with the
site's own files.
"""

from __future__ import annotations

import hashlib
import re

_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")  # fullmatch: "$" allows a final "\n"
RESERVED_ROOT = frozenset({"assets", "search", "index", "index.html", "404.html"})


def slug(name: str) -> str:
    """``name`` if it is a safe path segment, else a stable hashed stand-in."""
    if _SAFE.fullmatch(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "x"
    if not _SAFE.fullmatch(cleaned):
        cleaned = "x"
    return f"{cleaned}-{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


class Slugs:
    """Allocates unique slugs within one folder (``-2``, ``-3``... on collision)."""

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        self.used = {r.lower() for r in reserved}

    def take(self, name: str) -> str:
        base = slug(name)
        candidate, n = base, 1
        while candidate.lower() in self.used:
            n += 1
            candidate = f"{base}-{n}"
        self.used.add(candidate.lower())
        return candidate
