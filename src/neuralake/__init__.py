"""neuralake: tables declared in Python, found through one catalog, read as Polars LazyFrames.

Example:
    >>> import polars as pl
    >>> from neuralake import Catalog, Database, Filter, FunctionTable
    >>> nation = FunctionTable(lambda: pl.LazyFrame({"n_nationkey": [0, 1, 2]}), name="nation")
    >>> catalog = Catalog({"tpch": Database([nation])}, name="demo")
    >>> catalog.db("tpch").table("nation", filters=[Filter("n_nationkey", ">", 0)]).collect().height
    2
"""

from neuralake.catalog import (
    Catalog,
    CatalogRegistry,
    Database,
    DatabaseHandle,
    ModuleDatabase,
    default_catalog,
    export_catalog_metadata,
    load_catalog,
    register_static_table,
)
from neuralake.errors import (
    AmbiguousTableError,
    CatalogLoadError,
    ColumnNotFoundError,
    CommitConflictError,
    DatabaseNotFoundError,
    DeprecatedTableWarning,
    DuplicateTableError,
    InvalidFilterError,
    InvalidNameError,
    InvalidParameterError,
    NeuralakeError,
    SchemaMismatchError,
    SQLError,
    SQLNotAllowedError,
    StorageError,
    TableExistsError,
    TableNotFoundError,
    UnsupportedFeatureError,
)
from neuralake.filters import Filter
from neuralake.metadata import Column, Freshness, SourceLocation, TableMetadata
from neuralake.storage import StorageConfig, get_s3_storage_options
from neuralake.tables import (
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    Table,
    table,
)
from neuralake.tables.base import Versioned
from neuralake.tables.facts import Commit, ServingInfo, StoredLayout, TableFacts

__version__ = "0.1.0"

__all__ = [
    "AmbiguousTableError",
    "Catalog",
    "CatalogLoadError",
    "CatalogRegistry",
    "Column",
    "ColumnNotFoundError",
    "Commit",
    "CommitConflictError",
    "Database",
    "DatabaseHandle",
    "DatabaseNotFoundError",
    "DeprecatedTableWarning",
    "DuplicateTableError",
    "Filter",
    "Freshness",
    "FunctionTable",
    "InvalidFilterError",
    "InvalidNameError",
    "InvalidParameterError",
    "ModuleDatabase",
    "NeuralakeDeltaTable",
    "NeuralakeError",
    "ParquetTable",
    "Partition",
    "SQLError",
    "SQLNotAllowedError",
    "SchemaMismatchError",
    "ServingInfo",
    "SourceLocation",
    "StorageConfig",
    "StorageError",
    "StoredLayout",
    "Table",
    "TableExistsError",
    "TableFacts",
    "TableMetadata",
    "TableNotFoundError",
    "UnsupportedFeatureError",
    "Versioned",
    "__version__",
    "default_catalog",
    "export_catalog_metadata",
    "get_s3_storage_options",
    "load_catalog",
    "register_static_table",
    "table",
]
