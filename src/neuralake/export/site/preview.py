"""Opt-in data previews on table pages: the first rows, read lazily with the docs filters.

The only place the site reads data. A preview reads at most ``limit`` rows
(``scan(docs_filters, docs_columns).head(limit).collect()``), never reads a table marked
sensitive, turns every value into short plain text (the template escapes it) and stops adding
rows once a page's preview would pass a byte budget. A failing read becomes a one-line,
redacted reason on the page; it never stops the build.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neuralake.storage import redact_uri

if TYPE_CHECKING:
    from neuralake.tables.base import Table

#: Tags that keep a table's data off the site unless it says ``preview=True`` (case-insensitive).
SENSITIVE_TAGS = frozenset({"pii", "personal", "sensitive", "confidential", "secret", "phi"})
#: Characters kept of one cell's text.
CELL_CHARS = 80
#: Bytes of preview HTML one page may carry; rows past it are left out (and the page says so).
PAGE_BYTES = 32 * 1024
#: Characters kept of a failure's reason.
REASON_CHARS = 200
# Markup around each cell and row in _preview.html, counted against the budget.
_CELL_MARKUP = len("<td><code></code></td>")
_ROW_MARKUP = len("<tr></tr>\n")


@dataclass(frozen=True)
class Preview:
    """What a table page shows in its preview section.

    Attributes:
        limit: Rows asked for.
        columns: Column names, in order.
        rows: Cell texts per row (``None`` for a null).
        truncated: Rows were left out to stay within the page's byte budget.
        disabled: Why previews are off for this table (``"tag pii"``, ``"preview=False"``).
        error: Why the read failed (one line, credentials redacted).
    """

    limit: int
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str | None, ...], ...] = ()
    truncated: bool = False
    disabled: str | None = None
    error: str | None = None

    @property
    def budget_kb(self) -> int:
        return PAGE_BYTES // 1024


def blocked(table: Table) -> str | None:
    """Why ``table`` must not be previewed, or ``None`` when it may be.

    ``preview=False`` always blocks, ``preview=True`` always allows; the default (``None``)
    blocks tables with a :data:`SENSITIVE_TAGS` tag.
    """
    flag = getattr(table, "preview", None)
    if flag is False:
        return "preview=False"
    if flag is True:
        return None
    for tag in table.tags:
        if str(tag).strip().lower() in SENSITIVE_TAGS:
            return f"tag {tag}"
    return None


def cell_text(value: Any, limit: int = CELL_CHARS) -> str | None:
    """``value`` as at most ``limit`` characters of plain text; nested values as compact JSON."""
    if value is None:
        return None
    if isinstance(value, list | tuple | dict):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    elif isinstance(value, bytes):
        text = value.hex()
    else:
        text = str(value)
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def read_preview(
    table: Table, limit: int, *, budget: int = PAGE_BYTES, unreadable: bool = False
) -> Preview:
    """The first ``limit`` rows of a bound ``table`` as page text; never raises.

    A blocked table (see :func:`blocked`) is not read at all, nor is one whose storage already
    failed (``unreadable``: the page shows that error).

    Example:
        >>> import polars as pl
        >>> from neuralake import FunctionTable
        >>> t = FunctionTable(lambda: pl.LazyFrame({"x": [1, None]}), name="t")
        >>> read_preview(t, 5).rows
        (('1',), (None,))
    """
    reason = blocked(table)
    if reason is not None:
        return Preview(limit, disabled=reason)
    if unreadable:
        return Preview(limit, error="the table could not be read (see the error above)")
    try:
        storage = table.resolve_storage()
    except Exception as exc:  # bad storage settings: say so, without their values
        return Preview(limit, error=_reason(exc, redact_uri))
    try:
        with warnings.catch_warnings():  # a deprecated table's page already says so
            warnings.simplefilter("ignore")
            lf = table.scan(list(table.docs_filters) or None, table.docs_columns, storage=storage)
            frame = lf.head(limit).collect()
    except Exception as exc:  # storage down, function error: the page says why
        return Preview(limit, error=_reason(exc, storage.redact))
    columns = tuple(frame.columns)
    used = sum(len(html.escape(c).encode()) + _CELL_MARKUP for c in columns)
    rows: list[tuple[str | None, ...]] = []
    truncated = False
    for raw in frame.iter_rows():
        row = tuple(cell_text(v) for v in raw)
        size = _ROW_MARKUP + sum(_CELL_MARKUP + len(html.escape(c or "null").encode()) for c in row)
        if used + size > budget:
            truncated = True
            break
        used += size
        rows.append(row)
    return Preview(limit, columns, tuple(rows), truncated)


def _reason(exc: BaseException, redact: Callable[[str], str]) -> str:
    """First line of the redacted error, shortened (tracebacks and plans stay in the logs)."""
    lines = redact(f"{type(exc).__name__}: {exc}").strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"
