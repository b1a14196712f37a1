"""Data about to be written: accepted inputs, the declared schema and the stored table.

A missing column, an undeclared column or a type that cannot be cast safely raises
:class:`~neuralake.errors.SchemaMismatchError` listing every difference; safe casts (the ones
reads apply, see :func:`neuralake.tables.base.castable`) are applied. New columns are only
added with ``schema_mode="merge"``; the declaration must then be updated, or ``neuralake
check`` reports the drift. Everything is checked before delta-rs is called: delta-rs names a
type it cannot cast, or a partitioning that differs, only in the text of a generic
``DeltaError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.errors import InvalidParameterError, SchemaMismatchError
from neuralake.metadata import readable_type
from neuralake.tables.base import castable

if TYPE_CHECKING:
    import pyarrow as pa


def to_frame(data: Any) -> pl.DataFrame:
    """A Polars DataFrame from Polars (eager or lazy) or Arrow data (table, batch, reader, stream)."""
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, pl.DataFrame):
        return data
    try:
        import pyarrow as pa

        if isinstance(data, pa.Table | pa.RecordBatch):
            frame = pl.from_arrow(data)
        elif isinstance(data, pa.RecordBatchReader):
            frame = pl.from_arrow(data.read_all())
        elif hasattr(data, "__arrow_c_stream__"):
            frame = pl.DataFrame(data)
        else:
            raise TypeError(type(data).__name__)
    except TypeError as exc:
        raise InvalidParameterError(
            f"Cannot write {type(data).__name__}; pass a Polars DataFrame/LazyFrame or Arrow data."
        ) from exc
    if not isinstance(frame, pl.DataFrame):  # a pl.Series from a single array
        frame = frame.to_frame()
    return frame


def schema_differences(
    have: pl.Schema, declared: pl.Schema, *, allow_extra: bool = False
) -> list[str]:
    """Every reason ``have`` cannot be written as ``declared`` (empty list: compatible)."""
    problems = [
        f"missing column {name!r} ({readable_type(dtype)})"
        for name, dtype in declared.items()
        if name not in have
    ]
    if not allow_extra:
        problems += [
            f"extra column {name!r} ({readable_type(dtype)}) is not declared"
            for name, dtype in have.items()
            if name not in declared
        ]
    problems += [
        f"column {name!r} is {readable_type(have[name])}, declared {readable_type(dtype)} "
        "(no safe cast)"
        for name, dtype in declared.items()
        if name in have and have[name] != dtype and not castable(have[name], dtype)
    ]
    return problems


def conform(
    data: Any, declared: pl.Schema | None, label: str, schema_mode: str | None = None
) -> pl.DataFrame:
    """Check ``data`` against the declared schema and apply safe casts (declared order).

    Raises:
        SchemaMismatchError: Listing every missing, undeclared or incompatible column.
    """
    df = to_frame(data)
    if declared is None:
        return df
    problems = schema_differences(df.schema, declared, allow_extra=schema_mode is not None)
    if problems:
        hint = (
            " Pass schema_mode='merge' to add new columns (then declare them)."
            if any(p.startswith("extra") for p in problems)
            else ""
        )
        raise SchemaMismatchError(
            f"Table {label!r}: data does not match the declared schema: "
            + "; ".join(problems)
            + "."
            + hint
        )
    extra = [n for n in df.columns if n not in declared]
    df = _cast(df, {n: t for n, t in declared.items() if df.schema[n] != t}, label, "declared")
    return df.select([*declared, *extra])


def fit_stored(
    df: pl.DataFrame,
    stored: pl.Schema,
    stored_partitions: tuple[str, ...],
    *,
    label: str,
    partition_by: tuple[str, ...],
    whole_columns: bool,
    schema_mode: str | None,
) -> pl.DataFrame:
    """Check ``df`` against the existing table and cast it to the stored types.

    Args:
        df: Rows already conformed to the declared schema.
        stored: The table's stored schema.
        stored_partitions: The table's stored partition columns.
        label: The table's qualified name, for messages.
        partition_by: Declared partition columns (empty: take the stored ones).
        whole_columns: The rows must carry every stored column and no other (writes; a merge
            updates the columns it has).
        schema_mode: ``"merge"`` lets new columns through; ``"overwrite"`` replaces the schema
            and skips every check.

    Raises:
        SchemaMismatchError: Listing every difference.
    """
    if schema_mode == "overwrite":
        return df
    if partition_by and partition_by != stored_partitions:
        raise SchemaMismatchError(
            f"Table {label!r}: declared partitioning [{', '.join(partition_by)}] but the stored "
            f"table is partitioned by [{', '.join(stored_partitions)}]. Fix partition_by, or "
            "rewrite the table with mode='overwrite', schema_mode='overwrite'."
        )
    problems = []
    if whole_columns and schema_mode is None:
        problems += [f"missing stored column {n!r}" for n in stored if n not in df.schema]
        problems += [
            f"column {n!r} is not in the stored table" for n in df.columns if n not in stored
        ]
    casts = {n: stored[n] for n in df.columns if n in stored and df.schema[n] != stored[n]}
    problems += [
        f"column {n!r} is {readable_type(df.schema[n])}, stored {readable_type(t)} (no safe cast)"
        for n, t in casts.items()
        if not castable(df.schema[n], t)
    ]
    if problems:
        new = any(p.endswith("is not in the stored table") for p in problems)
        hint = " Pass schema_mode='merge' to add new columns." if new else ""
        raise SchemaMismatchError(
            f"Table {label!r}: data does not match the stored table: {'; '.join(problems)}.{hint}"
        )
    return _cast(df, casts, label, "stored")


def _cast(df: pl.DataFrame, casts: dict[str, Any], label: str, which: str) -> pl.DataFrame:
    if not casts:
        return df
    try:
        return df.with_columns([pl.col(n).cast(t, strict=True) for n, t in casts.items()])
    except pl.exceptions.PolarsError as exc:
        raise SchemaMismatchError(
            f"Table {label!r}: data does not fit the {which} types: {exc}"
        ) from exc


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """The Arrow schema delta-rs stores for a Polars schema (standard, not view, types)."""
    return pl.DataFrame(schema=schema).to_arrow(compat_level=pl.CompatLevel.oldest()).schema


def to_arrow(df: pl.DataFrame) -> pa.Table:
    """``df`` as Arrow in its oldest layout (large strings, not string views), as it is written:
    Parquet files keep the Arrow schema in their footers, and some readers (Daft) refuse views."""
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())
