"""Merge (upsert) into a Delta table, restricted to the partitions present in the source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake.errors import InvalidParameterError
from neuralake.tables.delta.commit import Attempt, Landed, run
from neuralake.tables.delta.frames import conform, to_arrow
from neuralake.tables.delta.keys import commit_metadata, existing_keys, key_state
from neuralake.tables.delta.log import schema_of
from neuralake.tables.delta.metrics import MergeMetrics
from neuralake.tables.delta.snapshot import open_latest, require
from neuralake.tables.delta.write import fit_table, repair, write

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.tables.delta.target import DeltaTarget


def _ident(name: str) -> str:
    return name if name.isidentifier() and name.islower() else "`" + name.replace("`", "``") + "`"


def sql_literal(value: Any) -> str:
    """A SQL literal for a partition value (strings quoted, dates ISO)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return "'" + str(value.isoformat()) + "'"
    return "'" + str(value).replace("'", "''") + "'"


def partition_restriction(
    partition_by: Sequence[str], source: pl.DataFrame, alias: str = "t"
) -> list[str]:
    """``alias.part IN (...)`` clauses for the partition values present in ``source``."""
    clauses = []
    for col in partition_by:
        values = source.get_column(col).unique().sort(nulls_last=True).to_list()
        present = [v for v in values if v is not None]
        terms = []
        if present:
            terms.append(f"{alias}.{_ident(col)} IN ({', '.join(sql_literal(v) for v in present)})")
        if len(present) < len(values):
            terms.append(f"{alias}.{_ident(col)} IS NULL")
        clauses.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return clauses


def merge_predicate(
    on: Sequence[str], partition_by: Sequence[str], source: pl.DataFrame, *, restrict: bool = True
) -> str:
    """The join predicate: key equality, plus the source's partitions when ``restrict``."""
    terms = [f"t.{_ident(k)} = s.{_ident(k)}" for k in on]
    if restrict:
        terms += partition_restriction([p for p in partition_by if p not in on], source)
    return " AND ".join(terms)


def _keys(target: DeltaTarget, on: Sequence[str] | str | None) -> tuple[str, ...]:
    keys = (on,) if isinstance(on, str) else tuple(on or ()) or target.unique_columns
    if not keys:
        raise InvalidParameterError(
            f"Table {target.label!r}: merge needs key columns; pass on=[...] or declare "
            "unique_columns."
        )
    return keys


def _check_source(target: DeltaTarget, df: pl.DataFrame, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"Table {target.label!r}: merge key column(s) {missing} are not in the data."
        )
    dupes = df.select(keys).filter(pl.struct(list(keys)).is_duplicated())
    if dupes.height:
        example = dupes.row(0, named=True)
        raise InvalidParameterError(
            f"Table {target.label!r}: the merge source has {dupes.height} rows with duplicate "
            f"keys {list(keys)} (e.g. {example}); each key may appear once."
        )


def _check_delete(target: DeltaTarget, table: DeltaTable, df: pl.DataFrame, text: str) -> None:
    """``delete_not_matched_by_source`` applies to target rows: ``t.<column>`` only."""
    what = "delete_not_matched_by_source="
    names = list(schema_of(table))
    scopes: dict[str | None, Sequence[str]] = {"t": names}
    scopes[None] = [n for n in names if n not in df.columns]  # unambiguous without ``t.``
    from neuralake.tables.delta.predicate import bind_columns, parse  # sqlglot: on use only

    bind_columns(parse(text, label=target.label, what=what), scopes, label=target.label,
                 what=what, text=text)  # fmt: skip


def moved_keys(
    target: DeltaTarget, table: DeltaTable, source: pl.DataFrame, keys: tuple[str, ...]
) -> bool:
    """True when a source key is in the table outside the source's partitions, where the
    partition-restricted merge would not find it and would insert a second row.

    Checked only where it matters: the key leaves out a partition column and the table is
    unique by construction (otherwise reads de-duplicate, and the newest row wins anyway).
    Reads the key and partition columns of the other partitions, skipping files by statistics.
    """
    parts = [p for p in target.partition_by if p not in keys]
    if not parts or not key_state(target, table, keys).unique:
        return False
    inside = pl.lit(True)
    for col in parts:
        values = source.get_column(col)
        present = values.drop_nulls().unique()
        term = pl.col(col).is_in(present.implode()) if present.len() else pl.lit(False)
        if values.has_nulls():
            term = term | pl.col(col).is_null()
        inside = inside & term
    return existing_keys(table, source, keys, ~inside.fill_null(False)).height > 0


