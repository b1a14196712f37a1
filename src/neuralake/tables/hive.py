"""Partition folder names: one decoder, used both to read partition values and to prune.

Writers spell the same value differently (Spark/Hive escape a few characters and leave spaces,
non-ASCII and ``{}`` as they are; pyarrow and DuckDB percent-encode like URIs; Polars in
between), but all of them write ``%XX`` for the characters they escape and never a raw ``%``
followed by two hex digits. So a folder name is decoded by percent-decoding, and a pinned value
selects the child folders whose decoded, parsed value equals it: the parent is listed once and
the names are compared, never guessed. A value made only of characters no writer escapes has a
single spelling, so that folder is used without listing its parent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

import polars as pl

from neuralake.errors import InvalidFilterError, SchemaMismatchError

NULL_FOLDER = "__HIVE_DEFAULT_PARTITION__"  # Hive, Spark, pyarrow, Polars and DuckDB agree
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")  # spelled alike by every writer
_INTEGER = re.compile(r"[+-]?[0-9]+")
_SIDECAR_PREFIXES = ("_", ".")  # _SUCCESS, _committed_*, _started_*, .crc, ...


def decode(segment: str, scheme: str = "hive") -> tuple[str | None, str | None]:
    """``(column name or None, value text or None for null)`` of one partition folder name.

    Example:
        >>> decode("c2=+ %3D%250")
        ('c2', '+ =%0')
        >>> decode("s=__HIVE_DEFAULT_PARTITION__")
        ('s', None)
        >>> decode("a%20b", "directory")
        (None, 'a b')
    """
    name: str | None = None
    raw = segment
    if scheme == "hive":
        name, sep, raw = segment.partition("=")
        if not sep:
            return None, None
        name = unquote(name)
    if raw == NULL_FOLDER:
        return name, None
    return name, unquote(raw)


def is_sidecar(segment: str) -> bool:
    """Whether a file or folder name is bookkeeping (``_SUCCESS``, ``.x.crc``), never data."""
    if segment == NULL_FOLDER:
        return False
    return segment.startswith(_SIDECAR_PREFIXES) or segment.endswith(".crc")


def parse(text: str | None, dtype: Any) -> Any:
    """The Python value of decoded folder text for a partition of type ``dtype``.

    Raises ``ValueError`` when the text is not a value of that type.
    """
    if text is None:
        return None
    if dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum:
        return text
    if dtype.is_integer():
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)
    if dtype == pl.Boolean:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return lowered == "true"
    if dtype.is_float():
        return float(text)
    if dtype == pl.Date:
        return dt.date.fromisoformat(text)
    if dtype == pl.Datetime:
        value = dt.datetime.fromisoformat(text)
        zone = getattr(dtype, "time_zone", None)
        if zone is None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if dtype == pl.Decimal:
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation as exc:
            raise ValueError(f"{text!r} is not a decimal number") from exc
    raise ValueError(f"partitions of type {dtype} are not supported")


def parse_folder(segment: str, name: str, dtype: Any, scheme: str, table: str) -> Any:
    """The value of one partition folder, or a clear error naming the folder and the table."""
    found, text = decode(segment, scheme)
    if scheme == "hive" and found != name:
        raise SchemaMismatchError(
            f"Table {table!r}: folder {segment!r} is not a partition folder of {name!r} "
            f"(expected '{name}=<value>'). Check the table's partitioning."
        )
    try:
        return parse(text, dtype)
    except (ValueError, OverflowError) as exc:
        raise SchemaMismatchError(
            f"Table {table!r}: partition folder {segment!r} holds no {dtype} value for "
            f"{name!r} ({exc}). Declare the partition's type to match the folders."
        ) from exc


def plain_spelling(value: Any, dtype: Any) -> str | None:
    """The one folder text of ``value`` if every writer spells it alike, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and dtype.is_integer():
        text = str(value)
    elif isinstance(value, str) and dtype == pl.String:
        text = value
    else:
        return None
    return text if _PLAIN.fullmatch(text) else None


def matches(parsed: Any, value: Any) -> bool:
    """Whether a folder's parsed value equals a filter value (a superset is always safe)."""
    if parsed is None or value is None:
        return False
    aware = [x.tzinfo is not None for x in (parsed, value) if isinstance(x, dt.datetime)]
    if len(aware) == 2 and aware[0] != aware[1]:
        return True  # the scan's filter decides; pruning only keeps the folder
    if isinstance(parsed, bool) != isinstance(value, bool):
        return False
    return bool(parsed == value)


def check_directory_value(value: Any, name: str) -> None:
    if isinstance(value, str) and ("/" in value or value in ("", ".", "..")):
        raise InvalidFilterError(f"Partition value {value!r} for {name!r} cannot be a folder name.")


def prune(
    branches: Sequence[Sequence[tuple[str, Sequence[Any]]]],
    dtypes: dict[str, Any],
    scheme: str,
    children: Callable[[str], list[str]],
    table: str,
) -> list[str]:
    """Folders (relative to the root, ``""`` for the root) holding every row the pins allow.

    ``children(folder)`` lists the sub-folder names of a folder (one delimiter LIST on S3). A
    level is listed once per parent folder, whatever the number of pinned values.
    """
    found: set[str] = set()
    for branch in branches:
        frontier = [""]
        for name, values in branch:
            dtype = dtypes[name]
            if scheme == "directory":
                for value in values:
                    check_directory_value(value, name)
            spelled = [plain_spelling(v, dtype) for v in values]
            step: list[str] = []
            if all(s is not None for s in spelled):
                prefix = f"{name}=" if scheme == "hive" else ""
                step = [_join(f, prefix + str(s)) for f in frontier for s in dict.fromkeys(spelled)]
            else:
                for folder in frontier:
                    for child in children(folder):
                        if is_sidecar(child):
                            continue
                        parsed = parse_folder(child, name, dtype, scheme, table)
                        if any(matches(parsed, v) for v in values):
                            step.append(_join(folder, child))
            frontier = step
        found.update(frontier)
    # A shallower folder already covers the deeper ones below it.
    kept: list[str] = []
    for folder in sorted(found, key=lambda f: (f.count("/"), f)):
        if not any(folder == k or folder.startswith(k + "/") or k == "" for k in kept):
            kept.append(folder)
    return sorted(kept)


def _join(parent: str, child: str) -> str:
    return f"{parent}/{child}" if parent else child
