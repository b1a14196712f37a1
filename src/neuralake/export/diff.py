"""What changed between two catalog exports, and which changes break readers.

Works on the JSON :func:`neuralake.export.metadata.export_catalog` writes (so the base can come
from another branch without importing its code). A change is *breaking* when a query that ran
against the base may fail or return different data against the head: a table or column gone or
renamed, a column narrowed or changed in kind, partitions or unique columns changed. Metadata
(owner, tags, descriptions, deprecation) and additions are not breaking.

Example:
    >>> base = {"format_version": 1, "catalog": "c", "tables": [
    ...     {"qualified_name": "db.t", "columns": [{"name": "id", "type": "int32"}]}]}
    >>> head = {"format_version": 1, "catalog": "c", "tables": [
    ...     {"qualified_name": "db.t", "columns": [{"name": "id", "type": "int64"}]}]}
    >>> [c.message for c in diff_catalogs(base, head).changes]
    ['column id retyped: int32 -> int64 (widening)']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from neuralake.errors import NeuralakeError
from neuralake.metadata import FORMAT_VERSION

#: Version of :meth:`CatalogDiff.to_dict`; bumped on any incompatible change.
DIFF_FORMAT_VERSION = 1

#: First line of the Markdown, so a CI job can find and update its earlier comment.
MARKER = "<!-- neuralake-catalog-diff -->"

Value = str | tuple[str, ...] | None


class ExportFormatError(NeuralakeError, ValueError):
    """A file is not a catalog export this version of neuralake can read."""


class ChangeKind(StrEnum):
    """The classes of change, in the order a table's changes are listed."""

    TABLE_ADDED = "table_added"
    TABLE_REMOVED = "table_removed"
    TABLE_RENAMED = "table_renamed"
    COLUMN_ADDED = "column_added"
    COLUMN_REMOVED = "column_removed"
    COLUMN_RETYPED = "column_retyped"
    PARTITIONS_CHANGED = "partitions_changed"
    UNIQUE_COLUMNS_CHANGED = "unique_columns_changed"
    OWNER_CHANGED = "owner_changed"
    TAGS_CHANGED = "tags_changed"
    DESCRIPTION_CHANGED = "description_changed"
    DEPRECATION_CHANGED = "deprecation_changed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_ORDER = {kind: i for i, kind in enumerate(ChangeKind)}
# Values shown as code (identifiers, types); the rest is prose.
_CODE_VALUES = {ChangeKind.TABLE_REMOVED, ChangeKind.TABLE_RENAMED, ChangeKind.COLUMN_ADDED,
                ChangeKind.COLUMN_REMOVED, ChangeKind.COLUMN_RETYPED, ChangeKind.PARTITIONS_CHANGED,
                ChangeKind.UNIQUE_COLUMNS_CHANGED}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """One difference between the base and the head export.

    Attributes:
        kind: The class of change.
        table: The head's qualified name (the base's for a removed table).
        column: The column concerned, for column changes (and column descriptions).
        before: The base's value (``None`` when there was none).
        after: The head's value (``None`` when there is none).
        breaking: Whether readers of the base may fail or read different data.
        message: One plain-text line describing the change.
    """

    kind: ChangeKind
    table: str
    column: str | None
    before: Value
    after: Value
    breaking: bool
    message: str

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.table, _ORDER[self.kind], self.column or "", self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "table": self.table, "column": self.column,
                "before": _json_value(self.before), "after": _json_value(self.after),
                "breaking": self.breaking, "message": self.message}  # fmt: skip