def merge(
    target: DeltaTarget,
    data: Any,
    on: Sequence[str] | None = None,
    *,
    delete_not_matched_by_source: str | bool | None = None,
    restrict_to_source_partitions: bool = True,
    schema_mode: Literal["merge"] | None = None,
    snapshot: DeltaTable | None = None,
) -> MergeMetrics:
    """Update matched rows, insert the others; see ``NeuralakeDeltaTable.merge``."""
    keys = _keys(target, on)
    if schema_mode not in (None, "merge"):
        raise InvalidParameterError(
            f"Table {target.label!r}: merge takes schema_mode=None or 'merge', got {schema_mode!r}."
        )
    if not isinstance(delete_not_matched_by_source, str | bool | None):
        raise InvalidParameterError(
            f"Table {target.label!r}: delete_not_matched_by_source must be a SQL predicate on "
            f"the target (e.g. \"t.day = 'mon'\") or True, got {delete_not_matched_by_source!r}."
        )
    df = conform(data, target.declared_schema, target.label, schema_mode)
    _check_source(target, df, keys)
    if set(keys) == set(target.unique_columns):
        repair(target, snapshot)
    if snapshot is None and open_latest(target) is None:
        version = write(target, df, "append", schema_mode=schema_mode)
        return MergeMetrics(version=version or 0, rows_inserted=df.height)
    predicate = merge_predicate(
        keys, target.partition_by, df, restrict=restrict_to_source_partitions
    )

    def operation(attempt: Attempt) -> MergeMetrics:
        table = snapshot if snapshot is not None and attempt.number == 0 else None
        if table is None:
            table = require(target, write=True)
        attempt.base = table.version()
        rows = fit_table(target, df, table, whole_columns=False, schema_mode=schema_mode)
        if isinstance(delete_not_matched_by_source, str):
            _check_delete(target, table, rows, delete_not_matched_by_source)
        marker: dict[str, str] = {}
        joined = predicate
        if set(keys) == set(target.unique_columns):
            marker = commit_metadata(keys, whole_table=False)
            if restrict_to_source_partitions and moved_keys(target, table, rows, keys):
                joined = merge_predicate(keys, target.partition_by, rows, restrict=False)
        merger = (
            table.merge(
                to_arrow(rows),
                joined,
                source_alias="s",
                target_alias="t",
                merge_schema=schema_mode == "merge",
                commit_properties=attempt.properties(marker),
            )
            .when_matched_update_all()
            .when_not_matched_insert_all()
        )
        if delete_not_matched_by_source is True:
            merger = merger.when_not_matched_by_source_delete()
        elif isinstance(delete_not_matched_by_source, str):
            merger = merger.when_not_matched_by_source_delete(delete_not_matched_by_source)
        raw = merger.execute()
        return _metrics(table.version(), raw)  # the version after the commit

    # A merge re-evaluated against the newer snapshot is still correct, so conflicts retry.
    return run(target, "merge", operation, retry=snapshot is None, recover=_recovered)


def _recovered(landed: Landed) -> MergeMetrics:
    return _metrics(landed.version, landed.metrics)


def _metrics(version: int, raw: Mapping[str, Any]) -> MergeMetrics:
    """Metrics from delta-rs' merge result (or the ``operationMetrics`` of its commit)."""
    return MergeMetrics(
        version=version,
        rows_inserted=int(raw.get("num_target_rows_inserted", 0)),
        rows_updated=int(raw.get("num_target_rows_updated", 0)),
        rows_deleted=int(raw.get("num_target_rows_deleted", 0)),
        rows_copied=int(raw.get("num_target_rows_copied", 0)),
        files_added=int(raw.get("num_target_files_added", 0)),
        files_removed=int(raw.get("num_target_files_removed", 0)),
        files_scanned=int(raw.get("num_target_files_scanned", 0)),
        files_skipped=int(raw.get("num_target_files_skipped_during_scan", 0)),
    )
