"""Make Pagefind's output byte-for-byte reproducible.

Pagefind writes the values of each filter in hash-map order, which changes from run to run, and
names files after their content. This module rewrites each filter file with its values sorted,
renames it after its new content, and updates the language meta file and
``pagefind-entry.json`` that point to it. Every rewrite is checked first: if a file does not
decode and re-encode to the same bytes with the small CBOR codec below (an unknown Pagefind
format), the bundle is left untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

SIGNATURE = b"pagefind_dcd"


class _Unsupported(ValueError):
    pass


def _decode(data: bytes, pos: int = 0) -> tuple[Any, int]:
    head = data[pos]
    major, info = head >> 5, head & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        arg = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    else:
        raise _Unsupported(f"CBOR additional info {info}")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major == 2:
        return bytes(data[pos : pos + arg]), pos + arg
    if major == 3:
        return data[pos : pos + arg].decode("utf-8"), pos + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos
    raise _Unsupported(f"CBOR major type {major}")


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise _Unsupported("integer too large")


def _encode(value: Any) -> bytes:
    if isinstance(value, bool) or value is None:
        raise _Unsupported("simple values")
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(_encode(v) for v in value)
    raise _Unsupported(type(value).__name__)


def read_file(path: Path) -> Any:
    """A Pagefind bundle file decoded (gzip, signature, CBOR); raises ValueError if it is not
    one this module can read back byte for byte."""
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(SIGNATURE):
        raise _Unsupported(f"{path.name}: no Pagefind signature")
    value, end = _decode(raw, len(SIGNATURE))
    if end != len(raw) or SIGNATURE + _encode(value) != raw:
        raise _Unsupported(f"{path.name}: does not round-trip")
    return value


def _write(path: Path, value: Any) -> str:
    raw = SIGNATURE + _encode(value)
    path.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0))
    return hashlib.sha256(raw).hexdigest()


def _sort_key(item: Any) -> tuple[str, str]:
    return (type(item[0]).__name__, str(item[0])) if isinstance(item, list) and item else ("", "")


# Pagefind's ready-made search UIs; the site has its own, so they are never loaded.
UNUSED_UI = (
    "pagefind-ui.*",
    "pagefind-component-ui.*",
    "pagefind-modular-ui.*",
    "pagefind-highlight.js",
)


def normalize_bundle(bundle: Path) -> bool:
    """Drop the unused UI files and sort filter values in the Pagefind bundle at ``bundle``.

    Returns ``False`` if the filter files were left untouched (an unknown Pagefind format).
    """
    for pattern in UNUSED_UI:
        for unused in bundle.glob(pattern):
            unused.unlink()
    entry_path = bundle / "pagefind-entry.json"
    try:
        entry_text = entry_path.read_text(encoding="utf-8")
        entry = json.loads(entry_text)
        if json.dumps(entry, separators=(",", ":"), ensure_ascii=False) != entry_text:
            return False
        metas = {lang: bundle / f"pagefind.{info['hash']}.pf_meta"
                 for lang, info in entry["languages"].items()}  # fmt: skip
        decoded_metas = {lang: read_file(p) for lang, p in metas.items()}
        filters = {p: read_file(p) for p in sorted((bundle / "filter").glob("*.pf_filter"))}
        for meta in decoded_metas.values():
            if not (isinstance(meta, list) and len(meta) >= 4 and isinstance(meta[3], list)):
                return False
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError):
        return False
    renamed: dict[str, str] = {}
    for path, value in filters.items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], list)):
            continue
        value[1] = sorted(value[1], key=_sort_key)
        old = path.stem
        lang = old.split("_", 1)[0]
        tmp = path.with_suffix(".tmp")
        digest = _write(tmp, value)
        new = f"{lang}_{digest[:7]}"
        tmp.replace(path.with_name(f"{new}.pf_filter"))
        if new != old:
            path.unlink(missing_ok=True)
        renamed[old] = new
    for lang, meta in decoded_metas.items():
        meta[3] = sorted(([f[0], renamed.get(f[1], f[1]), *f[2:]] for f in meta[3]), key=str)
        old_path = metas[lang]
        tmp = old_path.with_suffix(".tmp")
        digest = _write(tmp, meta)
        new_hash = f"{lang}_{digest[:10]}"
        tmp.replace(bundle / f"pagefind.{new_hash}.pf_meta")
        if old_path.name != f"pagefind.{new_hash}.pf_meta":
            old_path.unlink(missing_ok=True)
        entry["languages"][lang]["hash"] = new_hash
    entry_path.write_text(json.dumps(entry, separators=(",", ":"), ensure_ascii=False),
                          encoding="utf-8")  # fmt: skip
    return True