@dataclass(frozen=True)
class CatalogDiff:
    """The changes from ``base`` to ``head``, sorted by table, kind and column."""

    base: str
    head: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def has_breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def summary(self) -> dict[str, int]:
        """Counts of changes, breaking changes and table-level changes."""
        count = {kind: sum(c.kind is kind for c in self.changes) for kind in ChangeKind}
        return {
            "changes": len(self.changes),
            "breaking": len(self.breaking),
            "tables_changed": len({c.table for c in self.changes}),
            "tables_added": count[ChangeKind.TABLE_ADDED],
            "tables_removed": count[ChangeKind.TABLE_REMOVED],
            "tables_renamed": count[ChangeKind.TABLE_RENAMED],
        }

    def summary_line(self) -> str:
        s = self.summary()
        if not s["changes"]:
            return "No catalog changes."
        other = s["changes"] - s["breaking"]
        parts = [f"{s['breaking']} breaking", f"{other} other"]
        tables = [f"{s[f'tables_{k}']} {k}" for k in ("added", "removed", "renamed")
                  if s[f"tables_{k}"]]  # fmt: skip
        where = f" in {s['tables_changed']} {_plural(s['tables_changed'], 'table')}"
        return (f"{', '.join(parts)} {_plural(s['changes'], 'change')}{where}"
                + (f" (tables: {', '.join(tables)})" if tables else "") + ".")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form: same exports give the same dict, keys in a fixed order."""
        return {
            "format_version": DIFF_FORMAT_VERSION,
            "base": self.base,
            "head": self.head,
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
        }

    def to_markdown(self) -> str:
        """A pull-request comment: summary, the breaking changes, then the others.

        Every value from the exports is escaped, so a hostile description can neither break the
        table nor inject HTML or links.
        """
        title = f"### Catalog diff: {code(self.base)} → {code(self.head)}"
        if self.base == self.head:
            title = f"### Catalog diff: {code(self.head)}"
        lines = [MARKER, title, "", self.summary_line()]  # counts and fixed words only
        others = tuple(c for c in self.changes if not c.breaking)
        for heading, changes in (("Breaking", self.breaking), ("Other changes", others)):
            if not changes:
                continue
            lines += ["", f"#### {heading} ({len(changes)})", "",
                      "| Table | Change | Column | Before | After |", "|---|---|---|---|---|"]  # fmt: skip
            for c in changes:
                show = code if c.kind in _CODE_VALUES else _prose
                cells = [code(c.table), c.kind.label, code(c.column) if c.column else "",
                         show(c.before), show(c.after)]  # fmt: skip
                lines.append("| " + " | ".join(cell or "-" for cell in cells) + " |")
        return "\n".join(lines) + "\n"


def diff_catalogs(base: Mapping[str, Any], head: Mapping[str, Any]) -> CatalogDiff:
    """Compare two exports (the dicts ``export_metadata`` returns or writes as JSON).

    Raises:
        ExportFormatError: An export has no known ``format_version`` or no ``tables`` list.
    """
    old, new = _tables(base, "base"), _tables(head, "head")
    removed = sorted(set(old) - set(new))
    added = sorted(set(new) - set(old))
    changes: list[Change] = []
    pairs = [(name, name) for name in sorted(set(old) & set(new))]
    for before, after in _renames(old, new, removed, added):
        removed.remove(before)
        added.remove(after)
        pairs.append((before, after))
        changes.append(Change(ChangeKind.TABLE_RENAMED, after, None, before, after, True,
                              f"table renamed from {before} to {after}"))  # fmt: skip
    for name in removed:
        changes.append(Change(ChangeKind.TABLE_REMOVED, name, None, name, None, True,
                              f"table {name} removed"))  # fmt: skip
    for name in added:
        kind = _text(new[name].get("type")) or "table"
        changes.append(Change(ChangeKind.TABLE_ADDED, name, None, None, kind, False,
                              f"table {name} added ({kind})"))  # fmt: skip
    for before, after in pairs:
        changes += _table_changes(after, old[before], new[after])
    return CatalogDiff(
        _text(base.get("catalog")) or "base",
        _text(head.get("catalog")) or "head",
        tuple(sorted(changes, key=Change.sort_key)),
    )


def check_format(data: object, label: str = "export") -> Mapping[str, Any]:
    """``data`` if it is an export this version reads, else :class:`ExportFormatError`."""
    if not isinstance(data, Mapping) or "format_version" not in data:
        raise ExportFormatError(
            f"{label} is not a neuralake catalog export (no format_version): "
            "write one with neuralake export --out FILE"
        )
    version = data["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ExportFormatError(f"{label} has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ExportFormatError(
            f"{label} has format_version {version}, newer than this neuralake reads "
            f"({FORMAT_VERSION}): upgrade neuralake"
        )
    tables = data.get("tables")
    if not isinstance(tables, list) or not all(
        isinstance(t, Mapping) and isinstance(t.get("qualified_name"), str) for t in tables
    ):
        raise ExportFormatError(f"{label} has no valid tables list")
    return data


def _tables(data: Mapping[str, Any], label: str) -> dict[str, Mapping[str, Any]]:
    return {t["qualified_name"]: t for t in check_format(data, label)["tables"]}


def _renames(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    removed: Sequence[str],
    added: Sequence[str],
) -> list[tuple[str, str]]:
    """Removed/added pairs declared at the same site (module and qualname) or reading the same
    location. Same-site matches are taken first; each table is matched at most once."""
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    for identity in (_site, _location):
        for before in removed:
            if before in (b for b, _ in pairs) or identity(old[before]) is None:
                continue
            for after in added:
                if after not in taken and identity(new[after]) == identity(old[before]):
                    pairs.append((before, after))
                    taken.add(after)
                    break
    return sorted(pairs)


def _site(table: Mapping[str, Any]) -> tuple[str, str] | None:
    source = table.get("source")
    if not isinstance(source, Mapping):
        return None
    module, qualname = source.get("module"), source.get("qualname")
    if not (isinstance(module, str) and isinstance(qualname, str)) or module == "__main__":
        return None  # scripts and notebooks share "__main__": not an identity
    return (module, qualname)


def _location(table: Mapping[str, Any]) -> tuple[str, str] | None:
    location = table.get("location")
    return ("location", location) if isinstance(location, str) and location else None


def _table_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes = _column_changes(name, old.get("columns"), new.get("columns"))

    def compare(kind: ChangeKind, key: str, breaking: bool, what: str) -> None:
        before, after = _value(old.get(key)), _value(new.get(key))
        if before != after:
            message = f"{what}: {_plain(before)} -> {_plain(after)}"
            changes.append(Change(kind, name, None, before, after, breaking, message))

    # Partition pruning and file layout follow the partitions; uniqueness is a reader contract.
    compare(ChangeKind.PARTITIONS_CHANGED, "partitions", True, "partitions")
    compare(ChangeKind.UNIQUE_COLUMNS_CHANGED, "unique_columns", True, "unique columns")
    compare(ChangeKind.OWNER_CHANGED, "owner", False, "owner")
    compare(ChangeKind.TAGS_CHANGED, "tags", False, "tags")
    compare(ChangeKind.DESCRIPTION_CHANGED, "description", False, "description")
    compare(ChangeKind.DEPRECATION_CHANGED, "deprecated", False, "deprecated")
    return changes


def _column_changes(name: str, old: object, new: object) -> list[Change]:
    if not isinstance(old, list) or not isinstance(new, list):
        return []  # a schema neither declared nor readable on one side: nothing to compare
    before = {
        c["name"]: c for c in old if isinstance(c, Mapping) and isinstance(c.get("name"), str)
    }
    after = {c["name"]: c for c in new if isinstance(c, Mapping) and isinstance(c.get("name"), str)}
    changes: list[Change] = []
    for col in sorted(set(before) - set(after)):
        kind = _text(before[col].get("type"))
        changes.append(Change(ChangeKind.COLUMN_REMOVED, name, col, kind, None, True,
                              f"column {col} removed (was {kind})"))  # fmt: skip
    for col in sorted(set(after) - set(before)):
        kind = _text(after[col].get("type"))
        changes.append(Change(ChangeKind.COLUMN_ADDED, name, col, None, kind, False,
                              f"column {col} added ({kind})"))  # fmt: skip
    for col in sorted(set(before) & set(after)):
        old_type, new_type = _text(before[col].get("type")), _text(after[col].get("type"))
        if old_type != new_type:
            widening = is_widening(old_type or "", new_type or "")
            how = "widening" if widening else "narrowing or incompatible"
            changes.append(Change(ChangeKind.COLUMN_RETYPED, name, col, old_type, new_type,
                                  not widening,
                                  f"column {col} retyped: {old_type} -> {new_type} ({how})"))  # fmt: skip
        old_doc, new_doc = (
            _text(before[col].get("description")),
            _text(after[col].get("description")),
        )
        if old_doc != new_doc:
            changes.append(Change(ChangeKind.DESCRIPTION_CHANGED, name, col, old_doc, new_doc,
                                  False, f"column {col} description: {_plain(old_doc)} -> "
                                  f"{_plain(new_doc)}"))  # fmt: skip
    return changes


_SIGNED = ("int8", "int16", "int32", "int64", "int128")
_UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
_BITS = {name: 8 << i for names in (_SIGNED, _UNSIGNED) for i, name in enumerate(names)}
_FLOAT_MANTISSA = {"float32": 24, "float64": 53}
_DECIMAL = re.compile(r"decimal\((\d+), (\d+)\)")


def is_widening(before: str, after: str) -> bool:
    """Whether every value of type ``before`` (type text of the export) is exactly a value of
    ``after``: wider integers, wider floats, integers a float holds exactly, wider decimals.

    Example:
        >>> is_widening("int32", "int64"), is_widening("int64", "int32"), is_widening("int64", "string")
        (True, False, False)
    """
    if before == after:
        return True
    for wrapper in ("list<", "array<"):  # element types widen inside the same container
        if before.startswith(wrapper) and after.startswith(wrapper):
            inner_b, inner_a = before[len(wrapper) : -1], after[len(wrapper) : -1]
            if wrapper == "array<":  # the size must stay: "array<int32, 3>"
                inner_b, _, size_b = inner_b.rpartition(", ")
                inner_a, _, size_a = inner_a.rpartition(", ")
                if size_b != size_a:
                    return False
            return is_widening(inner_b, inner_a)
    if before in _BITS and after in _BITS:
        if before in _UNSIGNED and after in _SIGNED:
            return _BITS[after] > _BITS[before]
        same_sign = (before in _SIGNED) == (after in _SIGNED)
        return same_sign and _BITS[after] >= _BITS[before]
    if before in _FLOAT_MANTISSA and after in _FLOAT_MANTISSA:
        return _FLOAT_MANTISSA[after] >= _FLOAT_MANTISSA[before]
    if before in _BITS and after in _FLOAT_MANTISSA:
        value_bits = _BITS[before] - (before in _SIGNED)
        return value_bits <= _FLOAT_MANTISSA[after]
    old, new = _DECIMAL.fullmatch(before), _DECIMAL.fullmatch(after)
    if old and new:
        (p1, s1), (p2, s2) = (map(int, old.groups())), (map(int, new.groups()))
        return s2 >= s1 and p2 - s2 >= p1 - s1
    return False


# --- values and escaping ----------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _value(value: object) -> Value:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return str(value)


def _json_value(value: Value) -> str | list[str] | None:
    return list(value) if isinstance(value, tuple) else value


def _plain(value: Value, limit: int = 120) -> str:
    """One line of plain text for a value (messages, terminals)."""
    if value is None or value == ():
        return "none"
    text = ", ".join(value) if isinstance(value, tuple) else value
    text = _CONTROL.sub(" ", _SPACE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


# Inline Markdown (emphasis, links, code, strike-through) plus the table's cell separator.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()|~!#])")


def _escape(text: str) -> str:
    """Plain text that renders as itself in a Markdown table cell (no HTML, no markup)."""
    text = _CONTROL.sub(" ", _SPACE.sub(" ", text)).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _prose(value: Value) -> str:
    return "" if value is None or value == () else _escape(_plain(value, limit=200))


def code(value: Value) -> str:
    """A Markdown code span that holds ``value`` literally, even with backticks or ``|``."""
    if value is None or value == ():
        return ""
    text = _plain(value, limit=200)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    # GFM splits table cells before reading code spans, so "|" needs its escape even here.
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"
