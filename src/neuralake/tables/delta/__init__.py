"""Delta Lake tables (delta-rs), read lazily through Polars with file skipping and time travel.

:class:`NeuralakeDeltaTable` is the public surface: one method per operation. The modules below
it do the work and take plain values, never the table:

* ``target``: where an operation acts (uri, qualified name, resolved storage, declared layout);
* ``snapshot``: opening the log, time travel, the vacuumed-files check;
* ``log``: commits, freshness, files, statistics columns and schema, read from the log;
* ``frames``: data checked against the declared schema and the stored table;
* ``predicate``: SQL predicates and ``CHECK`` constraints validated before delta-rs runs;
* ``commit``: retries, backoff and conflict messages;
* ``write``, ``merge``, ``maintenance``: create/write, merge, restore/vacuum/optimize;
* ``errors``: delta-rs exceptions mapped to neuralake errors by type;
* ``metrics``: the typed results.
"""

from __future__ import annotations

from neuralake.tables.delta.metrics import (
    MergeMetrics,
    OptimizeMetrics,
    RestoreMetrics,
    SchemaMode,
    WriteMode,
)
from neuralake.tables.delta.table import NeuralakeDeltaTable

__all__ = [
    "MergeMetrics",
    "NeuralakeDeltaTable",
    "OptimizeMetrics",
    "RestoreMetrics",
    "SchemaMode",
    "WriteMode",
]
