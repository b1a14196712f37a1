"""Delta snapshots read by Daft (``engine="daft"``): Daft's own Delta reader, refused by name
where it would not return the table's true rows.

Daft plans from the delta-rs file list and statistics and reads the files itself, but applies
neither column mapping nor deletion vectors (its ``ignore_deletion_vectors=True`` returns
deleted rows, so it is never used), and it keeps no file order, which de-duplicating a keyed
table needs: keyed tables are read only while they are unique by construction (see
:mod:`neuralake.tables.delta.keys`). Snapshots with files Daft's Parquet reader cannot decode
(Arrow string views in the footer) are read file by file with pyarrow inside Daft tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import daft

from neuralake.errors import UnsupportedFeatureError
from neuralake.storage import daft_io_config
from neuralake.tables import daft as daft_source
from neuralake.tables.delta.errors import translated
from neuralake.tables.delta.keys import key_state
from neuralake.tables.delta.log import add_actions, file_uri, partition_columns, schema_of
from neuralake.tables.delta.protocol import POLARS
from neuralake.tables.delta.readers import choose
from neuralake.tables.delta.snapshot import check_files_present, open_snapshot

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from neuralake.tables.delta.target import DeltaTarget

_USE_POLARS = "Read it with engine='polars' (the default), which supports it."


def read(
    target: DeltaTarget, *, version: int | None = None, as_of: dt.datetime | str | None = None
) -> daft.DataFrame:
    """The table at ``version`` / ``as_of`` (latest by default) as a lazy Daft frame, in the
    declared schema.

    Raises:
        UnsupportedFeatureError: The snapshot uses a feature Daft does not apply (column
            mapping, deletion vectors, v2 checkpoints...) or the table is keyed.
    """
    table = open_snapshot(target, version=version, as_of=as_of)
    if version is not None or as_of is not None:  # vacuumed versions fail here, clearly
        check_files_present(target, table.version(), loaded=table)
    check_supported(target, table)
    if daft_source.view_typed(table.file_uris(), target.cfg):
        df = _read_by_pyarrow(target, table)
    else:
        with translated(target, "plan the Daft scan"):
            df = daft.read_deltalake(
                target.uri, version=table.version(), io_config=daft_io_config(target.cfg)
            )
    return daft_source.conform(df, target.declared_schema, target.label)


def _read_by_pyarrow(target: DeltaTarget, table: DeltaTable) -> daft.DataFrame:
    """The snapshot's files read by pyarrow in Daft tasks: Daft cannot decode footers that
    declare Arrow string views, which delta-rs merges and optimizes write. Slower than Daft's
    reader (whole files, no statistics skipping), still one task per file."""
    stored = schema_of(table)
    parts = partition_columns(table)
    actions = add_actions(table)
    files = [
        (file_uri(target.uri, row["path"]), {p: row.get(f"partition.{p}") for p in parts})
        for row in actions.iter_rows(named=True)
    ]
    return daft_source.ArrowFilesSource(files, stored, target.cfg).read()


def check_supported(target: DeltaTarget, table: DeltaTable) -> None:
    """Raise :class:`UnsupportedFeatureError` unless Daft reads ``table``'s true rows."""
    label = target.label
    protocol = table.protocol()
    features = set(protocol.reader_features or ())
    if protocol.min_reader_version == 2:  # reader version 2 is column mapping, unnamed
        features.add("columnMapping")
    if choose(table, label) != POLARS:  # column mapping, v2 checkpoints
        raise UnsupportedFeatureError(
            f"Table {label!r} uses Delta reader feature(s) the Daft engine does not apply "
            f"({', '.join(sorted(features))}; it would return wrong or missing columns). "
            + _USE_POLARS
        )
    if "deletionVectors" in features:  # the log's add actions do not say which files have one
        raise UnsupportedFeatureError(
            f"Table {label!r} enables deletion vectors, which the Daft engine does not apply "
            f"(deleted rows would come back). {_USE_POLARS}"
        )
    if target.unique_columns and not key_state(target, table, target.unique_columns).unique:
        raise UnsupportedFeatureError(
            f"Table {label!r} declares unique_columns and holds commits not known to keep the "
            "key unique (e.g. appends by another writer); de-duplicating them needs the file "
            f"order the Daft engine does not keep. {_USE_POLARS} An upsert or overwrite "
            "through neuralake makes the table unique by construction again."
        )
