"""Which reader serves a Delta table, chosen from its protocol, and the two readers.

``pl.scan_delta`` (``"polars"``) is the fast path. Tables whose reader features Polars lacks
(column mapping, v2 checkpoints, ...) are served by delta-rs' DataFusion scan
(``"delta-rs"``), which applies column mapping and deletion vectors itself. Both are wrapped
in a lazy source that pushes column selection and predicates down and turns a data file
missing from storage into a :class:`~neuralake.errors.StorageError` at collect time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl

from neuralake.errors import StorageError
from neuralake.tables.delta.errors import translated
from neuralake.tables.delta.log import schema_of
from neuralake.tables.delta.protocol import POLARS, reader_for
from neuralake.tables.delta.snapshot import uri_path

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.tables.delta.target import DeltaTarget


def choose(table: DeltaTable, label: str) -> str:
    """The reader for ``table``'s protocol (see :func:`~neuralake.tables.delta.protocol.reader_for`)."""
    protocol = table.protocol()
    return reader_for(label, protocol.min_reader_version, frozenset(protocol.reader_features or ()))


def missing_files(table: DeltaTable) -> list[str]:
    """Data files the snapshot references that local storage lacks (remote: not checked)."""
    import os

    from neuralake.storage import is_remote

    if is_remote(table.table_uri):
        return []
    return sorted(p for p in (uri_path(u) for u in table.file_uris()) if not os.path.exists(p))


def _missing_error(target: DeltaTarget, table: DeltaTable, exc: Exception | None) -> StorageError:
    gone = missing_files(table)
    named = ", ".join(gone[:3]) + (f" and {len(gone) - 3} more" if len(gone) > 3 else "")
    return StorageError(
        f"Table {target.label!r}: the log references data file(s) storage lacks: "
        f"{named or exc}. Restore them, or remove them from the table (e.g. with "
        "delta-rs' FSCK repair)."
    )


def _delta_rs_frames(
    table: DeltaTable,
    schema: pl.Schema,
    sql: str | None,
    columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
) -> Iterator[pl.DataFrame]:
    wanted = list(schema) if columns is None else columns
    needed = set(wanted) | (set(predicate.meta.root_names()) if predicate is not None else set())
    read = [c for c in schema if c in needed]
    left = n_rows
    for batch in table.scan(columns=read, predicate=sql):
        df = pl.DataFrame(batch).cast({c: schema[c] for c in read})
        if predicate is not None:
            df = df.filter(predicate)
        df = df.select(wanted)
        if left is not None:
            df = df.head(left)
            left -= df.height
        yield df
        if left is not None and left <= 0:
            return


def lazy(
    target: DeltaTarget, table: DeltaTable, reader: str, sql: str | None = None
) -> pl.LazyFrame:
    """``table`` as a lazy frame served by ``reader``.

    Args:
        target: The table (for error messages).
        table: The snapshot to read.
        reader: :data:`POLARS` or :data:`DELTA_RS`, from :func:`choose`.
        sql: A predicate delta-rs may push into its scan (never narrower than the real one).
    """
    if reader == POLARS:
        # Native scan, so Polars plans (and shows) its own file skipping. A missing local file
        # is caught here with one stat per file (no listing); remote stores fail at collect.
        if missing_files(table):
            raise _missing_error(target, table, None)
        return pl.scan_delta(table)
    schema = schema_of(table)

    def source(
        columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _: int | None
    ) -> Iterator[pl.DataFrame]:
        it = _delta_rs_frames(table, schema, sql, columns, predicate, n_rows)
        try:
            with translated(target, "read the data files"):
                yield from it
        except StorageError as exc:
            if missing_files(table):  # delta-rs reports a missing object as a generic error
                raise _missing_error(target, table, exc) from exc.__cause__
            raise

    return pl.io.plugins.register_io_source(source, schema=schema, explain_name=f"delta[{reader}]")
