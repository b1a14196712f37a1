"""Table types: function tables, partitioned Parquet datasets and Delta Lake tables."""

from neuralake.tables.base import Table
from neuralake.tables.delta import NeuralakeDeltaTable
from neuralake.tables.function import FunctionTable, table
from neuralake.tables.parquet import ParquetTable, Partition

__all__ = ["FunctionTable", "NeuralakeDeltaTable", "ParquetTable", "Partition", "Table", "table"]
